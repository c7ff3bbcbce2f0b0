"""Property: no body and no query string makes /Users answer 500 or lose stored data."""

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.scim.support import BLINK, ENTERPRISE, create

_counter = itertools.count()
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=10)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
keys = st.one_of(
    text,
    st.sampled_from(
        [
            "userName",
            "active",
            "emails",
            "name",
            "manager",
            "roles",
            "phoneNumbers",
            "schemas",
            ENTERPRISE,
            BLINK,
            "meta",
            "id",
        ]
    ),
)
bodies = st.dictionaries(keys, json_values, max_size=5)
parameters = st.dictionaries(
    st.sampled_from(
        ["filter", "startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes"]
    ),
    text,
    max_size=4,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies, params=parameters)
def test_bad_input_is_never_a_500(
    scim: TestClient, body: dict[str, Any], params: dict[str, str]
) -> None:
    user = create(scim, f"fuzz{next(_counter)}@contoso.com", title="kept")
    created = scim.post("/scim/Users", json=body)
    assert created.status_code in (201, 400, 409), created.text
    replaced = scim.put(f"/scim/Users/{user['id']}", json=body)
    assert replaced.status_code in (200, 400, 409), replaced.text
    if replaced.status_code != 200:
        assert scim.get(f"/scim/Users/{user['id']}").json() == user
    listed = scim.get("/scim/Users", params=params)
    assert listed.status_code in (200, 400), listed.text
