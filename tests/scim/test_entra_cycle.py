"""Every request shape of ``entra-scim-dialect.md``, one test each, in cycle order."""

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import TenantTokens
from tests.scim.support import (
    BLINK,
    CORE,
    ENTERPRISE,
    LIST_RESPONSE,
    assert_error,
    create,
    patch,
    patched,
)

ENTRA_CREATE: dict[str, Any] = {
    "schemas": [CORE, ENTERPRISE],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_00aa00aa@contoso.com",
    "active": True,
    "emails": [{"primary": True, "type": "work", "value": "Test_User_11bb11bb@testuser.com"}],
    "meta": {"resourceType": "User"},
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName",
    },
    "roles": [],
}


# -- transport ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content_type",
    ["application/scim+json", "application/scim+json; charset=utf-8", "application/json"],
)
def test_content_types_and_no_accept_header(scim: TestClient, content_type: str) -> None:
    response = scim.post(
        "/scim/Users",
        content=b'{"userName": "ct@contoso.com"}',
        headers={"Content-Type": content_type, "Accept": ""},
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/scim+json"


@pytest.mark.parametrize("prefix", ["/scim", "/scim/v2"])
def test_routes_are_served_under_both_prefixes(scim: TestClient, prefix: str) -> None:
    created = scim.post(f"{prefix}/Users", json={"userName": "both@contoso.com"})
    assert created.status_code == 201
    assert created.headers["location"] == f"http://testserver{prefix}/Users/{created.json()['id']}"
    assert scim.get(f"{prefix}/Users/{created.json()['id']}").status_code == 200


def test_plus_encoded_filter_and_unknown_parameters(scim: TestClient) -> None:
    user = create(scim, "abc")
    response = scim.get("/scim/Users?filter=userName+eq+%22abc%22&aadOptscim062020")
    assert response.status_code == 200
    assert [found["id"] for found in response.json()["Resources"]] == [user["id"]]


def test_wrong_token_is_401_scim_error(client: TestClient, tenant: TenantTokens) -> None:
    response = client.get("/scim/Users", headers={"Authorization": "Bearer bdir_wrong"})
    assert_error(response, 401)


# -- 1. Test Connection ------------------------------------------------------------------------
def test_test_connection_finds_nothing(scim: TestClient) -> None:
    response = scim.get(
        "/scim/Users", params={"filter": 'userName eq "5f3c7ad1-84c2-4c6e-9b56-9d7c9d7a1f11"'}
    )
    assert response.status_code == 200
    assert response.json() == {
        "schemas": [LIST_RESPONSE],
        "totalResults": 0,
        "Resources": [],
        "startIndex": 1,
        "itemsPerPage": 0,
    }


# -- 2. Schema discovery -----------------------------------------------------------------------
def test_schemas_list_every_mapped_attribute(scim: TestClient) -> None:
    schemas = {schema["id"]: schema for schema in scim.get("/scim/Schemas").json()["Resources"]}
    names = {
        urn: {attribute["name"] for attribute in schemas[urn]["attributes"]} for urn in schemas
    }
    assert {"userName", "active", "title", "emails", "name", "phoneNumbers"} <= names[CORE]
    assert {"department", "employeeNumber", "manager"} <= names[ENTERPRISE]
    assert names[BLINK] == {"company", "description", "location"}


# -- 3. Match ----------------------------------------------------------------------------------
def test_match_on_username_is_case_insensitive_and_finds_disabled_users(scim: TestClient) -> None:
    user = create(scim, "Alice@Contoso.com", active=False)
    response = scim.get("/scim/Users", params={"filter": 'userName eq "alice@contoso.com"'})
    assert response.json()["totalResults"] == 1
    assert response.json()["Resources"][0] == scim.get(f"/scim/Users/{user['id']}").json()
    assert response.json()["Resources"][0]["active"] is False


def test_match_on_external_id(scim: TestClient) -> None:
    user = create(scim, "ext@contoso.com", externalId="0a21f0f2")
    response = scim.get("/scim/Users", params={"filter": 'externalId eq "0a21f0f2"'})
    assert [found["id"] for found in response.json()["Resources"]] == [user["id"]]
    assert (
        scim.get("/scim/Users", params={"filter": 'externalId eq "0A21F0F2"'}).json()[
            "totalResults"
        ]
        == 0
    )


# -- 4. Create ---------------------------------------------------------------------------------
def test_create_exactly_as_entra_sends_it(scim: TestClient) -> None:
    response = scim.post("/scim/Users", json=ENTRA_CREATE)
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == body["meta"]["location"]
    assert body["meta"]["location"] == f"http://testserver/scim/Users/{body['id']}"
    assert body["meta"]["resourceType"] == "User"
    assert body["meta"]["created"] == body["meta"]["lastModified"]
    assert response.headers["etag"] == body["meta"]["version"]
    assert body["schemas"] == [CORE]
    for key in ("externalId", "userName", "emails", "name"):
        assert body[key] == ENTRA_CREATE[key]
    assert body["active"] is True
    assert "roles" not in body
    assert scim.get(f"/scim/Users/{body['id']}").json() == body


@pytest.mark.parametrize(
    "tolerated",
    [
        {"addresses": None},
        {"manager": None},
        {"meta": {"resourceType": "User", "created": "2001-01-01T00:00:00Z"}},
        {"active": "True"},
        {"schemas": [CORE, "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"]},
        {BLINK: {"company": "Contoso", "location": "Paris"}},
        {"urn:ietf:params:scim:schemas:extension:enterprise:2.0User": {"department": "Sales"}},
    ],
)
def test_create_tolerates_entra_quirks(scim: TestClient, tolerated: dict[str, Any]) -> None:
    response = scim.post("/scim/Users", json={**ENTRA_CREATE, **tolerated})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["active"] is True
    assert body["meta"]["created"] != "2001-01-01T00:00:00Z"
    if BLINK in tolerated:
        assert body[BLINK] == {"company": "Contoso", "location": "Paris"}
        assert BLINK in body["schemas"]
    if "urn:ietf:params:scim:schemas:extension:enterprise:2.0User" in tolerated:
        assert body[ENTERPRISE] == {"department": "Sales"}


def test_create_duplicate_username_any_case_is_409(scim: TestClient) -> None:
    assert scim.post("/scim/Users", json=ENTRA_CREATE).status_code == 201
    again = {**ENTRA_CREATE, "userName": ENTRA_CREATE["userName"].upper()}
    assert_error(scim.post("/scim/Users", json=again), 409, "uniqueness")


def test_create_without_username_is_400(scim: TestClient) -> None:
    body = {key: value for key, value in ENTRA_CREATE.items() if key != "userName"}
    assert_error(scim.post("/scim/Users", json=body), 400)
    assert scim.get("/scim/Users").json()["totalResults"] == 0


# -- 5. Manager link ---------------------------------------------------------------------------
def _manager_forms(manager_id: str) -> list[dict[str, Any]]:
    return [
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": manager_id},
        {"op": "add", "path": f"{ENTERPRISE}:manager", "value": {"value": manager_id}},
        {
            "op": "Add",
            "path": "manager",
            "value": [{"$ref": f"https://host/scim/Users/{manager_id}", "value": manager_id}],
        },
    ]


@pytest.mark.parametrize("form", [0, 1, 2])
def test_manager_link(scim: TestClient, form: int) -> None:
    boss = create(scim, "boss@contoso.com", displayName="The Boss")
    user = create(scim, "report@contoso.com")
    body = patched(scim, user["id"], _manager_forms(boss["id"])[form])
    assert body[ENTERPRISE] == {
        "manager": {
            "value": boss["id"],
            "$ref": f"http://testserver/scim/Users/{boss['id']}",
            "displayName": "The Boss",
        }
    }
    assert ENTERPRISE in body["schemas"]


# -- 6. Incremental update ---------------------------------------------------------------------
def test_incremental_update(scim: TestClient) -> None:
    user = scim.post("/scim/Users", json=ENTRA_CREATE).json()
    body = patched(
        scim,
        user["id"],
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updated@contoso.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Retail"},
        {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 555 0100"},
    )
    assert body["emails"] == [{"primary": True, "type": "work", "value": "updated@contoso.com"}]
    assert body["name"]["familyName"] == "updatedFamilyName"
    assert body["name"]["givenName"] == "givenName"
    assert body[ENTERPRISE] == {"department": "Retail"}
    assert body["phoneNumbers"] == [{"type": "mobile", "value": "+1 555 0100"}]
    assert body["meta"]["version"] != user["meta"]["version"]


def test_get_of_a_deleted_user_is_404_scim_error(scim: TestClient) -> None:
    assert_error(scim.get("/scim/Users/00000000-0000-0000-0000-000000000000"), 404)


# -- 7. Disable / re-enable --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("off", "on"),
    [
        (
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Replace", "path": "active", "value": "True"},
        ),
        (
            {"op": "replace", "path": "active", "value": False},
            {"op": "replace", "path": "active", "value": True},
        ),
    ],
)
def test_disable_and_reenable(scim: TestClient, off: dict[str, Any], on: dict[str, Any]) -> None:
    user = create(scim, "toggle@contoso.com", active=True)
    assert patched(scim, user["id"], off)["active"] is False
    assert patched(scim, user["id"], on)["active"] is True


# -- 8. Path-less replace ----------------------------------------------------------------------
def test_pathless_replace_with_dotted_and_urn_keys(scim: TestClient) -> None:
    user = create(scim, "pathless@contoso.com", name={"givenName": "Old", "familyName": "Name"})
    body = patched(
        scim,
        user["id"],
        {
            "op": "replace",
            "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                f"{ENTERPRISE}:employeeNumber": "Aklq",
            },
        },
    )
    assert body["displayName"] == "Bjfe"
    assert body["name"] == {"givenName": "Kkom", "familyName": "Unua"}
    assert body[ENTERPRISE] == {"employeeNumber": "Aklq"}


def test_pathless_replace_of_username(scim: TestClient) -> None:
    user = create(scim, "before@contoso.com")
    body = patched(scim, user["id"], {"op": "replace", "value": {"userName": "after@contoso.com"}})
    assert body["userName"] == "after@contoso.com"


# -- 9. Clearing values ------------------------------------------------------------------------
def test_clearing_title_with_empty_string(scim: TestClient) -> None:
    user = create(scim, "title@contoso.com", title="Engineer")
    body = patched(scim, user["id"], {"op": "replace", "path": "title", "value": ""})
    assert body.get("title", "") == ""


def _removals(manager_id: str) -> list[dict[str, Any]]:
    return [
        {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": ""},
        {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": ""}},
        {"op": "Remove", "path": f"{ENTERPRISE}:manager"},
        {"op": "remove", "path": f'manager[value eq "{manager_id}"]'},
        {"op": "Remove", "path": "manager", "value": [{"value": manager_id}]},
    ]


@pytest.mark.parametrize("form", range(5))
def test_manager_removal(scim: TestClient, form: int) -> None:
    boss = create(scim, "boss2@contoso.com")
    user = create(
        scim,
        "report2@contoso.com",
        **{ENTERPRISE: {"manager": {"value": boss["id"]}, "department": "R&D"}},
    )
    assert user[ENTERPRISE]["manager"]["value"] == boss["id"]
    body = patched(scim, user["id"], _removals(boss["id"])[form])
    assert body[ENTERPRISE] == {"department": "R&D"}


# -- 10. Delete --------------------------------------------------------------------------------
def test_delete_twice(scim: TestClient) -> None:
    user = create(scim, "gone@contoso.com")
    assert scim.delete(f"/scim/Users/{user['id']}").status_code == 204
    assert_error(scim.delete(f"/scim/Users/{user['id']}"), 404)
    assert_error(scim.get(f"/scim/Users/{user['id']}"), 404)


# -- other quirks ------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["ADD", "Add", "add", "aDd"])
def test_op_is_case_insensitive(scim: TestClient, op: str) -> None:
    user = create(scim, f"{op}@contoso.com")
    assert (
        patched(scim, user["id"], {"op": op, "path": "nickName", "value": "Nick"})["nickName"]
        == "Nick"
    )


def test_roles_as_json_string_inside_value(scim: TestClient) -> None:
    user = create(scim, "roles@contoso.com")
    role = '{"id":"5c9bd1c6","value":"25","displayName":"Admin"}'
    body = patched(scim, user["id"], {"op": "Add", "path": "roles", "value": [{"value": role}]})
    assert body["roles"] == [{"id": "5c9bd1c6", "value": "25", "displayName": "Admin"}]


def test_validator_pages_eleven_users_by_five(scim: TestClient) -> None:
    created = {create(scim, f"page{index:02}@contoso.com")["id"] for index in range(11)}
    seen: list[str] = []
    for start in (1, 6, 11):
        page = scim.get("/scim/Users", params={"startIndex": start, "count": 5}).json()
        assert page["totalResults"] == 11
        assert page["startIndex"] == start
        assert page["itemsPerPage"] == len(page["Resources"]) == (5 if start < 11 else 1)
        seen += [user["id"] for user in page["Resources"]]
    assert sorted(seen) == sorted(created)


def test_no_if_match_header_is_needed(scim: TestClient) -> None:
    user = create(scim, "noetag@contoso.com")
    assert (
        patch(scim, user["id"], {"op": "add", "path": "title", "value": "CTO"}).status_code == 200
    )


def test_match_on_work_email(scim: TestClient) -> None:
    user = scim.post("/scim/Users", json=ENTRA_CREATE).json()
    response = scim.get(
        "/scim/Users",
        params={"filter": 'emails[type eq "work"].value eq "test_user_11bb11bb@testuser.com"'},
    )
    assert [found["id"] for found in response.json()["Resources"]] == [user["id"]]
