"""The org-change counter moves with every noted change, per tenant, and on PostgreSQL a
tenant's open writers do not wait for each other on it."""

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text

from db.database import Database
from db.org_changes import STRIPES, note_org_change, org_version
from db.tenants import create_tenant
from db.users import create_user_row, get_user, update_user
from tests.conftest import BACKENDS

# Row locks are PostgreSQL's: SQLite admits one writer at a time whatever the counter is.
POSTGRES_ONLY = [backend for backend in BACKENDS if backend == "postgresql"]


def test_counter_is_per_tenant(database: Database) -> None:
    acme = database.write_sync(lambda connection: create_tenant(connection, "acme"))
    globex = database.write_sync(lambda connection: create_tenant(connection, "globex"))
    assert database.read_sync(lambda connection: org_version(connection, acme.id)) == 0
    database.write_sync(lambda connection: note_org_change(connection, acme.id))
    database.write_sync(lambda connection: note_org_change(connection, acme.id))
    assert database.read_sync(lambda connection: org_version(connection, acme.id)) == 2
    assert database.read_sync(lambda connection: org_version(connection, globex.id)) == 0


@pytest.fixture
def open_writers(database: Database) -> Iterator[list[Connection]]:
    """Connections of their own, each to hold a write transaction open."""
    connections: list[Connection] = []
    yield connections
    for connection in connections:
        connection.close()


def _begin(database: Database, writers: list[Connection]) -> Connection:
    connection = database.engine.connect()
    writers.append(connection)
    connection.begin()
    # Waiting for a lock fails the statement instead of hanging the test.
    connection.execute(text("SET LOCAL lock_timeout = '2s'"))
    return connection


@pytest.mark.parametrize("database_url", POSTGRES_ONLY, indirect=True)
def test_open_writers_of_one_tenant_do_not_wait_for_each_other(
    database: Database, open_writers: list[Connection]
) -> None:
    """Eight writers of one tenant — four creates, four manager changes — each holding its
    transaction open after its change: none waits for another's commit (a wait would fail on
    the lock timeout), and every change counts once all commit."""
    tenant = database.write_sync(lambda c: create_tenant(c, "acme")).id
    boss = database.write_sync(lambda c: create_user_row(c, tenant, {"user_name": "boss"}))["id"]
    staff = [
        database.write_sync(lambda c, n=n: create_user_row(c, tenant, {"user_name": f"s{n}"}))
        for n in range(4)
    ]
    before = database.read_sync(lambda c: org_version(c, tenant))
    for number in range(4):
        writer = _begin(database, open_writers)
        create_user_row(writer, tenant, {"user_name": f"new{number}", "manager_id": boss})
    for row in staff:
        writer = _begin(database, open_writers)
        previous = get_user(writer, tenant, row["id"], for_update=True)
        assert previous is not None
        update_user(writer, tenant, previous, {"manager_id": boss})
    waiting = database.read_sync(
        lambda c: c.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one()
    )
    assert waiting == 0
    assert database.read_sync(lambda c: org_version(c, tenant)) == before  # none committed
    for writer in open_writers:
        writer.commit()
    assert database.read_sync(lambda c: org_version(c, tenant)) == before + 8


@pytest.mark.parametrize("database_url", POSTGRES_ONLY, indirect=True)
def test_a_change_counts_when_every_stripe_is_held(
    database: Database, open_writers: list[Connection]
) -> None:
    """With more open writers than stripes, the next one waits for a stripe (as it waited for
    the one row before) and its change still counts."""
    tenant = database.write_sync(lambda c: create_tenant(c, "acme")).id
    for _ in range(STRIPES):
        note_org_change(_begin(database, open_writers), tenant)
    late = threading.Thread(
        target=database.write_sync, args=(lambda c: note_org_change(c, tenant),)
    )
    late.start()
    late.join(timeout=0.5)
    assert late.is_alive()  # waiting for a stripe
    for writer in open_writers:
        writer.commit()
    late.join(timeout=30)
    assert not late.is_alive()
    assert database.read_sync(lambda c: org_version(c, tenant)) == STRIPES + 1
