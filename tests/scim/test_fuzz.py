"""schemathesis against /scim/openapi.json, through the ASGI app with a real store.

A fixed budget (``EXAMPLES`` per operation, a derandomised Hypothesis run, no example
database) keeps it to seconds per backend. Every answer must be: below 500; of the media
type and schema the description gives; for a failure an RFC 7644 Error body whose status is
the HTTP status and whose scimType is one RFC 7644 defines; and a failed write must leave the
store as it was.
"""

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from starlette.testclient import TestClient

from scim.errors import ERROR_SCHEMA, ScimType
from tests.scim.support import create

EXAMPLES = 12
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SCIM_TYPES = {kind.value for kind in ScimType}


def _snapshot(scim: TestClient) -> Any:
    users = scim.get("/scim/Users", params={"count": 1000}).json()
    groups = scim.get("/scim/Groups", params={"count": 1000}).json()
    return users, groups


def _check_error_body(response: Any) -> None:
    assert response.headers["content-type"] == "application/scim+json", response.text
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(response.status_code)
    assert body.get("scimType", "invalidValue") in SCIM_TYPES
    assert isinstance(body["detail"], str)
    assert body["detail"] != "internal server error"


def test_the_scim_api_survives_schemathesis(scim: TestClient) -> None:
    document = scim.get("/scim/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    user = create(scim, "fuzz.target@contoso.com", title="kept")
    group = scim.post(
        "/scim/Groups", json={"displayName": "Fuzz", "members": [{"value": user["id"]}]}
    ).json()
    known_ids = {"/Users/{id}": user["id"], "/Groups/{id}": group["id"]}
    headers = {key: value for key, value in scim.headers.items() if key == "authorization"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 20
    exercised: dict[str, int] = {}

    for operation in operations:
        strategy = operation.as_strategy()
        if operation.path in known_ids:
            pinned = operation.as_strategy(path_parameters={"id": known_ids[operation.path]})
            strategy = st.one_of(pinned, strategy)
        run = _runner(scim, operation.method.upper(), strategy, headers, exercised)
        run()
    # every operation was really called, and some calls succeeded
    assert len(exercised) == 20
    assert sum(exercised.values()) > 0


def _runner(
    scim: TestClient,
    method: str,
    strategy: st.SearchStrategy[Any],
    headers: dict[str, str],
    exercised: dict[str, int],
) -> Callable[[], None]:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        before = _snapshot(scim) if method in WRITES else None
        kwargs = case.as_transport_kwargs(base_url="http://testserver/scim", headers=headers)
        response = scim.request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params"),
            headers=kwargs["headers"],
            json=kwargs.get("json"),
            content=kwargs.get("data"),
        )
        key = f"{method} {case.operation.path}"
        exercised[key] = exercised.get(key, 0) + (response.status_code < 300)
        assert response.status_code < 500, response.text
        case.validate_response(
            response,
            checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
        )
        if response.status_code >= 400:
            _check_error_body(response)
            if before is not None:
                after = _snapshot(scim)
                assert after == before, (kwargs, response.status_code, response.text, after)

    return run


@pytest.mark.parametrize("path", ["/scim/Users", "/scim/Groups"])
def test_the_description_covers_what_the_server_answers(scim: TestClient, path: str) -> None:
    """A hand-made resource of each type validates against its response schema."""
    document = scim.get("/scim/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    body = (
        {"userName": "shape@contoso.com", "active": "True", "name": {"givenName": "S"}}
        if path.endswith("Users")
        else {"displayName": "Shape"}
    )
    created = scim.post(path, json=body)
    assert created.status_code == 201
    operation = schema[path.removeprefix("/scim")]["POST"]
    case = operation.Case(body=body, media_type="application/scim+json")
    case.validate_response(created, checks=[response_schema_conformance])
