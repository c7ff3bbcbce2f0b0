"""Groups found by id or through a person's memberships are probed by primary key, not found
by reading every group of the tenant.

A tenant's groups run to thousands. Without statistics (SQLite gathers none by itself, and a
tenant Entra has just filled has none worth the name) an equality on the tenant looks
selective, so both databases would rather read the tenant's range of a (tenant_id, ...)
group index and test each group than follow the few memberships or ids the statement is
about. On SQLite a profile card's groups cost milliseconds that way at 3,000 groups.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import ColumnElement, Connection, and_, event, exists, insert

from db.database import Database
from db.directory_groups import groups_by_ids, groups_of_users
from db.groups import create_group, get_group, groups_of_user, list_groups, touch_group
from db.org_neighbourhood import org_neighbourhood
from db.tables import group_members, groups
from db.tenants import create_tenant
from db.users import delete_user
from tests.db.test_directory_order_index import captured_statement, explain
from tests.directory_rows import insert_groups, insert_users

#: Enough groups that a read of the tenant's every group is the expensive plan.
TENANT_GROUPS = 600
#: Every this-many-th group holds the person.
STEP = 150


@dataclass(frozen=True)
class Tenant:
    id: int
    person: str
    colleague: str
    group_ids: list[str]
    persons_groups: list[str]


def _tenant(database: Database) -> Tenant:
    """A tenant with ``TENANT_GROUPS`` groups (and another tenant's group), a person in every
    ``STEP``-th of them and a colleague in the first two."""

    def work(connection: Connection) -> Tenant:
        tenant = create_tenant(connection, "acme")
        other = create_tenant(connection, "globex")
        person, colleague = insert_users(connection, tenant.id, 2, display_names=True)
        (elsewhere,) = insert_groups(connection, other.id, 1)
        group_ids = insert_groups(connection, tenant.id, TENANT_GROUPS)
        persons = group_ids[::STEP]
        memberships = [{"group_id": group_id, "user_id": person} for group_id in persons]
        memberships += [{"group_id": group_id, "user_id": colleague} for group_id in group_ids[:2]]
        # A membership no write would make: another tenant's group holding the person.
        memberships.append({"group_id": elsewhere, "user_id": person})
        connection.execute(insert(group_members), memberships)
        return Tenant(tenant.id, person, colleague, group_ids, persons)

    return database.write_sync(work)


def _assert_probes_groups_by_key(database: Database, statement: str, parameters: object) -> None:
    plan = "\n".join(explain(database, statement, parameters))
    if database.is_sqlite:
        assert "USING INDEX sqlite_autoindex_group_1 (id=?)" in plan, plan
    else:
        assert "group_pkey" in plan, plan
    # ix_group_tenant_external_id, ux_group_tenant_display_name: the tenant's every group
    assert "_group_tenant_" not in plan, plan


@pytest.mark.parametrize("count", [2, 10, 100])
def test_groups_by_ids_probe_the_primary_key(database: Database, count: int) -> None:
    tenant = _tenant(database)
    ids = tenant.group_ids[: count * 5 : 5]
    found = database.read_sync(lambda c: groups_by_ids(c, tenant.id, [*ids, "nobody"]))
    assert sorted(found) == sorted(ids)
    assert all(found[group_id].id == group_id for group_id in ids)
    assert database.read_sync(lambda c: groups_by_ids(c, tenant.id + 1, ids)) == {}
    _assert_probes_groups_by_key(
        database, *captured_statement(database, "FROM", lambda c: groups_by_ids(c, tenant.id, ids))
    )


ReadOfGroups = Callable[[Connection, Tenant], list[str]]


def _of_one(connection: Connection, tenant: Tenant) -> list[str]:
    page = groups_of_users(connection, tenant.id, [tenant.person], first=10, after=None)
    return [group.id for group in page[tenant.person].records]


def _of_two(connection: Connection, tenant: Tenant) -> list[str]:
    pages = groups_of_users(
        connection, tenant.id, [tenant.person, tenant.colleague], first=10, after=None
    )
    return [group.id for group in pages[tenant.person].records]


def _of_scim_user(connection: Connection, tenant: Tenant) -> list[str]:
    return [group.id for group in groups_of_user(connection, tenant.id, tenant.person)]


def _of_profile_card(connection: Connection, tenant: Tenant) -> list[str]:
    card = org_neighbourhood(
        connection,
        tenant.id,
        tenant.person,
        max_depth=0,
        team=None,
        managers_team=None,
        groups=10,
    )
    assert card.groups is not None
    return [group.id for group in card.groups.records]


@pytest.mark.parametrize(
    "read",
    [_of_one, _of_two, _of_scim_user, _of_profile_card],
    ids=["one user's page", "two users' pages", "scim user", "profile card"],
)
def test_a_persons_groups_come_through_the_membership(
    database: Database, read: ReadOfGroups
) -> None:
    tenant = _tenant(database)
    assert database.read_sync(lambda c: read(c, tenant)) == tenant.persons_groups
    statement, parameters = captured_statement(database, "group_member", lambda c: read(c, tenant))
    _assert_probes_groups_by_key(database, statement, parameters)


def test_a_deleted_persons_groups_are_updated_through_the_membership(
    database: Database,
) -> None:
    tenant = _tenant(database)
    updates: list[tuple[str, object]] = []

    def delete(connection: Connection) -> None:
        deleted = delete_user(connection, tenant.id, tenant.person)
        assert deleted is not None
        assert sorted(group_id for group_id, _ in deleted.groups) == sorted(tenant.persons_groups)

    def capture(*args: object) -> None:
        if str(args[2]).startswith('UPDATE "group"'):
            updates.append((str(args[2]), args[3]))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        database.write_sync(delete)
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
    assert len(updates) == 1
    _assert_probes_groups_by_key(database, *updates[0])


def _one_group_then_many(database: Database) -> tuple[int, str]:
    """A tenant whose statistics were taken when it had one group, grown since by
    ``TENANT_GROUPS`` groups without a new ANALYZE; the tenant and its first group."""

    def first(connection: Connection) -> tuple[int, str]:
        tenant = create_tenant(connection, "acme")
        return tenant.id, create_group(connection, tenant.id, "First").id

    tenant_id, group_id = database.write_sync(first)
    database.write_sync(lambda c: c.exec_driver_sql('ANALYZE "group"'))
    database.write_sync(lambda c: insert_groups(c, tenant_id, TENANT_GROUPS))
    return tenant_id, group_id


#: Reads a group by id; the ids it found.
ReadOfOneGroup = Callable[[Connection, int, str], list[str]]


def _filtered(*, with_member: bool) -> ReadOfOneGroup:
    """A SCIM list filtered on the id (and a member no group holds)."""

    def read(connection: Connection, tenant_id: int, group_id: str) -> list[str]:
        where = groups.c.id == group_id
        if with_member:
            where = and_(where, _has_member("nobody"))
        return [record.id for record in list_groups(connection, tenant_id, where=where).groups]

    return read


def _touched(connection: Connection, tenant_id: int, group_id: str) -> list[str]:
    touch_group(connection, tenant_id, group_id)  # NotFound when there is no such group
    return [group_id]


def _has_member(user_id: str) -> ColumnElement[bool]:
    return exists().where(
        group_members.c.group_id == groups.c.id, group_members.c.user_id == user_id
    )


@pytest.mark.parametrize(
    ("read", "finds"),
    [
        (lambda c, t, g: [get_group(c, t, g, with_members=False).id], True),
        (lambda c, t, g: [get_group(c, t, g, with_members=False, for_update=True).id], True),
        (_touched, True),
        # The SCIM filters ``id eq "…"`` and ``id eq "…" and members[value eq "…"]``:
        (_filtered(with_member=False), True),
        (_filtered(with_member=True), False),
    ],
    ids=["get", "get for update", "touch", "filter id", "filter id and member"],
)
def test_a_group_by_id_is_probed_by_primary_key_whatever_the_statistics(
    isolated_database: Database, read: ReadOfOneGroup, finds: bool
) -> None:
    """With statistics of a tenant that had one group, every (tenant_id, ...) group index
    costs as little as the primary key to PostgreSQL, which then may walk the tenant's every
    group to find one: the tenant's condition stays out of index reach."""
    database = isolated_database
    tenant_id, group_id = _one_group_then_many(database)
    statements: list[tuple[str, object]] = []

    def capture(*args: object) -> None:
        if '"group"' in str(args[2]).split("WHERE")[0]:
            statements.append((str(args[2]), args[3]))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        found = database.write_sync(lambda c: read(c, tenant_id, group_id))
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
    assert found == ([group_id] if finds else [])
    assert statements
    for statement, parameters in statements:
        _assert_probes_groups_by_key(database, statement, parameters)
