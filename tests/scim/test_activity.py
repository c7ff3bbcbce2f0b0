"""The activity log of User writes: one event per change, with what changed, who and which
request; nothing for a write that changes nothing (``scim.activity``, ``scim.user_changes``)."""

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.conftest import TenantTokens
from tests.scim.activity_support import changes, events
from tests.scim.groups_support import members
from tests.scim.support import BLINK, CORE, ENTERPRISE, create, patched

MANAGER = f"{ENTERPRISE}:manager"
WORK_EMAIL = 'emails[type eq "work"].value'
MOBILE = 'phoneNumbers[type eq "mobile"].value'


def test_a_create_records_who_which_request_and_every_stored_attribute(
    app: Starlette, scim: TestClient
) -> None:
    response = scim.post(
        "/scim/Users",
        headers={"X-Request-ID": "entra-req-1", "client-request-id": "c0ffee-42"},
        json={
            "schemas": [CORE, ENTERPRISE],
            "userName": "ada@contoso.com",
            "password": "Sup3r-Secret!",
            "title": "CTO",
            "active": True,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"primary": True, "type": "work", "value": "ada@contoso.com"}],
            "nickName": "ada",
            ENTERPRISE: {"department": "R&D", "costCenter": "42"},
        },
    )
    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    (event,) = events(app)
    assert (event["operation"], event["outcome"], event["resource_type"]) == (
        "CREATE",
        "SUCCESS",
        "User",
    )
    assert (event["resource_id"], event["resource_name"]) == (user_id, "ada@contoso.com")
    assert (event["request_id"], event["client_request_id"]) == ("entra-req-1", "c0ffee-42")
    assert event["actor_token_id"] is not None
    assert event["actor_name"]
    assert event["seq"] == 1
    assert changes(event) == {
        "userName": (None, "ada@contoso.com"),
        "name.familyName": (None, "Lovelace"),
        "name.givenName": (None, "Ada"),
        "title": (None, "CTO"),
        "active": (None, True),
        WORK_EMAIL: (None, "ada@contoso.com"),
        f"{ENTERPRISE}:department": (None, "R&D"),
        "nickName": (None, "ada"),
        "emails": (None, [{"primary": True, "type": "work"}]),
        f"{ENTERPRISE}:costCenter": (None, "42"),
    }
    assert "Sup3r-Secret" not in json.dumps(event, default=str)
    assert "password" not in json.dumps(event["changes"])


def test_the_request_id_is_the_one_the_response_echoes(app: Starlette, scim: TestClient) -> None:
    response = scim.post("/scim/Users", json={"userName": "x@contoso.com"})
    (event,) = events(app)
    assert event["request_id"] == response.headers["x-request-id"]
    assert event["client_request_id"] is None


def test_a_put_records_what_changed_and_an_identical_put_records_nothing(
    app: Starlette, scim: TestClient
) -> None:
    user = create(scim, "put@contoso.com", title="A", displayName="Put")
    body = {"userName": "put@contoso.com", "title": "B", "displayName": "Put"}
    assert scim.put(f"/scim/Users/{user['id']}", json=body).status_code == 200
    assert scim.put(f"/scim/Users/{user['id']}", json=body).status_code == 200
    create_event, replace = events(app)
    assert create_event["operation"] == "CREATE"
    assert replace["operation"] == "REPLACE"
    assert changes(replace) == {"title": ("A", "B")}


BOSS = "{boss}"

#: Each PATCH form of the Entra dialect (../shared/docs/entra-scim-dialect.md) and the changes
#: it records, from a user with title "Engineer", active, without manager or mobile phone.
PATCH_FORMS: list[tuple[str, list[dict[str, Any]], dict[str, tuple[Any, Any]]]] = [
    (
        "manager as an id under the URN",
        [{"op": "Add", "path": MANAGER, "value": BOSS}],
        {MANAGER: (None, BOSS)},
    ),
    (
        "manager as {value}",
        [{"op": "add", "path": MANAGER, "value": {"value": BOSS}}],
        {MANAGER: (None, BOSS)},
    ),
    (
        "manager as a list with $ref",
        [{"op": "Add", "path": "manager", "value": [{"$ref": "https://h/x", "value": BOSS}]}],
        {MANAGER: (None, BOSS)},
    ),
    (
        "incremental update with a mobile phone upsert",
        [
            {"op": "Replace", "path": WORK_EMAIL, "value": "updated@contoso.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Retail"},
            {"op": "Add", "path": MOBILE, "value": "+1 555 0100"},
        ],
        {
            WORK_EMAIL: ("old@contoso.com", "updated@contoso.com"),
            "name.familyName": (None, "updatedFamilyName"),
            f"{ENTERPRISE}:department": (None, "Retail"),
            MOBILE: (None, "+1 555 0100"),
            "phoneNumbers": (None, [{"type": "mobile"}]),
        },
    ),
    (
        "active False (legacy)",
        [{"op": "Replace", "path": "active", "value": "False"}],
        {"active": (True, False)},
    ),
    (
        "active false",
        [{"op": "replace", "path": "active", "value": False}],
        {"active": (True, False)},
    ),
    (
        "path-less replace with dotted and URN keys",
        [
            {
                "op": "replace",
                "value": {
                    "displayName": "Bjfe",
                    "name.givenName": "Kkom",
                    f"{ENTERPRISE}:employeeNumber": "Aklq",
                },
            }
        ],
        {
            "displayName": (None, "Bjfe"),
            "name.givenName": (None, "Kkom"),
            f"{ENTERPRISE}:employeeNumber": (None, "Aklq"),
        },
    ),
    (
        "clearing a value (stored as sent)",
        [{"op": "replace", "path": "title", "value": ""}],
        {"title": ("Engineer", "")},
    ),
    (
        "an extension attribute",
        [{"op": "add", "path": f"{BLINK}:company", "value": "Contoso"}],
        {f"{BLINK}:company": (None, "Contoso")},
    ),
]


def _fill(value: Any, boss: str) -> Any:
    return json.loads(json.dumps(value).replace(BOSS, boss))


@pytest.mark.parametrize(
    ("operations", "expected"),
    [(operations, expected) for _, operations, expected in PATCH_FORMS],
    ids=[name for name, _, _ in PATCH_FORMS],
)
def test_each_patch_form_records_one_update_with_its_changes(
    app: Starlette,
    scim: TestClient,
    operations: list[dict[str, Any]],
    expected: dict[str, tuple[Any, Any]],
) -> None:
    boss = create(scim, "boss@contoso.com")["id"]
    user = create(
        scim,
        "u@contoso.com",
        title="Engineer",
        active=True,
        emails=[{"type": "work", "value": "old@contoso.com"}],
    )
    patched(scim, user["id"], *_fill(operations, boss))
    *_, update = events(app)
    assert (update["operation"], update["resource_id"], update["resource_name"]) == (
        "UPDATE",
        user["id"],
        "u@contoso.com",
    )
    assert changes(update) == {
        name: tuple(_fill(list(values), boss)) for name, values in expected.items()
    }


MANAGER_REMOVALS: list[tuple[str, dict[str, Any]]] = [
    ("replace with an empty string", {"op": "replace", "path": MANAGER, "value": ""}),
    ("replace with an empty value", {"op": "replace", "path": MANAGER, "value": {"value": ""}}),
    ("Remove by URN", {"op": "Remove", "path": MANAGER}),
    ("remove by value filter", {"op": "remove", "path": f'manager[value eq "{BOSS}"]'}),
    ("Remove with a value list", {"op": "Remove", "path": MANAGER, "value": [{"value": BOSS}]}),
]


@pytest.mark.parametrize(
    "operation", [op for _, op in MANAGER_REMOVALS], ids=[n for n, _ in MANAGER_REMOVALS]
)
def test_each_manager_clearing_form_records_the_old_manager(
    app: Starlette, scim: TestClient, operation: dict[str, Any]
) -> None:
    boss = create(scim, "boss@contoso.com")["id"]
    user = create(scim, "u@contoso.com", schemas=[CORE, ENTERPRISE], **{ENTERPRISE: {}})
    patched(scim, user["id"], {"op": "add", "path": MANAGER, "value": boss})
    patched(scim, user["id"], _fill(operation, boss))
    *_, set_, cleared = events(app)
    assert changes(set_) == {MANAGER: (None, boss)}
    assert changes(cleared) == {MANAGER: (boss, None)}


def test_an_unchanged_patch_records_nothing(app: Starlette, scim: TestClient) -> None:
    boss = create(scim, "boss@contoso.com")["id"]
    user = create(scim, "u@contoso.com", title="Engineer", active=True)
    operations = [
        {"op": "Replace", "path": "title", "value": "Engineer"},
        {"op": "Replace", "path": "active", "value": "True"},
        {"op": "Add", "path": MANAGER, "value": boss},
    ]
    patched(scim, user["id"], *operations)
    before = len(events(app))
    for _ in range(3):  # Entra's next cycles
        patched(scim, user["id"], *operations)
    assert len(events(app)) == before


def test_a_delete_records_its_side_effects_as_events_of_their_own(
    app: Starlette, scim: TestClient
) -> None:
    boss = create(scim, "boss@contoso.com", title="CEO")["id"]
    reports = [create(scim, f"r{n}@contoso.com")["id"] for n in range(2)]
    for report in reports:
        patched(scim, report, {"op": "add", "path": MANAGER, "value": boss})
    group = scim.post(
        "/scim/Groups", json={"displayName": "Leads", "members": members(boss, reports[0])}
    ).json()["id"]
    before = len(events(app))
    response = scim.delete(f"/scim/Users/{boss}", headers={"X-Request-ID": "del-1"})
    assert response.status_code == 204
    deleted, *side_effects = events(app)[before:]
    assert (deleted["operation"], deleted["resource_id"], deleted["resource_name"]) == (
        "DELETE",
        boss,
        "boss@contoso.com",
    )
    assert changes(deleted)["title"] == ("CEO", None)
    by_resource = {event["resource_id"]: event for event in side_effects}
    assert set(by_resource) == {*reports, group}
    for report in reports:
        event = by_resource[report]
        assert (event["operation"], event["resource_type"]) == ("UPDATE", "User")
        assert changes(event) == {MANAGER: (boss, None)}
    left = by_resource[group]
    assert (left["operation"], left["resource_type"], left["resource_name"]) == (
        "UPDATE",
        "Group",
        "Leads",
    )
    assert (left["members_removed"], left["members_added"], left["member_change_count"]) == (
        [boss],
        None,
        1,
    )
    assert {event["request_id"] for event in [deleted, *side_effects]} == {"del-1"}
    assert scim.get(f"/scim/Groups/{group}").json()["members"][0]["value"] == reports[0]


def test_each_tenant_records_in_its_own_log(
    app: Starlette, client: TestClient, tenant: TenantTokens, make_tenant: Any
) -> None:
    other = make_tenant("globex")
    response = client.post(
        "/scim/Users", json={"userName": "a@globex.com"}, headers=other.scim_headers()
    )
    assert response.status_code == 201
    assert events(app, "acme") == []
    assert [event["resource_name"] for event in events(app, "globex")] == ["a@globex.com"]
