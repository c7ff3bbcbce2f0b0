"""Read-only group look-ups and pages for the GraphQL API, scoped by tenant."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    bindparam,
    func,
    select,
    tuple_,
)

from db.directory_pages import BinaryText, keyset_page
from db.directory_reads import in_tenant_beside_the_key, rows_by_ids
from db.prepared import PreparedSelect
from db.tables import group_members, groups

GROUP_COLUMNS = (
    groups.c.id,
    groups.c.display_name,
    groups.c.external_id,
    groups.c.created,
    groups.c.last_modified,
)


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: str
    display_name: str
    external_id: str | None
    created: datetime
    last_modified: datetime


def group_record(row: Mapping[Any, Any]) -> GroupRecord:
    return GroupRecord(**{column.name: row[column.name] for column in GROUP_COLUMNS})


def group_key(record: GroupRecord) -> tuple[str, str]:
    return (record.display_name, record.id)


def _sort_name() -> ColumnElement[str]:
    return BinaryText(groups.c.display_name)


def groups_by_ids(
    connection: Connection, tenant_id: int, ids: Collection[str]
) -> dict[str, GroupRecord]:
    """The listed groups of the tenant, each looked up by primary key (``db.id_lists``, as
    ``users_by_ids``): as an IN list beside the tenant's condition SQLite, without statistics,
    read the tenant's every group through ``ix_group_tenant_external_id``."""
    if not ids:
        return {}
    values = {"ids": list(set(ids)), "tenant_id": tenant_id}
    rows = connection.execute(_GROUPS_BY_IDS[connection.dialect.name], values).mappings()
    return {row["id"]: group_record(row) for row in rows}


_GROUPS_BY_IDS = rows_by_ids(groups, GROUP_COLUMNS)


def group_by_display_name(
    connection: Connection, tenant_id: int, display_name: str
) -> GroupRecord | None:
    row = (
        connection.execute(
            select(*GROUP_COLUMNS).where(
                groups.c.tenant_id == tenant_id,
                func.lower(groups.c.display_name) == display_name.lower(),
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else group_record(row)


def _filter(tenant_id: int, search: str | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [groups.c.tenant_id == tenant_id]
    if search:
        found.append(func.lower(groups.c.display_name).contains(search.lower(), autoescape=True))
    return found


def groups_page(
    connection: Connection,
    tenant_id: int,
    search: str | None,
    *,
    first: int,
    after: tuple[str, str] | None,
) -> tuple[list[GroupRecord], bool]:
    page = keyset_page(
        connection,
        select(*GROUP_COLUMNS).where(*_filter(tenant_id, search)),
        [_sort_name(), groups.c.id],
        first=first,
        after=after,
    )
    return [group_record(row) for row in page.rows], page.has_next


def count_groups(connection: Connection, tenant_id: int, search: str | None) -> int:
    query = select(func.count()).select_from(groups).where(*_filter(tenant_id, search))
    return int(connection.execute(query).scalar_one())


@dataclass(frozen=True, slots=True)
class UserGroupsPage:
    """A page of one user's groups; ``total`` counts all of them, None when it is unknown
    (a page after a cursor sees only the rows after it)."""

    records: list[GroupRecord]
    has_next: bool
    total: int | None


def groups_of_users(
    connection: Connection,
    tenant_id: int,
    user_ids: Collection[str],
    *,
    first: int,
    after: tuple[str, str] | None,
) -> dict[str, UserGroupsPage]:
    """A page of each user's groups, for many users in one statement (ROW_NUMBER per user),
    with each user's number of groups on a first page (a window count: no second statement)."""
    found: dict[str, tuple[list[GroupRecord], bool, int | None]] = {}
    if not user_ids:
        return {}
    if len(user_ids) == 1 and after is None:
        # One user's first page (a profile card): a statement built once.
        (user_id,) = user_ids
        values = {"tenant_id": tenant_id, "user_id": user_id, "limit": first + 1}
        listed = _FIRST_GROUPS_OF_ONE_USER.rows(connection, values)
        return {user_id: first_groups_page(listed, first)}
    user = group_members.c.user_id
    position = func.row_number().over(partition_by=user, order_by=(_sort_name(), groups.c.id))
    inner = select(
        *GROUP_COLUMNS,
        user,
        position.label("position"),
        func.count().over(partition_by=user).label("total"),
    ).join(group_members, group_members.c.group_id == groups.c.id)
    inner = inner.where(
        in_tenant_beside_the_key(tenant_id, groups), group_members.c.user_id.in_(set(user_ids))
    )
    if after is not None:
        inner = inner.where(tuple_(_sort_name(), groups.c.id) > tuple_(*after))
    numbered = inner.subquery("numbered")
    rows = connection.execute(
        select(numbered)
        .where(numbered.c.position <= first + 1)
        .order_by(numbered.c.user_id, numbered.c.position)
    ).mappings()
    for row in rows:
        records, has_next, _ = found.get(row["user_id"]) or ([], False, None)
        total = int(row["total"]) if after is None else None
        if row["position"] > first:
            has_next = True
        else:
            records.append(group_record(row))
        found[row["user_id"]] = (records, has_next, total)
    empty_total = 0 if after is None else None
    return {
        user_id: UserGroupsPage(*found[user_id])
        if user_id in found
        else UserGroupsPage([], False, empty_total)
        for user_id in user_ids
    }


def first_groups_of_user(user_id: ColumnElement[str], limit: str) -> Select[Any]:
    """The first page of one user's groups, in the order of ``groups_page``, each row with
    the user's number of groups (``total``; a window count, so no second statement). Bound:
    ``tenant_id`` and the page's size plus one, under the name ``limit``."""
    return (
        select(*GROUP_COLUMNS, func.count().over().label("total"))
        .join(group_members, group_members.c.group_id == groups.c.id)
        .where(
            # Beside the key: the user's memberships are few, the tenant's groups many.
            in_tenant_beside_the_key(bindparam("tenant_id", type_=Integer), groups),
            group_members.c.user_id == user_id,
        )
        .order_by(_sort_name(), groups.c.id)
        .limit(bindparam(limit, type_=Integer))
    )


def first_groups_page(rows: Sequence[Mapping[str, Any]], first: int) -> UserGroupsPage:
    """The page of ``first_groups_of_user``'s rows (``first`` + 1 of them at most)."""
    total = int(rows[0]["total"]) if rows else 0
    return UserGroupsPage([group_record(row) for row in rows[:first]], len(rows) > first, total)


_FIRST_GROUPS_OF_ONE_USER = PreparedSelect(
    first_groups_of_user(bindparam("user_id", type_=String), "limit")
)


def count_groups_of_user(connection: Connection, tenant_id: int, user_id: str) -> int:
    query = (
        select(func.count())
        .select_from(group_members)
        .join(groups, groups.c.id == group_members.c.group_id)
        .where(groups.c.tenant_id == tenant_id, group_members.c.user_id == user_id)
    )
    return int(connection.execute(query).scalar_one())
