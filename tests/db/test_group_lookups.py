"""Groups found by id or through a person's memberships are probed by primary key, not found
by reading every group of the tenant.

A tenant's groups run to thousands. Without statistics (SQLite gathers none by itself, and a
tenant Entra has just filled has none worth the name) an equality on the tenant looks
selective, so both databases would rather read the tenant's range of a (tenant_id, ...)
group index and test each group than follow the few memberships or ids the statement is
about. On SQLite a profile card's groups cost milliseconds that way at 3,000 groups.
"""

import uuid
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
from db.types import utcnow
from db.users import delete_user
from tests.db.test_directory_order_index import captured_statement, explain
from tests.directory_rows import insert_users

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
        now = utcnow()
        rows = [
            {
                "id": str(uuid.uuid4()),
                "tenant_id": tenant_id,
                "display_name": f"Group {number:04d}",
                "external_id": None,
                "created": now,
                "last_modified": now,
                "version": 1,
            }
            for tenant_id, number in [(other.id, 0)]
            + [(tenant.id, number) for number in range(TENANT_GROUPS)]
        ]
        connection.execute(insert(groups), rows)
        group_ids = [str(row["id"]) for row in rows[1:]]
        persons = group_ids[::STEP]
        memberships = [{"group_id": group_id, "user_id": person} for group_id in persons]
        memberships += [{"group_id": group_id, "user_id": colleague} for group_id in group_ids[:2]]
        # A membership no write would make: another tenant's group holding the person.
        memberships.append({"group_id": str(rows[0]["id"]), "user_id": person})
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
    tenant_id, group_id = database.write_sync(
        lambda c: (lambda t: (t.id, create_group(c, t.id, "First").id))(create_tenant(c, "acme"))
    )
    database.write_sync(lambda c: c.exec_driver_sql('ANALYZE "group"'))
    database.write_sync(lambda c: _insert_groups(c, tenant_id, TENANT_GROUPS))
    return tenant_id, group_id


def _insert_groups(connection: Connection, tenant_id: int, count: int) -> None:
    now = utcnow()
    rows = [
        {
            "id": str(uuid.uuid4()),
            "tenant_id": tenant_id,
            "display_name": f"Later group {number}",
            "external_id": None,
            "created": now,
            "last_modified": now,
            "version": 1,
        }
        for number in range(count)
    ]
    connection.execute(insert(groups), rows)


ReadOfOneGroup = Callable[[Connection, int, str], object]


def _has_member(user_id: str) -> ColumnElement[bool]:
    return exists().where(
        group_members.c.group_id == groups.c.id, group_members.c.user_id == user_id
    )


@pytest.mark.parametrize(
    "read",
    [
        lambda c, t, g: get_group(c, t, g, with_members=False),
        lambda c, t, g: get_group(c, t, g, with_members=False, for_update=True),
        lambda c, t, g: touch_group(c, t, g),
        # The SCIM filters ``id eq "…"`` and ``id eq "…" and members[value eq "…"]``:
        lambda c, t, g: list_groups(c, t, where=groups.c.id == g),
        lambda c, t, g: list_groups(c, t, where=and_(groups.c.id == g, _has_member("u"))),
    ],
    ids=["get", "get for update", "touch", "filter id", "filter id and member"],
)
def test_a_group_by_id_is_probed_by_primary_key_whatever_the_statistics(
    isolated_database: Database, read: ReadOfOneGroup
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
        database.write_sync(lambda c: read(c, tenant_id, group_id))
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
    assert statements
    for statement, parameters in statements:
        _assert_probes_groups_by_key(database, statement, parameters)
