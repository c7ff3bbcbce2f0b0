"""The activity log of Group writes: field changes and the members each write added and
removed, net, listed up to 1,000 of each and counted in full."""

from typing import Any

from starlette.applications import Starlette
from starlette.testclient import TestClient

from db.activity import MAX_LISTED_MEMBERS
from db.database import Database
from tests.scim.activity_support import changes, events
from tests.scim.groups_support import ENTRA_GROUP_SCHEMA, GROUP_SCHEMA, make_users, members, patch


def _users(app: Starlette, count: int) -> list[str]:
    database: Database = app.state.database
    return sorted(make_users(database, "acme", count))


def _group(scim: TestClient, name: str, *user_ids: str, **extra: Any) -> str:
    body = {"schemas": [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA], "displayName": name, **extra}
    if user_ids:
        body["members"] = members(*user_ids)
    response = scim.post("/scim/Groups", json=body)
    assert response.status_code == 201, response.text
    group_id: str = response.json()["id"]
    return group_id


def _patch(scim: TestClient, group_id: str, *operations: dict[str, Any]) -> None:
    response = scim.patch(f"/scim/Groups/{group_id}", json=patch(*operations))
    assert response.status_code == 200, response.text


def _member_fields(event: dict[str, Any]) -> tuple[Any, Any, int]:
    added = sorted(event["members_added"]) if event["members_added"] else None
    removed = sorted(event["members_removed"]) if event["members_removed"] else None
    return added, removed, event["member_change_count"]


def test_a_create_records_its_fields_and_members(app: Starlette, scim: TestClient) -> None:
    a, b = _users(app, 2)
    group_id = _group(scim, "Sales", a, b, a, externalId="ext-1")
    (event,) = events(app)
    assert (event["operation"], event["resource_type"], event["resource_id"]) == (
        "CREATE",
        "Group",
        group_id,
    )
    assert event["resource_name"] == "Sales"
    assert changes(event) == {"displayName": (None, "Sales"), "externalId": (None, "ext-1")}
    assert _member_fields(event) == ([a, b], None, 2)


def test_entra_add_lists_only_the_new_members(app: Starlette, scim: TestClient) -> None:
    a, b, c = _users(app, 3)
    group_id = _group(scim, "Sales", a)
    _patch(scim, group_id, {"op": "Add", "path": "members", "value": members(a, b, c)})
    *_, event = events(app)
    assert (event["operation"], event["changes"]) == ("UPDATE", None)
    assert _member_fields(event) == ([b, c], None, 2)


def test_adding_existing_members_records_nothing(app: Starlette, scim: TestClient) -> None:
    a, b = _users(app, 2)
    group_id = _group(scim, "Sales", a, b)
    _patch(scim, group_id, {"op": "Add", "path": "members", "value": members(a, b)})
    assert len(events(app)) == 1


def test_compliant_remove_by_value_filter(app: Starlette, scim: TestClient) -> None:
    a, b = _users(app, 2)
    group_id = _group(scim, "Sales", a, b)
    _patch(scim, group_id, {"op": "remove", "path": f'members[value eq "{a}"]'})
    *_, event = events(app)
    assert _member_fields(event) == (None, [a], 1)


def test_legacy_remove_with_a_value_list_records_only_the_listed_members(
    app: Starlette, scim: TestClient
) -> None:
    a, b, c, outsider = _users(app, 4)
    group_id = _group(scim, "Sales", a, b, c)
    _patch(scim, group_id, {"op": "Remove", "path": "members", "value": members(a, outsider)})
    *_, event = events(app)
    assert _member_fields(event) == (None, [a], 1)


def test_replace_members_records_who_joined_and_who_left(app: Starlette, scim: TestClient) -> None:
    a, b, c = _users(app, 3)
    group_id = _group(scim, "Sales", a, b)
    _patch(scim, group_id, {"op": "replace", "path": "members", "value": members(b, c)})
    *_, event = events(app)
    assert _member_fields(event) == ([c], [a], 2)


def test_a_member_added_and_removed_by_one_patch_is_in_neither_list(
    app: Starlette, scim: TestClient
) -> None:
    a, b = _users(app, 2)
    group_id = _group(scim, "Sales", a)
    _patch(
        scim,
        group_id,
        {"op": "add", "path": "members", "value": members(b)},
        {"op": "remove", "path": f'members[value eq "{b}"]'},
        {"op": "replace", "value": {"displayName": "Sales EMEA"}},
    )
    *_, event = events(app)
    assert changes(event) == {"displayName": ("Sales", "Sales EMEA")}
    assert event["resource_name"] == "Sales EMEA"
    assert _member_fields(event) == (None, None, 0)


def test_path_less_rename_and_external_id(app: Starlette, scim: TestClient) -> None:
    group_id = _group(scim, "Sales", externalId="e1")
    _patch(scim, group_id, {"op": "replace", "value": {"externalId": "e2", "displayName": "S"}})
    _patch(scim, group_id, {"op": "Replace", "path": "displayName", "value": "S"})  # no-op
    *_, event = events(app)
    assert changes(event) == {"displayName": ("Sales", "S"), "externalId": ("e1", "e2")}
    assert len(events(app)) == 2


def test_put_records_fields_and_membership_changes(app: Starlette, scim: TestClient) -> None:
    a, b, c = _users(app, 3)
    group_id = _group(scim, "Sales", a, b, externalId="e1")
    body = {"schemas": [GROUP_SCHEMA], "displayName": "Sales", "members": members(b, c)}
    assert scim.put(f"/scim/Groups/{group_id}", json=body).status_code == 200
    assert scim.put(f"/scim/Groups/{group_id}", json=body).status_code == 200  # the same again
    _, event = events(app)
    assert event["operation"] == "REPLACE"
    assert changes(event) == {"externalId": ("e1", None)}
    assert _member_fields(event) == ([c], [a], 2)


def test_a_large_replace_lists_a_thousand_of_each_and_counts_them_all(
    app: Starlette, scim: TestClient
) -> None:
    users = _users(app, 2600)
    group_id = _group(scim, "All", *users[:1200])
    _patch(scim, group_id, {"op": "replace", "path": "members", "value": members(*users[1200:])})
    first, replaced = events(app)
    assert first["member_change_count"] == 1200
    assert len(first["members_added"]) == MAX_LISTED_MEMBERS
    assert len(replaced["members_added"]) == MAX_LISTED_MEMBERS
    assert len(replaced["members_removed"]) == MAX_LISTED_MEMBERS
    assert set(replaced["members_added"]) <= set(users[1200:])
    assert set(replaced["members_removed"]) <= set(users[:1200])
    assert replaced["member_change_count"] == 1400 + 1200


def test_a_delete_records_the_group_it_was(app: Starlette, scim: TestClient) -> None:
    (a,) = _users(app, 1)
    group_id = _group(scim, "Sales", a, externalId="e1")
    assert scim.delete(f"/scim/Groups/{group_id}").status_code == 204
    *_, event = events(app)
    assert (event["operation"], event["resource_id"], event["resource_name"]) == (
        "DELETE",
        group_id,
        "Sales",
    )
    assert changes(event) == {"displayName": ("Sales", None), "externalId": ("e1", None)}
    assert _member_fields(event) == (None, None, 0)
