"""The malformed SCIM requests of issue 16, kept as regression tests.

Each is answered with a 4xx RFC 7644 Error body (application/scim+json, schemas, status,
the scimType where one applies), never a 5xx, and leaves the store as it was.
"""

from typing import Any

import pytest
from starlette.testclient import TestClient

from scim.input_limits import MAX_PATCH_OPERATIONS, MAX_VALUES
from tests.scim.support import BLINK, ENTERPRISE, PATCH_OP, assert_error, create, patch

DEEP = 316
PARENTHESISED = "(" * DEEP + 'type eq "work"' + ")" * DEEP


def _snapshot(scim: TestClient) -> tuple[Any, Any]:
    users = scim.get("/scim/Users", params={"count": 1000}).json()["Resources"]
    groups = scim.get("/scim/Groups", params={"count": 1000}).json()["Resources"]
    return users, groups


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("name", []),
        ("name", [{"givenName": "a"}, {"givenName": "b"}]),
        ("name", "bob"),
        ("name", 5),
        ("name", True),
        ("name", {"givenName": 5}),
        ("name", {"givenName": ["a"]}),
        ("emails", "not an object"),
        ("emails", [5]),
        ("emails", [["nested"]]),
        ("emails", [{"value": {"deep": "x"}}]),
        ("emails", [{"primary": "maybe"}]),
        ("active", "yes"),
        ("active", 1),
        ("active", []),
        ("displayName", {"x": 1}),
        ("displayName", 3.5),
        ("title", False),
        ("profileUrl", 7),
        ("externalId", 12),
        ("roles", [{"value": 3}]),
        ("addresses", [{"primary": 2}]),
        (ENTERPRISE, {"manager": []}),
        (ENTERPRISE, {"manager": 12}),
        (ENTERPRISE, {"department": ["Sales"]}),
        (ENTERPRISE, "not an object"),
        (BLINK, {"company": {"name": "x"}}),
    ],
)
def test_a_wrong_json_type_is_invalid_value_naming_the_attribute(
    scim: TestClient, attribute: str, value: Any
) -> None:
    user = create(scim, "kept@contoso.com", title="kept")
    before = _snapshot(scim)
    body = {"userName": "wrong@contoso.com", attribute: value}
    error = assert_error(scim.post("/scim/Users", json=body), 400, "invalidValue")
    named = attribute.rsplit(":", 1)[-1] if attribute in (ENTERPRISE, BLINK) else attribute
    assert named in error["detail"] or attribute in error["detail"], error["detail"]
    assert_error(scim.put(f"/scim/Users/{user['id']}", json=body), 400, "invalidValue")
    if attribute not in (ENTERPRISE, BLINK):
        assert_error(
            patch(scim, user["id"], {"op": "replace", "path": attribute, "value": value}),
            400,
            "invalidValue",
        )
    assert _snapshot(scim) == before


def test_entra_tolerances_are_kept(scim: TestClient) -> None:
    manager = create(scim, "boss@contoso.com")
    user = create(
        scim,
        "entra@contoso.com",
        active="True",
        addresses=None,
        name={"givenName": "Ada", "familyName": None},
        emails=[{"value": "a@contoso.com", "type": "work", "primary": "False"}],
        **{
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0User": {
                "manager": [{"value": manager["id"]}]
            }
        },
    )
    assert user["active"] is True
    assert user["name"] == {"givenName": "Ada"}
    assert user["emails"][0]["primary"] is False
    assert user[ENTERPRISE]["manager"]["value"] == manager["id"]


def test_316_parentheses_in_a_patch_value_filter_are_a_400(scim: TestClient) -> None:
    user = create(scim, "deep@contoso.com", emails=[{"value": "a@contoso.com", "type": "work"}])
    for op in ("add", "replace", "remove"):
        response = patch(
            scim,
            user["id"],
            {"op": op, "path": f"emails[{PARENTHESISED}].value", "value": "b@contoso.com"},
        )
        assert_error(response, 400, "invalidPath")
    group = scim.post("/scim/Groups", json={"displayName": "Deep"}).json()
    path = "members[" + "(" * DEEP + f'value eq "{user["id"]}"' + ")" * DEEP + "]"
    response = scim.patch(
        f"/scim/Groups/{group['id']}",
        json={"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": path}]},
    )
    assert_error(response, 400, "invalidPath")
    assert scim.get(f"/scim/Users/{user['id']}").json() == user


@pytest.mark.parametrize("endpoint", ["/scim/Users", "/scim/Groups"])
def test_filters_nested_too_deep_are_invalid_filter(scim: TestClient, endpoint: str) -> None:
    text = "(" * DEEP + 'displayName eq "x"' + ")" * DEEP
    assert_error(scim.get(endpoint, params={"filter": text}), 400, "invalidFilter")
    assert_error(scim.post(f"{endpoint}/.search", json={"filter": text}), 400, "invalidFilter")


@pytest.mark.parametrize("endpoint", ["/scim/Users", "/scim/Groups"])
def test_filters_over_the_length_limit_are_refused_alike(scim: TestClient, endpoint: str) -> None:
    attribute = "userName" if endpoint.endswith("Users") else "displayName"
    long_filter = f'{attribute} eq "{"x" * 100_000}"'
    body = {"filter": long_filter}
    for response in (
        scim.post(f"{endpoint}/.search", json=body),
        scim.post("/scim/.search", json=body),
        scim.get(endpoint, params={"filter": f'{attribute} eq "{"x" * 5_000}"'}),
    ):
        error = assert_error(response, 400, "invalidFilter")
        assert "longer than 4096" in error["detail"]
    fits = f'{attribute} eq "{"x" * 4_000}"'
    assert scim.post(f"{endpoint}/.search", json={"filter": fits}).status_code == 200


def test_a_json_body_nested_too_deep_is_invalid_syntax(scim: TestClient) -> None:
    body = b'{"userName": "deep@contoso.com", "roles": ' + b"[" * 961 + b"]" * 961 + b"}"
    error = assert_error(scim.post("/scim/Users", content=body), 400, "invalidSyntax")
    assert "nested" in error["detail"]
    assert scim.get("/scim/Users").json()["totalResults"] == 0


def test_too_many_patch_operations_are_413(scim: TestClient) -> None:
    user = create(scim, "ops@contoso.com", title="kept")
    operation = {"op": "replace", "path": "title", "value": "t"}
    response = scim.patch(
        f"/scim/Users/{user['id']}",
        json={"schemas": [PATCH_OP], "Operations": [operation] * (MAX_PATCH_OPERATIONS + 1)},
    )
    error = assert_error(response, 413)
    assert str(MAX_PATCH_OPERATIONS) in error["detail"]
    assert scim.get(f"/scim/Users/{user['id']}").json() == user


def test_too_many_values_in_one_attribute_are_invalid_value(scim: TestClient) -> None:
    roles = [{"value": "r"}] * (MAX_VALUES + 1)
    error = assert_error(
        scim.post("/scim/Users", json={"userName": "many@contoso.com", "roles": roles}),
        400,
        "invalidValue",
    )
    assert "roles" in error["detail"]
    members = [{"value": "u"}] * (MAX_VALUES + 1)
    error = assert_error(
        scim.post("/scim/Groups", json={"displayName": "Many", "members": members}),
        400,
        "invalidValue",
    )
    assert "members" in error["detail"]
    assert _snapshot(scim) == ([], [])


@pytest.mark.parametrize(
    "body",
    [
        b'{"userName": "\\ud800@contoso.com"}',
        b'{"userName": "a@contoso.com", "title": "\\udfff"}',
        b"null",
        b"123",
        b'"text"',
        b"true",
        b"[]",
    ],
)
def test_bodies_json_cannot_take_are_invalid_syntax(scim: TestClient, body: bytes) -> None:
    assert_error(scim.post("/scim/Users", content=body), 400, "invalidSyntax")
    assert_error(scim.post("/scim/Groups", content=body), 400, "invalidSyntax")
    assert scim.get("/scim/Users").json()["totalResults"] == 0
