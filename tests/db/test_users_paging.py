"""Listing a whole tenant pages along the (tenant, created, id) index with exact totals."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert

from db.database import Database
from db.tables import users
from db.tenants import create_tenant
from db.users import _tenant_page, list_users

ORDER = (users.c.created, users.c.id)
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def seed(database: Database, count: int) -> int:
    def work(connection: Connection) -> int:
        tenant = create_tenant(connection, "acme")
        other = create_tenant(connection, "globex")
        rows = [
            {
                "id": f"user-{tenant_id}-{index:04d}",
                "tenant_id": tenant_id,
                "user_name": f"user{index}@{tenant_id}.example",
                "active": True,
                "attributes": {},
                "created": BASE + timedelta(seconds=index // 2),  # ties broken by id
                "last_modified": BASE,
                "version": 1,
            }
            for tenant_id in (tenant.id, other.id)
            for index in range(count)
        ]
        connection.execute(insert(users), rows)
        return tenant.id

    return database.write_sync(work)


def test_pages_cover_the_tenant_once_with_exact_totals(database: Database) -> None:
    tenant_id = seed(database, 25)
    seen: list[str] = []
    for offset in range(0, 30, 10):
        total, rows = database.read_sync(
            lambda connection, offset=offset: list_users(
                connection, tenant_id, None, ORDER, offset, 10
            )
        )
        assert total == 25
        seen += [row["id"] for row in rows]
    assert seen == [f"user-{tenant_id}-{index:04d}" for index in range(25)]
    total, rows = database.read_sync(
        lambda connection: list_users(connection, tenant_id, None, ORDER, 100, 10)
    )
    assert (total, list(rows)) == (25, [])


def test_the_page_walks_the_index_without_sorting(database: Database) -> None:
    if not database.is_sqlite:
        return  # PostgreSQL picks by statistics; the SQLite plan is deterministic
    seed(database, 5)

    def plan(connection: Connection) -> str:
        sql = str(_tenant_page(ORDER).compile(dialect=connection.dialect))
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, (1, 10, 0)).all()
        return " ".join(str(row[-1]) for row in rows)

    described = database.read_sync(plan)
    assert "ix_user_tenant_created" in described
    assert "TEMP B-TREE" not in described
