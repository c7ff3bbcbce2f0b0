"""The statements an Entra create and manager PATCH send, and that each still does all it
did: the user written, the tenant's versions moved, one activity event recorded.

On PostgreSQL the user write, its stripe bump and its event go out as one statement
(data-modifying CTEs, ``db.users``); SQLite has no data-modifying CTEs and sends three.
The activity log's numbering pass runs on its own schedule and is left out of the counts.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import event, func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from db.database import Database
from db.org_changes import tenant_versions
from db.tables import activity_events, tenants

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MANAGER = f"{ENTERPRISE}:manager"
#: The numbering pass of the activity log (db.activity.sequence_events), not a request's.
_NUMBERING = ("pg_advisory_xact_lock", "numbered_up_to", "SET seq=", "pg_notify")


@pytest.fixture
def statements(app: Starlette) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not any(part in statement for part in _NUMBERING):
            seen.append(" ".join(statement.split()))

    engines = app.state.database.engines
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    yield seen
    for engine in engines:
        event.remove(engine, "before_cursor_execute", record)


def _state(database: Database) -> tuple[int, int, int]:
    """(org version, data version, activity events) of tenant acme."""

    def read(connection: Any) -> tuple[int, int, int]:
        tenant_id = connection.execute(
            select(tenants.c.id).where(tenants.c.slug == "acme")
        ).scalar_one()
        versions = tenant_versions(connection, tenant_id)
        events = connection.execute(select(func.count()).select_from(activity_events)).scalar_one()
        return versions.org, versions.data, events

    return database.read_sync(read)


def _create(scim: TestClient, user_name: str) -> str:
    reply = scim.post(
        "/scim/v2/Users",
        json={"schemas": [USER], "userName": user_name, "displayName": user_name.title()},
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["id"])


def test_entra_create_and_manager_patch_statements(
    scim: TestClient, database: Database, statements: list[str]
) -> None:
    postgres = not database.is_sqlite
    manager_id = _create(scim, "boss@contoso.com")  # also warms the token cache
    before = _state(database)

    statements.clear()
    user_id = _create(scim, "ada@contoso.com")
    if postgres:
        assert len(statements) == 1, statements
        assert statements[0].startswith('WITH written AS (INSERT INTO "user"')
        assert "UPDATE tenant_org_version" in statements[0]
        assert "INSERT INTO activity_event" in statements[0]
    else:
        assert [s.split(" ", 3)[:3] for s in statements] == [
            ["INSERT", "INTO", "user"],
            ["UPDATE", "tenant_org_version", "SET"],
            ["INSERT", "INTO", "activity_event"],
        ]
    created = _state(database)
    assert created == (before[0] + 1, before[1] + 1, before[2] + 1)

    statements.clear()
    reply = scim.patch(
        f"/scim/v2/Users/{user_id}",
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "Add", "path": MANAGER, "value": manager_id}],
        },
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()[ENTERPRISE]["manager"]["displayName"] == "Boss@Contoso.Com"
    assert len(statements) == (2 if postgres else 5), statements
    # PostgreSQL: the row read without a lock, then written at the version read, with the
    # new manager's name, the bump and the event, in one statement and no transaction
    assert statements[0].startswith("SELECT")
    assert "FOR " not in statements[0]
    assert statements[-1 if postgres else -3].startswith(
        "WITH written AS (UPDATE" if postgres else "UPDATE user"
    )
    assert "version = " in statements[-1 if postgres else -3]
    patched = _state(database)
    assert patched == (created[0] + 1, created[1] + 1, created[2] + 1)


def test_an_unknown_manager_writes_nothing(
    scim: TestClient, database: Database, statements: list[str]
) -> None:
    user_id = _create(scim, "ada@contoso.com")
    before = _state(database)
    reply = scim.patch(
        f"/scim/v2/Users/{user_id}",
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "Add", "path": MANAGER, "value": "no-such-user"}],
        },
    )
    assert reply.status_code == 400, reply.text
    after = _state(database)
    # the refused write records its FAILURE event (and moves the data version) only
    assert after[0] == before[0]
    assert after[2] == before[2] + 1
    assert "manager" not in scim.get(f"/scim/v2/Users/{user_id}").json().get(ENTERPRISE, {})


def test_concurrent_patches_of_one_user_all_apply(scim: TestClient, database: Database) -> None:
    """The row is written at the version it was read at, without a lock (PostgreSQL): a
    PATCH that lost the race to another reads the row again and applies on top of it, so
    every PATCH lands once, each with its version and its event."""
    user_id = _create(scim, "ada@contoso.com")
    before = _state(database)
    titles = [f"title {n}" for n in range(12)]

    def patch(title: str) -> int:
        reply = scim.patch(
            f"/scim/v2/Users/{user_id}",
            json={
                "schemas": [PATCH],
                "Operations": [
                    {"op": "Replace", "path": "title", "value": title},
                    {"op": "Add", "path": f"{ENTERPRISE}:department", "value": title},
                ],
            },
        )
        return reply.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(patch, titles)) == [200] * len(titles)
    user = scim.get(f"/scim/v2/Users/{user_id}").json()
    assert user["meta"]["version"] == 'W/"13"'
    assert user["title"] in titles
    assert user[ENTERPRISE]["department"] == user["title"]  # one PATCH's, whole
    after = _state(database)
    assert (after[1], after[2]) == (before[1] + len(titles), before[2] + len(titles))
