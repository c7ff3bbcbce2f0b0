"""``blink-directory demo`` provisions through the SCIM API, and a second run writes nothing."""

from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.demo.command import DEMO_TOKEN_NAME, run_demo
from app.demo.org import generate_org
from app.main import create_app
from app.settings import Settings
from db.database import Database
from db.tables import activity_events
from db.tokens import TokenScope, issue_token, list_tokens

SIZE = 60
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BLINK = "urn:ietf:params:scim:schemas:extension:blink:2.0:User"


def scim_read(settings: Settings, database: Database, path: str) -> list[dict[str, Any]]:
    secret = database.write_sync(
        lambda connection: issue_token(connection, "acme", TokenScope.SCIM).secret
    )
    with TestClient(create_app(settings)) as client:
        response = client.get(
            f"/scim/v2{path}", params={"count": 1000}, headers={"Authorization": f"Bearer {secret}"}
        )
    assert response.status_code == 200, response.text
    resources: list[dict[str, Any]] = response.json()["Resources"]
    return resources


def versions(settings: Settings, database: Database) -> dict[str, str]:
    return {
        resource["id"]: resource["meta"]["version"]
        for path in ("/Users", "/Groups")
        for resource in scim_read(settings, database, path)
    }


def test_the_org_arrives_through_scim_with_managers_and_groups(
    settings: Settings, database: Database
) -> None:
    org = generate_org(SIZE, seed=5)
    outcome = run_demo(settings, "acme", org)
    report = outcome.report
    assert report.users_created == SIZE
    assert report.groups_created == len(org.groups)
    assert outcome.new_graphql_secret is not None  # a new tenant gets a reader token

    users = {user["externalId"]: user for user in scim_read(settings, database, "/Users")}
    assert len(users) == SIZE
    for person in org.people:
        user = users[person.external_id]
        assert user["userName"] == person.user_name
        assert user["title"] == person.title
        assert user[BLINK]["location"] == person.location
        manager = user[ENTERPRISE].get("manager")
        if person.manager is None:
            assert manager is None
        else:
            assert manager["value"] == users[person.manager]["id"]
        assert user.get("active", True) is person.active
        phones = {phone["type"]: phone["value"] for phone in user["phoneNumbers"]}
        assert phones.get("mobile") == person.mobile_phone

    groups = {group["displayName"]: group for group in scim_read(settings, database, "/Groups")}
    for group in org.groups:
        members = {member["value"] for member in groups[group.display_name]["members"]}
        assert members == {users[key]["id"] for key in group.members}


def test_a_second_run_with_the_same_seed_writes_nothing(
    settings: Settings, database: Database
) -> None:
    org = generate_org(SIZE, seed=5)
    run_demo(settings, "acme", org)
    before = versions(settings, database)
    again = run_demo(settings, "acme", generate_org(SIZE, seed=5)).report
    assert again.writes == 0
    assert again.users_unchanged == SIZE
    assert again.groups_unchanged == len(org.groups)
    assert versions(settings, database) == before


def test_a_changed_user_is_patched_back_and_nothing_else_is_written(
    settings: Settings, database: Database
) -> None:
    org = generate_org(SIZE, seed=5)
    first = run_demo(settings, "acme", org).report
    target = org.people[7]
    user_id = first.user_ids[target.external_id]
    secret = database.write_sync(
        lambda connection: issue_token(connection, "acme", TokenScope.SCIM).secret
    )
    with TestClient(create_app(settings)) as client:
        response = client.patch(
            f"/scim/v2/Users/{user_id}",
            json={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "replace", "path": "title", "value": "Juggler"},
                    {"op": "remove", "path": f"{ENTERPRISE}:manager"},
                ],
            },
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert response.status_code == 200, response.text
    again = run_demo(settings, "acme", org).report
    assert (again.users_updated, again.writes) == (1, 1)
    restored = {u["id"]: u for u in scim_read(settings, database, "/Users")}[user_id]
    assert restored["title"] == target.title
    assert restored[ENTERPRISE]["manager"]["value"] == first.user_ids[target.manager or ""]


def test_the_demo_token_is_revoked_when_it_ends(settings: Settings, database: Database) -> None:
    run_demo(settings, "acme", generate_org(SIZE))
    tokens = database.read_sync(lambda connection: list_tokens(connection, "acme"))
    demo_tokens = [token for token in tokens if token.name == DEMO_TOKEN_NAME]
    assert len(demo_tokens) == 1
    assert demo_tokens[0].revoked is not None


def test_the_command_on_an_empty_database_creates_the_default_tenant(database_url: str) -> None:
    result = CliRunner().invoke(
        cli, ["demo", "--users", str(SIZE), "--seed", "2", "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    assert f"users {SIZE} created" in result.stdout
    assert "/orgchart" in result.stdout
    assert "GraphQL bearer token:" in result.stdout  # the first run's secrets, once
    again = CliRunner().invoke(
        cli, ["demo", "--users", str(SIZE), "--seed", "2", "--database-url", database_url]
    )
    assert again.exit_code == 0, again.output
    assert "(0 SCIM writes)" in again.stdout
    assert "GraphQL bearer token:" not in again.stdout


def test_too_few_users_is_a_usage_error(database_url: str) -> None:
    result = CliRunner().invoke(cli, ["demo", "--users", "3", "--database-url", database_url])
    assert result.exit_code == 2


def test_a_changed_group_gets_its_members_back(settings: Settings, database: Database) -> None:
    org = generate_org(SIZE, seed=5)
    first = run_demo(settings, "acme", org).report
    group = next(g for g in org.groups if len(g.members) >= 2)
    gone = first.user_ids[group.members[0]]
    stranger = next(
        first.user_ids[p.external_id] for p in org.people if p.external_id not in group.members
    )
    groups = {g["displayName"]: g["id"] for g in scim_read(settings, database, "/Groups")}
    secret = database.write_sync(
        lambda connection: issue_token(connection, "acme", TokenScope.SCIM).secret
    )
    with TestClient(create_app(settings)) as client:
        response = client.patch(
            f"/scim/v2/Groups/{groups[group.display_name]}",
            json={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "remove", "path": f'members[value eq "{gone}"]'},
                    {"op": "add", "path": "members", "value": [{"value": stranger}]},
                ],
            },
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert response.status_code == 200, response.text
    again = run_demo(settings, "acme", org).report
    assert (again.groups_updated, again.writes) == (1, 2)  # one add, one remove
    restored = {g["displayName"]: g for g in scim_read(settings, database, "/Groups")}
    members = {m["value"] for m in restored[group.display_name]["members"]}
    assert members == {first.user_ids[key] for key in group.members}


def test_the_demo_is_not_throttled_by_a_configured_rate_limit(
    settings: Settings, database: Database
) -> None:
    # A limit far below the demo's pace: the operator's own in-process provisioning ignores it.
    limited = settings.model_copy(update={"rate_limit_per_second": 1.0, "rate_limit_burst": 1})
    outcome = run_demo(limited, "acme", generate_org(SIZE, seed=7))
    assert outcome.report.users_created == SIZE


def test_every_event_the_demo_recorded_is_numbered_when_it_returns(
    settings: Settings, database: Database
) -> None:
    """The demo drives the SCIM app without its lifespan: it waits for the activity log's
    numbering passes itself, so none is cut off holding a connection when it ends."""
    run_demo(settings, "acme", generate_org(SIZE, seed=3))
    recorded = select(func.count()).select_from(activity_events)
    unnumbered = recorded.where(activity_events.c.seq.is_(None))
    assert database.read_sync(lambda connection: connection.execute(recorded).scalar_one()) > 0
    assert database.read_sync(lambda connection: connection.execute(unnumbered).scalar_one()) == 0
