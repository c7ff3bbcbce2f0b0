"""Entra's group look-ups are answered from indexes on both databases (EXPLAIN)."""

import re

import pytest
from sqlalchemy import Connection, func, select, text

from db import groups as repo
from db.database import Database
from db.tables import groups
from db.tenants import create_tenant, get_tenant
from scim.filters import compile_group_filter
from tests.directory_rows import insert_users


def _plan(connection: Connection, filter_text: str) -> str:
    tenant = get_tenant(connection, "acme").id
    statement = (
        select(func.count())
        .select_from(groups)
        .where(groups.c.tenant_id == tenant, compile_group_filter(filter_text))
    )
    sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "sqlite":
        rows = connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
        return "\n".join(str(row[-1]) for row in rows)
    connection.execute(text("SET LOCAL enable_seqscan = off"))  # small tables: ask for indexes
    return "\n".join(row[0] for row in connection.execute(text(f"EXPLAIN {sql}")))


@pytest.fixture
def populated(database: Database) -> tuple[str, str]:
    def work(connection: Connection) -> tuple[str, str]:
        tenant = create_tenant(connection, "acme").id
        user_ids = insert_users(connection, tenant, 200)
        group = repo.create_group(connection, tenant, "Sales", member_ids=user_ids)
        for number in range(50):
            repo.create_group(connection, tenant, f"Group {number}", member_ids=user_ids[:5])
        return group.id, user_ids[7]

    return database.write_sync(work)


def test_membership_check_uses_the_membership_key(
    database: Database, populated: tuple[str, str]
) -> None:
    group_id, user_id = populated
    plan = database.write_sync(
        lambda c: _plan(c, f'id eq "{group_id}" and members[value eq "{user_id}"]')
    )
    if database.is_sqlite:
        assert re.search(
            r"USING (COVERING )?INDEX (sqlite_autoindex_group_member_1|ix_group_member_user_id)",
            plan,
        ), plan
        assert "SCAN filter_group_member" not in plan, plan
    else:
        # The (group_id, user_id) key or the user_id index: either finds one row.
        assert re.search(
            r"Index (Only )?Scan using (group_member_pkey|ix_group_member_user_id) on group_member",
            plan,
        ), plan
        assert "Seq Scan" not in plan, plan


def test_display_name_lookup_uses_the_case_insensitive_index(
    database: Database, populated: tuple[str, str]
) -> None:
    plan = database.write_sync(lambda c: _plan(c, 'displayName eq "sales"'))
    assert "ux_group_tenant_display_name" in plan, plan
    if not database.is_sqlite:
        assert "Seq Scan" not in plan, plan


def test_external_id_lookup_uses_its_index(database: Database, populated: tuple[str, str]) -> None:
    plan = database.write_sync(lambda c: _plan(c, 'externalId eq "abc"'))
    assert "ix_group_tenant_external_id" in plan, plan
