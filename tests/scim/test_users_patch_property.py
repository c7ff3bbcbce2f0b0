"""Property: random PATCH sequences never yield a 500, a failed PATCH changes nothing, and GET
always returns exactly what the last successful write answered — values byte for byte."""

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.scim.support import BLINK, ENTERPRISE, PATCH_OP, create

_counter = itertools.count()

# Any unicode but lone surrogates (not representable in JSON); NUL included: it must be a 400.
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)

SIMPLE_PATHS = [
    "title",
    "displayName",
    "nickName",
    "name.givenName",
    "name.familyName",
    f"{ENTERPRISE}:department",
    f"{ENTERPRISE}:employeeNumber",
    f"{BLINK}:company",
    f"{BLINK}:location",
    'emails[type eq "work"].value',
    'phoneNumbers[type eq "mobile"].value',
    'phoneNumbers[type eq "work"].value',
]

op_name = st.sampled_from(["add", "Add", "replace", "Replace", "remove", "Remove"])
well_formed = st.one_of(
    st.builds(
        lambda op, path, value: {"op": op, "path": path, "value": value},
        op_name,
        st.sampled_from(SIMPLE_PATHS),
        text,
    ),
    st.builds(
        lambda op, value: {"op": op, "path": "active", "value": value},
        st.sampled_from(["replace", "Replace", "add"]),
        st.sampled_from([True, False, "True", "False", "true", "false"]),
    ),
    st.builds(
        lambda key, value: {"op": "replace", "value": {key: value}},
        st.sampled_from(SIMPLE_PATHS[:8]),
        text,
    ),
    st.builds(lambda value: {"op": "add", "path": "roles", "value": [{"value": value}]}, text),
)
garbage = st.builds(
    lambda op, path, value: {"op": op, "path": path, "value": value},
    st.one_of(op_name, text),
    st.one_of(
        st.none(),
        text,
        st.sampled_from(["userName", "id", "emails[", "manager", "roles[value eq 1]", "urn:x"]),
    ),
    st.recursive(
        st.none() | st.booleans() | st.integers() | text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
        max_leaves=6,
    ),
)


def _expected(operation: dict[str, Any]) -> tuple[str, Any] | None:
    """(path, value) a successful well-formed add/replace must read back exactly."""
    op = operation["op"].lower()
    if op == "remove" or operation.get("path") == "roles":
        return None
    if "path" not in operation:
        [(path, value)] = operation["value"].items()
        return path, value
    return operation["path"], operation["value"]


def _read(resource: dict[str, Any], path: str) -> Any:
    if path.startswith("urn:"):
        urn, _, name = path.rpartition(":")
        return resource.get(urn, {}).get(name)
    if "[" in path:
        attribute, kind = path.split("[")[0], path.split('"')[1]
        return next(
            (e.get("value") for e in resource.get(attribute, []) if e.get("type") == kind), None
        )
    if "." in path:
        outer, inner = path.split(".")
        return resource.get(outer, {}).get(inner)
    return resource.get(path)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    operations=st.lists(
        st.one_of(
            well_formed.map(lambda op: (True, op)),
            well_formed.map(lambda op: (True, op)),
            garbage.map(lambda op: (False, op)),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_random_patches(scim: TestClient, operations: list[tuple[bool, dict[str, Any]]]) -> None:
    user = create(scim, f"prop{next(_counter)}@contoso.com")
    last = user
    for checked, operation in operations:
        response = scim.patch(
            f"/scim/Users/{user['id']}", json={"schemas": [PATCH_OP], "Operations": [operation]}
        )
        assert response.status_code in (200, 400, 409), response.text
        if response.status_code == 409:  # a userName an earlier example renamed a user to
            assert response.json()["scimType"] == "uniqueness"
        elif response.status_code == 200:
            last = response.json()
            expected = _expected(operation)
            if checked and expected is not None:
                path, value = expected
                if path == "active":
                    assert last["active"] is (str(value).lower() == "true")
                else:
                    assert _read(last, path) == value
        else:
            assert response.json()["status"] == "400"
        assert scim.get(f"/scim/Users/{user['id']}").json() == last
