"""A group's members as GraphQL pages them: every member once, in the directory's order, and a
small group read from its membership rather than by walking the tenant's users."""

import re

import pytest
from sqlalchemy import Connection

from db import groups as repo
from db.database import Database
from db.directory_lists import SMALL_GROUP, UserPage, UserSet, UserSort, group_members_set
from db.tenants import create_tenant
from tests.db.test_directory_order_index import captured_statement, explain
from tests.directory_rows import insert_users

TENANT_USERS = SMALL_GROUP + 500


def _tenant_with_group(database: Database, members: int) -> tuple[int, str, list[str]]:
    """A tenant of ``TENANT_USERS`` users (and another tenant), one group of every
    ``TENANT_USERS // members``-th of them; the tenant, the group and its members' ids."""

    def work(connection: Connection) -> tuple[int, str, list[str]]:
        tenant = create_tenant(connection, "acme")
        other = create_tenant(connection, "globex")
        insert_users(connection, other.id, 50, "stranger", display_names=True)
        user_ids = insert_users(connection, tenant.id, TENANT_USERS, display_names=True)
        step = TENANT_USERS // members
        chosen = user_ids[::step][:members]
        group = repo.create_group(connection, tenant.id, "Team", member_ids=chosen)
        return tenant.id, group.id, chosen

    return database.write_sync(work)


def _walk(database: Database, members: UserSet, first: int) -> list[str]:
    sort = UserSort()
    seen: list[str] = []
    after: tuple[str, str] | None = None
    while True:

        def read(connection: Connection, after: tuple[str, str] | None = after) -> UserPage:
            return members.page(connection, sort, first=first, after=after)

        page = database.read_sync(read)
        seen += [user.id for user in page.users]
        assert len(page.users) == first or not page.has_next
        if not page.has_next:
            return seen
        after = sort.key_of(page.users[-1])


@pytest.mark.parametrize("size", [37, SMALL_GROUP + 1])
def test_member_pages_give_every_member_once_in_the_directorys_order(
    database: Database, size: int
) -> None:
    tenant_id, group_id, chosen = _tenant_with_group(database, size)
    members = group_members_set(tenant_id, group_id)
    names = {
        user.id: user.display_name or ""
        for user in database.read_sync(
            lambda c: members.page(c, UserSort(), first=10_000, after=None)
        ).users
    }
    assert sorted(names) == sorted(chosen)
    expected = sorted(chosen, key=lambda user_id: (names[user_id], user_id))
    assert _walk(database, members, first=9) == expected
    assert database.read_sync(members.count) == size


def test_a_small_groups_page_and_count_read_only_its_membership(database: Database) -> None:
    """Neither walks the tenant's users in the directory's order (ix_user_tenant_display_name)
    nor reads the user table beyond a probe by primary key per member."""
    tenant_id, group_id, _ = _tenant_with_group(database, 20)
    members = group_members_set(tenant_id, group_id)
    page_plan = "\n".join(
        explain(
            database,
            *captured_statement(
                database,
                "group_member",
                lambda c: members.page(c, UserSort(), first=10, after=None),
            ),
        )
    )
    count_plan = "\n".join(explain(database, *captured_statement(database, "count", members.count)))
    for plan in (page_plan, count_plan):
        assert "ix_user_tenant_display_name" not in plan, plan
        if database.is_sqlite:
            assert not re.search(r"SCAN (user|group_member)\b", plan), plan
        else:
            assert "Seq Scan" not in plan, plan
    # The count reads the membership alone.
    assert "user" not in count_plan.replace("group_member", ""), count_plan


def test_whether_a_group_is_small_is_read_from_its_key_range(isolated_database: Database) -> None:
    """With statistics that make groups large on average, the check still reads the small
    group's range of the membership's primary key, also in the generic plan PostgreSQL may
    switch to once the statement is prepared (asyncpg prepares every statement): expecting
    an average group, that plan would read the table until the limit filled."""
    database = isolated_database

    def work(connection: Connection) -> UserSet:
        tenant = create_tenant(connection, "acme")
        user_ids = insert_users(connection, tenant.id, 4 * SMALL_GROUP)
        for number in range(3):
            repo.create_group(connection, tenant.id, f"Large {number}", member_ids=user_ids)
        few = repo.create_group(connection, tenant.id, "Few", member_ids=user_ids[:3])
        return group_members_set(tenant.id, few.id)

    members = database.write_sync(work)
    database.write_sync(lambda c: c.exec_driver_sql("ANALYZE"))
    statement, parameters = captured_statement(
        database, "LIMIT", lambda c: members.page(c, UserSort(), first=10, after=None)
    )
    assert "page_ids" not in statement  # the check, which runs first

    def plan(connection: Connection) -> str:
        if database.is_sqlite:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(str(row[-1]) for row in rows)
        # The statement prepared with its parameters as $1, $2 ..., its generic plan forced.
        names: list[str] = []

        def numbered(match: re.Match[str]) -> str:
            names.append(match.group(1))
            return f"${len(names)}"

        prepared = re.sub(r"%\((\w+)\)s", numbered, statement)
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        connection.exec_driver_sql("PREPARE small_group_check AS " + prepared)
        # A utility statement takes no parameters: EXECUTE gets the values as literals.
        listed = ", ".join(_literal(parameters[name]) for name in names)
        rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE) EXECUTE small_group_check({listed})")
        described = "\n".join(str(row[-1]) for row in rows)
        connection.exec_driver_sql("DEALLOCATE small_group_check")
        return described

    described = database.write_sync(plan)  # SET LOCAL: in a transaction
    if database.is_sqlite:
        assert "SEARCH group_member USING COVERING INDEX" in described, described
    else:
        assert "$1" in described or "$2" in described, described  # the generic plan
        assert "Seq Scan" not in described, described
        assert "group_member_pkey" in described, described


def _literal(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    assert isinstance(value, str)
    return "'" + value.replace("'", "''") + "'"
