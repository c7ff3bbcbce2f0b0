"""POST/GET/PUT/DELETE /Users: attributes stored exactly, references checked, tenants apart."""

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from db.database import Database
from db.org_changes import org_version
from db.tables import group_members, groups
from db.tenants import get_tenant
from db.types import utcnow
from tests.conftest import TenantTokens
from tests.scim.support import BLINK, CORE, ENTERPRISE, assert_error, create, patch

#: The seed's attribute table, with values Entra must get back byte for byte.
SEED_USER: dict[str, Any] = {
    "schemas": [CORE, ENTERPRISE, BLINK],
    "userName": "  Ünïcode.User+tag@Contoso.COM ",
    "active": False,
    "title": "Senior  Engineer\t(remote)",
    "externalId": "AbC-0042",
    "name": {"givenName": "Zoë", "familyName": "O'Brien-Łukasz"},
    "emails": [{"type": "work", "value": "Zoe.OBrien@Contoso.COM", "primary": True}],
    "phoneNumbers": [
        {"type": "work", "value": "+1 (425) 555-0100 ext. 7"},
        {"type": "mobile", "value": "0044 7700 900123"},
    ],
    ENTERPRISE: {"department": "R&D / Platform", "employeeNumber": "000123"},
    BLINK: {"company": "Contoso Ltd.", "description": "Line 1\nLine 2", "location": "Paris 🇫🇷"},
}

#: Every other RFC 7643 User attribute.
OTHER_ATTRIBUTES: dict[str, Any] = {
    "displayName": "Zoë O'Brien",
    "nickName": "Zo",
    "profileUrl": "https://contoso.example/zoe",
    "userType": "Employee",
    "preferredLanguage": "fr-FR",
    "locale": "fr-FR",
    "timezone": "Europe/Paris",
    "emails": [
        {"type": "home", "value": "zoe@example.org"},
        {"type": "work", "value": "zoe@contoso.com", "primary": True, "display": "Work"},
        {"type": "other", "value": "z@other.example"},
    ],
    "phoneNumbers": [{"type": "fax", "value": "+33 1 23 45 67 89"}],
    "ims": [{"type": "skype", "value": "zoe.obrien"}],
    "photos": [{"type": "photo", "value": "https://photos.example/zoe.jpg"}],
    "addresses": [
        {
            "type": "work",
            "streetAddress": "1 Rue de Rivoli",
            "locality": "Paris",
            "postalCode": "75001",
            "country": "FR",
            "formatted": "1 Rue de Rivoli\n75001 Paris",
            "primary": True,
        }
    ],
    "roles": [{"value": "admin", "display": "Administrator", "primary": False}],
    "entitlements": [{"value": "premium"}],
    "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"}],
    ENTERPRISE: {"costCenter": "4130", "organization": "Contoso", "division": "Cloud"},
}


def _without_meta(resource: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in resource.items() if key not in ("id", "meta", "schemas")}


def test_seed_attributes_round_trip_byte_for_byte(scim: TestClient) -> None:
    body = scim.post("/scim/Users", json=SEED_USER).json()
    fetched = scim.get(f"/scim/Users/{body['id']}").json()
    assert fetched == body
    assert _without_meta(fetched) == {k: v for k, v in SEED_USER.items() if k != "schemas"}
    assert fetched["schemas"] == [CORE, ENTERPRISE, BLINK]


def test_every_other_rfc_attribute_is_accepted_and_returned(scim: TestClient) -> None:
    body = scim.post("/scim/Users", json={"userName": "all@contoso.com", **OTHER_ATTRIBUTES}).json()
    fetched = scim.get(f"/scim/Users/{body['id']}").json()
    assert _without_meta(fetched) == {
        "userName": "all@contoso.com",
        **OTHER_ATTRIBUTES,
    }


def test_password_is_never_returned(scim: TestClient) -> None:
    body = scim.post(
        "/scim/Users", json={"userName": "pw@contoso.com", "password": "s3cret!"}
    ).json()
    assert "password" not in body
    patched = patch(scim, body["id"], {"op": "replace", "path": "password", "value": "n3w!"})
    assert patched.status_code == 200
    assert "s3cret" not in scim.get(f"/scim/Users/{body['id']}").text
    assert "n3w" not in patched.text


def test_string_booleans_become_json_booleans(scim: TestClient) -> None:
    body = scim.post(
        "/scim/Users",
        json={
            "userName": "bool@contoso.com",
            "active": "False",
            "emails": [{"type": "work", "value": "b@contoso.com", "primary": "true"}],
        },
    ).json()
    assert body["active"] is False
    assert body["emails"][0]["primary"] is True


@pytest.mark.parametrize(
    "body",
    [
        {
            "userName": "u@contoso.com",
            "urn:example:params:scim:schemas:extension:acme:1.0:User": {"x": "y"},
        },
        {"userName": "u@contoso.com", "schemas": [CORE, "urn:example:unknown"]},
    ],
)
def test_unknown_urn_is_invalid_syntax(scim: TestClient, body: dict[str, Any]) -> None:
    assert_error(scim.post("/scim/Users", json=body), 400, "invalidSyntax")


@pytest.mark.parametrize(
    "body",
    [
        {"userName": 42},
        {"userName": "u@contoso.com", "active": "maybe"},
        {"userName": "u@contoso.com", "title": ["a"]},
        {"userName": "u@contoso.com", "name": "Zoë"},
        {"userName": "u@contoso.com", "emails": [{"value": 1}]},
        {"userName": ""},
    ],
)
def test_badly_typed_values_are_400(scim: TestClient, body: dict[str, Any]) -> None:
    assert_error(scim.post("/scim/Users", json=body), 400, "invalidValue")


def test_unknown_attribute_is_400(scim: TestClient) -> None:
    assert_error(scim.post("/scim/Users", json={"userName": "u", "shoeSize": "9"}), 400)


def test_put_replaces_and_ignores_read_only_attributes(scim: TestClient) -> None:
    boss = create(scim, "boss@contoso.com")
    user = scim.post(
        "/scim/Users",
        json={**SEED_USER, ENTERPRISE: {"department": "Sales", "manager": {"value": boss["id"]}}},
    ).json()
    replacement = {
        "schemas": [CORE],
        "id": "something-else",
        "meta": {"version": 'W/"999"', "created": "1999-01-01T00:00:00Z"},
        "userName": "renamed@contoso.com",
        "nickName": "New",
    }
    response = scim.put(f"/scim/Users/{user['id']}", json=replacement)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user["id"]
    assert body["meta"]["created"] == user["meta"]["created"]
    assert _without_meta(body) == {
        "userName": "renamed@contoso.com",
        "nickName": "New",
    }
    assert scim.get(f"/scim/Users/{user['id']}").json() == body


def test_put_of_unknown_user_is_404(scim: TestClient) -> None:
    assert_error(scim.put("/scim/Users/nope", json={"userName": "x"}), 404)


def test_duplicate_username_on_put_and_patch_is_409(scim: TestClient) -> None:
    create(scim, "taken@contoso.com")
    other = create(scim, "free@contoso.com")
    assert_error(
        scim.put(f"/scim/Users/{other['id']}", json={"userName": "TAKEN@contoso.com"}),
        409,
        "uniqueness",
    )
    response = patch(
        scim, other["id"], {"op": "replace", "path": "userName", "value": "Taken@Contoso.com"}
    )
    assert_error(response, 409, "uniqueness")
    assert scim.get(f"/scim/Users/{other['id']}").json() == other


def test_unknown_manager_is_400_and_nothing_changes(scim: TestClient) -> None:
    user = create(scim, "m@contoso.com", title="Before")
    response = patch(
        scim,
        user["id"],
        {"op": "replace", "path": "title", "value": "After"},
        {"op": "add", "path": f"{ENTERPRISE}:manager", "value": "00000000-no-such-user"},
    )
    assert_error(response, 400, "invalidValue")
    assert scim.get(f"/scim/Users/{user['id']}").json() == user
    response = scim.post("/scim/Users", json={"userName": "n@contoso.com", "manager": "nobody"})
    assert_error(response, 400, "invalidValue")


def test_manager_of_another_tenant_is_400(
    scim: TestClient, make_tenant: Callable[[str], TenantTokens]
) -> None:
    other = make_tenant("globex")
    stranger = scim.post(
        "/scim/Users", json={"userName": "stranger@globex.com"}, headers=other.scim_headers()
    ).json()
    user = create(scim, "local@contoso.com")
    response = patch(scim, user["id"], {"op": "add", "path": "manager", "value": stranger["id"]})
    assert_error(response, 400, "invalidValue")


def test_manager_loops_are_stored_as_sent(scim: TestClient) -> None:
    alice = create(scim, "alice@contoso.com")
    bob = create(scim, "bob@contoso.com", manager=alice["id"])
    assert (
        patch(scim, alice["id"], {"op": "add", "path": "manager", "value": bob["id"]}).status_code
        == 200
    )
    assert (
        scim.get(f"/scim/Users/{alice['id']}").json()[ENTERPRISE]["manager"]["value"] == bob["id"]
    )
    assert (
        scim.get(f"/scim/Users/{bob['id']}").json()[ENTERPRISE]["manager"]["value"] == alice["id"]
    )
    selfish = create(scim, "self@contoso.com")
    assert (
        patch(
            scim, selfish["id"], {"op": "add", "path": "manager", "value": selfish["id"]}
        ).status_code
        == 200
    )
    assert (
        scim.get(f"/scim/Users/{selfish['id']}").json()[ENTERPRISE]["manager"]["value"]
        == selfish["id"]
    )


def test_delete_clears_manager_of_reports_and_memberships(
    scim: TestClient, database: Database, tenant: TenantTokens
) -> None:
    boss = create(scim, "boss@contoso.com")
    report = create(scim, "report@contoso.com", manager=boss["id"], department="Ops")
    tenant_id = database.read_sync(lambda connection: get_tenant(connection, "acme").id)

    def add_group(connection: Any) -> None:
        now = utcnow()
        connection.execute(
            groups.insert().values(
                id="g1",
                tenant_id=tenant_id,
                display_name="Sales",
                created=now,
                last_modified=now,
                version=1,
            )
        )
        connection.execute(group_members.insert().values(group_id="g1", user_id=boss["id"]))
        connection.execute(group_members.insert().values(group_id="g1", user_id=report["id"]))

    database.write_sync(add_group)
    assert scim.delete(f"/scim/Users/{boss['id']}").status_code == 204
    after = scim.get(f"/scim/Users/{report['id']}").json()
    assert after[ENTERPRISE] == {"department": "Ops"}
    assert after["meta"]["version"] != report["meta"]["version"]
    members = database.read_sync(
        lambda connection: connection.execute(group_members.select()).all()
    )
    assert [(row.group_id, row.user_id) for row in members] == [("g1", report["id"])]
    version = database.read_sync(
        lambda connection: connection.execute(groups.select()).one().version
    )
    assert version == 2


def test_org_changing_writes_are_noted(
    scim: TestClient, database: Database, tenant: TenantTokens
) -> None:
    tenant_id = database.read_sync(lambda connection: get_tenant(connection, "acme").id)

    def version() -> int:
        return database.read_sync(lambda connection: org_version(connection, tenant_id))

    start = version()
    boss = create(scim, "boss@contoso.com")
    user = create(scim, "user@contoso.com")
    assert version() == start + 2
    patch(scim, user["id"], {"op": "replace", "path": "title", "value": "No org change"})
    assert version() == start + 2
    patch(scim, user["id"], {"op": "add", "path": "manager", "value": boss["id"]})
    assert version() == start + 3
    patch(scim, user["id"], {"op": "replace", "path": "active", "value": "False"})
    assert version() == start + 4
    scim.delete(f"/scim/Users/{boss['id']}")
    assert version() == start + 5


def test_inactive_users_stay_readable_and_filterable(scim: TestClient) -> None:
    user = create(scim, "off@contoso.com", active=False)
    create(scim, "on@contoso.com", active=True)
    assert scim.get(f"/scim/Users/{user['id']}").json()["active"] is False
    found = scim.get("/scim/Users", params={"filter": "active eq false"}).json()
    assert [item["id"] for item in found["Resources"]] == [user["id"]]


def test_tenants_never_see_each_other(
    scim: TestClient, make_tenant: Callable[[str], TenantTokens]
) -> None:
    user = create(scim, "mine@contoso.com")
    other = make_tenant("globex").scim_headers()
    assert_error(scim.get(f"/scim/Users/{user['id']}", headers=other), 404)
    assert_error(scim.delete(f"/scim/Users/{user['id']}", headers=other), 404)
    assert_error(scim.put(f"/scim/Users/{user['id']}", json={"userName": "x"}, headers=other), 404)
    assert scim.get("/scim/Users", headers=other).json()["totalResults"] == 0
    same_name = scim.post("/scim/Users", json={"userName": "mine@contoso.com"}, headers=other)
    assert same_name.status_code == 201
    assert scim.get(f"/scim/Users/{user['id']}").json() == user


def test_an_id_with_a_nul_character_is_404_not_500(scim: TestClient) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = scim.request(method, "/scim/v2/Users/a%00b", json={})
        assert response.status_code == 404, method
        assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
