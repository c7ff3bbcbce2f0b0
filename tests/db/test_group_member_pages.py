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
