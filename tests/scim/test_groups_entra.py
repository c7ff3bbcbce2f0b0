"""Every group request shape in the Entra dialect reference, in provisioning order."""

import pytest
from starlette.testclient import TestClient

from db.database import Database
from tests.conftest import TenantTokens
from tests.directory_rows import count_statements
from tests.scim.groups_support import (
    ENTRA_GROUP_SCHEMA,
    GROUP_SCHEMA,
    member_ids,
    members,
    patch,
)
from tests.scim.groups_support import (
    make_users as _make_users,
)


@pytest.fixture
def user_ids(database: Database, tenant: TenantTokens) -> list[str]:
    return _make_users(database, tenant.slug, 6)


def _create(scim: TestClient, name: str = "Sales", **extra: object) -> dict[str, object]:
    response = scim.post(
        "/scim/Groups",
        json={
            "schemas": [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": name,
            **extra,
        },
        headers={"Content-Type": "application/scim+json"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def _get(scim: TestClient, group_id: object, query: str = "") -> dict[str, object]:
    response = scim.get(f"/scim/Groups/{group_id}{query}")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_lookup_before_create_finds_nothing(scim: TestClient) -> None:
    response = scim.get("/scim/Groups?excludedAttributes=members&filter=displayName+eq+%22Sales%22")
    assert response.status_code == 200
    assert response.json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "Resources": [],
        "startIndex": 1,
        "itemsPerPage": 0,
    }


def test_create_answers_201_with_empty_members(scim: TestClient) -> None:
    response = scim.post(
        "/scim/Groups",
        json={
            "schemas": [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA],
            "externalId": "ext-1",
            "displayName": "Sales",
            "meta": {"resourceType": "Group"},
        },
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/scim+json"
    body = response.json()
    assert body["members"] == []
    assert body["displayName"] == "Sales"
    assert body["externalId"] == "ext-1"
    assert body["schemas"] == [GROUP_SCHEMA]
    location = f"http://testserver/scim/Groups/{body['id']}"
    assert response.headers["location"] == location
    assert body["meta"]["location"] == location
    assert body["meta"]["resourceType"] == "Group"
    assert response.headers["etag"] == body["meta"]["version"]


def test_duplicate_display_name_in_any_case_is_409(scim: TestClient) -> None:
    _create(scim, "Sales")
    response = scim.post("/scim/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "SALES"})
    assert response.status_code == 409
    assert response.json()["scimType"] == "uniqueness"


def test_lookup_is_case_insensitive_and_excludes_members(
    scim: TestClient, user_ids: list[str]
) -> None:
    created = _create(scim, "Sales", members=members(*user_ids[:2]))
    response = scim.get("/scim/Groups?excludedAttributes=members&filter=displayName+eq+%22sALES%22")
    body = response.json()
    assert body["totalResults"] == 1
    assert body["Resources"][0]["id"] == created["id"]
    assert "members" not in body["Resources"][0]


def test_read_without_members_never_loads_them(
    scim: TestClient, app: object, user_ids: list[str]
) -> None:
    created = _create(scim, members=members(*user_ids))
    database: Database = scim.app.state.database  # type: ignore[attr-defined]
    with count_statements(*database.engines) as log:
        body = _get(scim, created["id"], "?excludedAttributes=members")
    assert "members" not in body
    assert body["displayName"] == "Sales"
    assert log.count >= 1
    assert not any("group_member" in statement for statement in log.statements)


def test_membership_check(scim: TestClient, user_ids: list[str]) -> None:
    group = _create(scim, members=members(user_ids[0]))
    _create(scim, "Other", members=members(user_ids[1]))
    template = (
        '/scim/Groups?filter=id eq "{}" and members[value eq "{}"]&excludedAttributes=members'
    )
    hit = scim.get(template.format(group["id"], user_ids[0])).json()
    assert hit["totalResults"] == 1
    assert hit["Resources"][0]["id"] == group["id"]
    assert "members" not in hit["Resources"][0]
    miss = scim.get(template.format(group["id"], user_ids[1])).json()
    assert (miss["totalResults"], miss["Resources"]) == (0, [])


def test_rename(scim: TestClient) -> None:
    group = _create(scim)
    response = scim.patch(
        f"/scim/Groups/{group['id']}",
        json=patch({"op": "Replace", "path": "displayName", "value": "New name"}),
    )
    assert response.status_code == 200
    assert response.json()["displayName"] == "New name"
    assert response.json()["meta"]["version"] != group["meta"]["version"]  # type: ignore[index]
    assert _get(scim, group["id"])["displayName"] == "New name"


@pytest.mark.parametrize("op", ["Add", "add"])
def test_add_many_members(scim: TestClient, user_ids: list[str], op: str) -> None:
    group = _create(scim, members=members(user_ids[0]))
    response = scim.patch(
        f"/scim/Groups/{group['id']}",
        json=patch(
            {
                "op": op,
                "path": "members",
                "value": [{"$ref": None, "value": user_ids[1]}, {"value": user_ids[2]}],
            }
        ),
    )
    assert response.status_code == 200
    assert member_ids(response.json()) == sorted(user_ids[:3])
    # Adding existing members again is a no-op, not an error.
    again = scim.patch(
        f"/scim/Groups/{group['id']}",
        json=patch({"op": op, "path": "members", "value": members(*user_ids[:2])}),
    )
    assert again.status_code == 200
    assert member_ids(_get(scim, group["id"])) == sorted(user_ids[:3])


def test_replace_members_makes_the_list_the_membership(
    scim: TestClient, user_ids: list[str]
) -> None:
    group = _create(scim, members=members(*user_ids[:3]))
    response = scim.patch(
        f"/scim/Groups/{group['id']}",
        json=patch({"op": "replace", "path": "members", "value": members(*user_ids[2:5])}),
    )
    assert response.status_code == 200
    assert member_ids(response.json()) == sorted(user_ids[2:5])


def test_legacy_remove_with_value_list_removes_only_those(
    scim: TestClient, user_ids: list[str]
) -> None:
    group = _create(scim, members=members(*user_ids))
    response = scim.patch(
        f"/scim/Groups/{group['id']}",
        json=patch({"op": "Remove", "path": "members", "value": members(user_ids[1])}),
    )
    assert response.status_code == 200
    remaining = sorted(user_ids[:1] + user_ids[2:])
    assert member_ids(response.json()) == remaining
    assert member_ids(_get(scim, group["id"])) == remaining


def test_compliant_remove_of_one_member(scim: TestClient, user_ids: list[str]) -> None:
    group = _create(scim, members=members(*user_ids[:3]))
    response = scim.patch(
        f"/scim/Groups/{group['id']}",
        json=patch({"op": "remove", "path": f'members[value eq "{user_ids[0]}"]'}),
    )
    assert response.status_code == 200
    assert member_ids(_get(scim, group["id"])) == sorted(user_ids[1:3])


def test_remove_members_without_value_removes_all(scim: TestClient, user_ids: list[str]) -> None:
    group = _create(scim, members=members(*user_ids[:3]))
    response = scim.patch(
        f"/scim/Groups/{group['id']}", json=patch({"op": "remove", "path": "members"})
    )
    assert response.status_code == 200
    assert response.json()["members"] == []


def test_pathless_replace(scim: TestClient) -> None:
    group = _create(scim)
    response = scim.patch(
        f"/scim/Groups/{group['id']}",
        json=patch({"op": "replace", "value": {"externalId": "new-ext", "displayName": "Ops"}}),
    )
    assert response.status_code == 200
    body = _get(scim, group["id"])
    assert (body["externalId"], body["displayName"]) == ("new-ext", "Ops")


def test_delete_then_404(scim: TestClient, user_ids: list[str]) -> None:
    group = _create(scim, members=members(*user_ids))
    assert scim.delete(f"/scim/Groups/{group['id']}").status_code == 204
    again = scim.delete(f"/scim/Groups/{group['id']}")
    assert again.status_code == 404
    assert again.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert scim.get(f"/scim/Groups/{group['id']}").status_code == 404


def test_members_are_rendered_with_ref_display_and_type(
    scim: TestClient, database: Database, tenant: TenantTokens
) -> None:
    named = _make_users(database, tenant.slug, 1, "named")[0]
    unnamed = _make_users(database, tenant.slug, 1, "unnamed", display_names=False)[0]
    group = _create(scim, members=members(named, unnamed))
    rendered = {member["value"]: member for member in _get(scim, group["id"])["members"]}  # type: ignore[attr-defined]
    assert rendered[named] == {
        "value": named,
        "$ref": f"http://testserver/scim/Users/{named}",
        "display": "named 0",
        "type": "User",
    }
    assert rendered[unnamed] == {
        "value": unnamed,
        "$ref": f"http://testserver/scim/Users/{unnamed}",
        "type": "User",
    }
