"""The directory's default order is served from ix_user_tenant_display_name, byte-wise."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, event, insert, text

from db.database import Database
from db.directory_lists import UserFilterSpec, UserSort, directory
from db.directory_reads import users_by_ids
from db.org_chains import upward_paths
from db.tables import users
from db.tenants import create_tenant
from db.types import utcnow
from tests.directory_rows import user_row


def test_the_index_sorts_byte_wise_on_postgresql(database: Database) -> None:
    if database.is_sqlite:
        definition = database.read_sync(
            lambda c: c.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'ix_user_tenant_display_name'")
            ).scalar_one()
        )
        assert "coalesce(display_name, '')" in definition
    else:
        definition = database.read_sync(
            lambda c: c.execute(
                text(
                    "SELECT indexdef FROM pg_indexes "
                    "WHERE indexname = 'ix_user_tenant_display_name'"
                )
            ).scalar_one()
        )
        assert 'COLLATE "C"' in definition


def test_a_page_reads_the_index_instead_of_sorting(database: Database) -> None:
    tenant = database.write_sync(lambda c: create_tenant(c, "acme"))
    users = directory(tenant.id, UserFilterSpec())
    statement, parameters = captured_statement(
        database, "ORDER BY", lambda c: users.page(c, UserSort(), first=10, after=None)
    )
    described = " ".join(explain(database, statement, parameters))
    assert "ix_user_tenant_display_name" in described
    assert "TEMP B-TREE" not in described.upper()  # SQLite: no sort step
    assert "Sort" not in described.split("Index")[0]  # PostgreSQL: no Sort above the scan


@pytest.mark.parametrize("descending", [False, True])
def test_a_page_after_a_cursor_starts_at_the_cursor(database: Database, descending: bool) -> None:
    """The index range begins at the cursor's name, not at the tenant's first user: SQLite
    seeks by a row value only when it starts with a column, and the order's key is an
    expression."""
    tenant = database.write_sync(lambda c: create_tenant(c, "acme"))
    users = directory(tenant.id, UserFilterSpec())
    sort = UserSort(descending=descending)
    statement, parameters = captured_statement(
        database, "ORDER BY", lambda c: users.page(c, sort, first=10, after=("M", "u-1"))
    )
    plan = "\n".join(explain(database, statement, parameters))
    if database.is_sqlite:
        bound = "<" if descending else ">"
        assert f"ix_user_tenant_display_name (tenant_id=? AND <expr>{bound}?)" in plan, plan
    else:
        condition = re.search(r"Index Cond: (.*)", plan)
        assert condition is not None, plan
        assert "COALESCE(display_name" in condition.group(1), plan


def captured_statement(
    database: Database, marker: str, work: Callable[[Connection], object]
) -> tuple[str, Any]:
    """The statement (with its parameters) that ``work`` ran containing ``marker``."""
    captured: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        if marker in args[2]:
            captured.append((args[2], args[3]))

    event.listen(database.read_engine, "before_cursor_execute", capture)
    try:
        database.read_sync(work)
    finally:
        event.remove(database.read_engine, "before_cursor_execute", capture)
    return captured[0]


def explain(database: Database, statement: str, parameters: Any) -> list[str]:
    def plan(connection: Connection) -> list[str]:
        if not database.is_sqlite:
            connection.execute(text("SET LOCAL enable_seqscan = off"))
        prefix = "EXPLAIN QUERY PLAN " if database.is_sqlite else "EXPLAIN "
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
        return [str(row[-1]) for row in rows]

    return database.write_sync(plan)  # SET LOCAL needs a transaction; reads run in autocommit


@pytest.mark.parametrize("count", [1, 100])
def test_chains_start_from_the_primary_key(database: Database, count: int) -> None:
    """The chain CTE probes the start users by id instead of scanning the tenant's index."""
    tenant = database.write_sync(lambda c: create_tenant(c, "acme"))
    # A tenant of a few thousand users, as the org chart reads them: on an empty table with
    # sequential scans disabled, PostgreSQL would scan any whole index rather than probe one.
    database.write_sync(lambda c: insert_org(c, tenant.id, 3000))
    # A page's worth of users: with many ids SQLite was tempted by a tenant index.
    ids = [f"user-{n}" for n in range(count)]
    statement, parameters = captured_statement(
        database, "RECURSIVE", lambda c: upward_paths(c, tenant.id, ids, 50)
    )
    described = " ".join(explain(database, statement, parameters))
    if database.is_sqlite:
        assert "SEARCH user USING INDEX sqlite_autoindex_user_1 (id=?)" in described
        assert "ix_user_tenant_" not in described  # no index range over the whole tenant
    else:
        assert re.search(r"(Index|Recheck) Cond: \(\(id\)::text = (ANY|'user-0')", described), (
            described
        )


@pytest.mark.parametrize("count", [2, 10, 100])
def test_users_by_ids_probe_the_primary_key(database: Database, count: int) -> None:
    """Several users by id (a DataLoader's batch) are looked up by id, whatever the list's
    length: as an IN list beside the tenant's condition SQLite read the tenant's range of an
    index from ten ids on."""
    tenant = database.write_sync(lambda c: create_tenant(c, "acme"))
    database.write_sync(lambda c: insert_org(c, tenant.id, 3000))
    ids = [f"user-{n * 7}" for n in range(count)]
    found = database.read_sync(lambda c: users_by_ids(c, tenant.id, [*ids, "nobody"]))
    assert sorted(found) == sorted(ids)
    assert all(found[user_id].id == user_id for user_id in ids)
    statement, parameters = captured_statement(
        database, "FROM", lambda c: users_by_ids(c, tenant.id, ids)
    )
    described = " ".join(explain(database, statement, parameters))
    if database.is_sqlite:
        assert "SEARCH user USING INDEX sqlite_autoindex_user_1 (id=?)" in described, described
        assert "ix_user_tenant_" not in described, described
    else:
        assert "user_pkey" in described, described
        assert "ix_user_tenant_" not in described, described


def insert_org(connection: Connection, tenant_id: int, size: int) -> None:
    """``size`` users in one bulk insert, user-N managed by user-(N // 8)."""
    now = utcnow()
    connection.execute(
        insert(users),
        [
            user_row(
                tenant_id,
                f"user-{n}",
                f"user{n}@contoso.com",
                display_name=f"User {n}",
                manager_id=f"user-{n // 8}" if n else None,
                now=now,
            )
            for n in range(size)
        ],
    )
