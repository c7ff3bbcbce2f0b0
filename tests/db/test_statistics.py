"""Planner statistics kept fresh while a tenant grows (``db.statistics``).

A statement prepared while the tenant had a few rows keeps a generic plan made for that
size; on PostgreSQL the point statement on ``(tenant_id, id)`` can then walk an index of
the whole tenant for one row, until an ANALYZE of the table makes PostgreSQL plan it again.
SQLite has nothing to refresh.
"""

import time

from sqlalchemy import Connection

from db.database import Database
from db.statistics import GROWING_TABLES, MIN_CHANGES, analyze_stale, stale_tables
from db.tenants import create_tenant
from tests.directory_rows import insert_users


def _analyze_all(database: Database) -> None:
    """Start from statistics of the (empty) tables: other tests' changes are counted too."""
    if not database.is_sqlite:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            for name in GROWING_TABLES:
                c.exec_driver_sql(f'ANALYZE "{name}"')


def _grow(database: Database, count: int) -> int:
    def work(connection: Connection) -> int:
        tenant_id = create_tenant(connection, "acme").id
        insert_users(connection, tenant_id, count)
        if connection.dialect.name == "postgresql":  # report the counts at commit
            connection.exec_driver_sql("SELECT pg_stat_force_next_flush()")
        return tenant_id

    return database.write_sync(work)


def _stale(database: Database) -> list[str]:
    """stale_tables, given a moment for the counts of the last commit to be reported."""
    for _ in range(50):
        stale = database.read_sync(stale_tables)
        if stale or database.is_sqlite:
            return stale
        time.sleep(0.1)
    return []


def test_a_table_that_grew_is_analyzed_once(isolated_database: Database) -> None:
    database = isolated_database
    _analyze_all(database)
    _grow(database, MIN_CHANGES + 10)
    if database.is_sqlite:
        assert _stale(database) == []
        assert database.write_sync(analyze_stale) == []
        return
    assert _stale(database) == ["user"]
    assert database.write_sync(analyze_stale) == ["user"]
    assert database.read_sync(stale_tables) == []
    assert database.write_sync(analyze_stale) == []


def test_a_few_changes_are_not_worth_an_analyze(isolated_database: Database) -> None:
    database = isolated_database
    _analyze_all(database)
    _grow(database, MIN_CHANGES // 2)
    time.sleep(0.2)
    assert database.read_sync(stale_tables) == []
    assert database.write_sync(analyze_stale) == []


def test_a_plan_made_for_a_small_tenant_is_made_again_once_it_grew(
    isolated_database: Database,
) -> None:
    """The generic plan of a point statement, prepared at 5 users, after growth to 5,000
    and the refresh: the primary key, reading a few buffers, not the tenant's entries."""
    database = isolated_database
    _analyze_all(database)
    tenant_id = _grow(database, 5)
    if database.is_sqlite:
        return
    with database.engine.connect() as connection:
        connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        connection.exec_driver_sql(
            'PREPARE point (int, varchar) AS SELECT id FROM "user" '
            "WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE"
        )
        connection.exec_driver_sql("EXPLAIN EXECUTE point(1, 'x')").all()  # the plan, cached
        connection.commit()

        def grow(write: Connection) -> None:
            insert_users(write, tenant_id, 5_000, prefix="more")
            write.exec_driver_sql("SELECT pg_stat_force_next_flush()")

        database.write_sync(grow)
        assert "user" in _stale(database)
        assert "user" in database.write_sync(analyze_stale)
        plan = "\n".join(
            row[0]
            for row in connection.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE point({tenant_id}, 'x')"
            )
        )
        connection.rollback()
        assert "user_pkey" in plan, plan
