"""The directory's default order is served from ix_user_tenant_display_name, byte-wise."""

from sqlalchemy import Connection, select, text

from db.database import Database
from db.directory_lists import UserFilterSpec, UserSort, directory
from db.tenants import create_tenant


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

    def plan(connection: Connection) -> str:
        if not database.is_sqlite:
            connection.execute(text("SET LOCAL enable_seqscan = off"))
        query = users.restrict(select(text("1"))).order_by(
            UserSort().key_expression(), text('"user".id')
        )
        compiled = query.limit(10).compile(connection, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN QUERY PLAN " if database.is_sqlite else "EXPLAIN "
        rows = connection.exec_driver_sql(prefix + str(compiled)).all()
        return " ".join(str(row[-1]) for row in rows)

    described = database.read_sync(plan)
    assert "ix_user_tenant_display_name" in described
    assert "TEMP B-TREE" not in described.upper()  # SQLite: no sort step
    assert "Sort" not in described.split("Index")[0]  # PostgreSQL: no Sort above the scan
