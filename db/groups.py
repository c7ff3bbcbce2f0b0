"""The group repository: groups of a tenant, their names and their membership.

Every function takes the caller's ``Connection`` and runs inside the caller's transaction, so
a SCIM PATCH applies all its operations atomically. Every change bumps the group's
``version`` and ``last_modified`` (the SCIM ETag and ``meta.lastModified``); the bump is an
``UPDATE`` of the group row, which on PostgreSQL also serialises concurrent changes of one
group (SQLite writers are serialised by ``BEGIN IMMEDIATE``).

``displayName`` is unique per tenant regardless of case (unique index
``ux_group_tenant_display_name``); the index decides races, and its violation becomes
``Conflict``. A ``Conflict`` or ``InvalidReference`` leaves the transaction unusable on
PostgreSQL: callers let it roll back.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Row,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import BinaryExpression, BooleanClauseList

from db import group_members as membership
from db.directory_reads import in_tenant_beside_the_key
from db.errors import Conflict, NotFound
from db.group_members import Member, MemberDelta
from db.org_changes import note_data_change
from db.tables import group_members, groups
from db.types import utcnow

#: The most member ids a write may carry and still count as short (``Database.write`` runs
#: it inline on SQLite); longer lists, and replacing a membership, grow with the group and
#: should ask for ``in_thread``.
SHORT_MEMBER_LIST = 100


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: str
    tenant_id: int
    display_name: str
    external_id: str | None
    created: datetime
    last_modified: datetime
    version: int
    members: list[Member] | None = None  # None: not loaded (e.g. excludedAttributes=members)


@dataclass(frozen=True, slots=True)
class GroupPage:
    total: int
    groups: list[GroupRecord]


@dataclass(frozen=True, slots=True)
class GroupRef:
    """A group as a member sees it (the read-only ``groups`` attribute of a user)."""

    id: str
    display_name: str


def _record(row: Row[Any], members: list[Member] | None = None) -> GroupRecord:
    return GroupRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        display_name=row.display_name,
        external_id=row.external_id,
        created=row.created,
        last_modified=row.last_modified,
        version=row.version,
        members=members,
    )


def _conflict(display_name: str, error: IntegrityError) -> Conflict:
    conflict = Conflict(f"a group named {display_name!r} already exists")
    conflict.__cause__ = error
    return conflict


def create_group(
    connection: Connection,
    tenant_id: int,
    display_name: str,
    *,
    external_id: str | None = None,
    member_ids: Sequence[str] = (),
) -> GroupRecord:
    """Insert a group (and its members); ``Conflict`` if the name is taken in any case."""
    now = utcnow()
    values = {
        "id": str(uuid.uuid4()),
        "tenant_id": tenant_id,
        "display_name": display_name,
        "external_id": external_id,
        "created": now,
        "last_modified": now,
        "version": 1,
    }
    try:
        connection.execute(insert(groups).values(values))
    except IntegrityError as error:
        raise _conflict(display_name, error) from error
    if member_ids:
        membership.insert_members(connection, tenant_id, str(values["id"]), member_ids)
    note_data_change(connection, tenant_id)
    return get_group(connection, tenant_id, str(values["id"]), with_members=True)


def get_group(
    connection: Connection,
    tenant_id: int,
    group_id: str,
    *,
    with_members: bool = True,
    for_update: bool = False,
    member_limit: int | None = None,
) -> GroupRecord:
    """One group; members are read only when asked for (a second, indexed query).

    With ``member_limit``, members are left unloaded (``None``) when there are more.
    """
    statement = _GROUP_FOR_UPDATE if for_update else _GROUP
    row = connection.execute(statement, {"tenant_id": tenant_id, "group_id": group_id}).first()
    if row is None:
        raise NotFound(f"no group {group_id!r}")
    record = _record(row)
    if with_members and member_limit is not None:
        record = replace(
            record, members=membership.load_members_up_to(connection, group_id, member_limit)
        )
    elif with_members:
        record = replace(record, members=membership.load_members(connection, [group_id])[group_id])
    return record


# Statements a group's every read or change runs, built once: SQLAlchemy then only binds the
# values, where a statement built per call is built and keyed for its cache every time.
_GROUP = select(groups).where(
    in_tenant_beside_the_key(bindparam("tenant_id", type_=Integer), groups),
    groups.c.id == bindparam("group_id", type_=String),
)
_GROUP_FOR_UPDATE = _GROUP.with_for_update()
# An UPDATE reserves the names of the columns it sets: the WHERE's values are named apart.
_TOUCH = (
    update(groups)
    .where(
        in_tenant_beside_the_key(bindparam("where_tenant_id", type_=Integer), groups),
        groups.c.id == bindparam("where_group_id", type_=String),
    )
    .values(version=groups.c.version + 1)
)


def touch_group(connection: Connection, tenant_id: int, group_id: str) -> None:
    """Bump version and lastModified (and lock the row); ``NotFound`` if there is no group."""
    values = {"where_tenant_id": tenant_id, "where_group_id": group_id, "last_modified": utcnow()}
    result = connection.execute(_TOUCH, values)
    if result.rowcount != 1:
        raise NotFound(f"no group {group_id!r}")
    note_data_change(connection, tenant_id)


_UNCHANGED: Any = object()


def update_group(
    connection: Connection,
    tenant_id: int,
    group_id: str,
    *,
    display_name: str = _UNCHANGED,
    external_id: str | None = _UNCHANGED,
) -> None:
    """Change the given fields only; ``Conflict`` if the new name is taken."""
    values: dict[str, Any] = {"version": groups.c.version + 1, "last_modified": utcnow()}
    if display_name is not _UNCHANGED:
        values["display_name"] = display_name
    if external_id is not _UNCHANGED:
        values["external_id"] = external_id
    try:
        result = connection.execute(
            update(groups)
            .where(in_tenant_beside_the_key(tenant_id, groups), groups.c.id == group_id)
            .values(values)
        )
    except IntegrityError as error:
        raise _conflict(str(display_name), error) from error
    if result.rowcount != 1:
        raise NotFound(f"no group {group_id!r}")
    note_data_change(connection, tenant_id)


def replace_group(
    connection: Connection,
    tenant_id: int,
    group_id: str,
    *,
    display_name: str,
    external_id: str | None,
    member_ids: Sequence[str],
) -> MemberDelta:
    """PUT: every field and the whole membership become what was sent; returns who joined
    and who left."""
    update_group(
        connection,
        tenant_id,
        group_id,
        display_name=display_name,
        external_id=external_id,
    )
    return membership.replace_members(connection, tenant_id, group_id, member_ids)


def delete_group(connection: Connection, tenant_id: int, group_id: str) -> None:
    """Delete a group and its memberships in the caller's transaction."""
    exists = connection.execute(
        select(groups.c.id)
        .where(in_tenant_beside_the_key(tenant_id, groups), groups.c.id == group_id)
        .with_for_update()
    ).first()
    if exists is None:
        raise NotFound(f"no group {group_id!r}")
    membership.delete_all_members(connection, group_id)
    connection.execute(delete(groups).where(groups.c.id == group_id))
    note_data_change(connection, tenant_id)


# -- membership --------------------------------------------------------------------------------


# Membership writes return who joined and who left (``MemberDelta``).


def add_members(
    connection: Connection, tenant_id: int, group_id: str, user_ids: Sequence[str]
) -> MemberDelta:
    """Add users (already-members are a no-op); ``InvalidReference`` if any id is unknown."""
    touch_group(connection, tenant_id, group_id)
    return MemberDelta().add(membership.insert_members(connection, tenant_id, group_id, user_ids))


def remove_members(
    connection: Connection, tenant_id: int, group_id: str, user_ids: Sequence[str]
) -> MemberDelta:
    """Remove only the listed users; ids that are not members are ignored."""
    touch_group(connection, tenant_id, group_id)
    return MemberDelta().remove(membership.delete_members(connection, group_id, user_ids))


def remove_all_members(connection: Connection, tenant_id: int, group_id: str) -> MemberDelta:
    touch_group(connection, tenant_id, group_id)
    return MemberDelta().remove(membership.take_all_members(connection, group_id))


def set_members(
    connection: Connection, tenant_id: int, group_id: str, user_ids: Sequence[str]
) -> MemberDelta:
    """The membership becomes exactly ``user_ids``."""
    touch_group(connection, tenant_id, group_id)
    return membership.replace_members(connection, tenant_id, group_id, user_ids)


def has_member(connection: Connection, tenant_id: int, group_id: str, user_id: str) -> bool:
    """One indexed look-up of the membership row, scoped by tenant; the group is not loaded."""
    row = connection.execute(
        select(group_members.c.user_id)
        .join(groups, groups.c.id == group_members.c.group_id)
        .where(
            group_members.c.group_id == group_id,
            group_members.c.user_id == user_id,
            groups.c.tenant_id == tenant_id,
        )
    ).first()
    return row is not None


# -- queries -----------------------------------------------------------------------------------


def _pins_the_id(where: ColumnElement[bool] | None) -> bool:
    """Whether ``where`` holds the group's id at one value (a filter ``id eq "…"``, alone or
    ANDed with other conditions)."""
    if isinstance(where, BinaryExpression):
        return where.left is groups.c.id and where.operator is operators.eq
    if isinstance(where, BooleanClauseList) and where.operator is operators.and_:
        return any(_pins_the_id(clause) for clause in where.clauses)
    return False


def _in_tenant(tenant_id: int, where: ColumnElement[bool] | None) -> ColumnElement[bool]:
    """The tenant's condition beside a filter. Beside the key when the filter names the id
    (Entra's ``id eq "…" and members[value eq "…"]``): with statistics taken when the tenant
    had a group or two, PostgreSQL costs a (tenant_id, ...) index like the primary key and
    may walk the tenant's every group to find one."""
    if _pins_the_id(where):
        return in_tenant_beside_the_key(tenant_id, groups)
    return groups.c.tenant_id == tenant_id


def count_groups(
    connection: Connection, tenant_id: int, where: ColumnElement[bool] | None = None
) -> int:
    return connection.execute(
        select(func.count())
        .select_from(groups)
        .where(_in_tenant(tenant_id, where), where if where is not None else true())
    ).scalar_one()


def list_groups(
    connection: Connection,
    tenant_id: int,
    *,
    where: ColumnElement[bool] | None = None,
    order_by: ColumnElement[Any] | None = None,
    descending: bool = False,
    offset: int = 0,
    limit: int | None = None,
    with_members: bool = True,
) -> GroupPage:
    """A page of the tenant's groups matching ``where``, with the total count.

    Pages are ordered by ``order_by`` (default: creation), then by id so that paging is
    stable. Members of the page's groups, when wanted, come in one more query.
    """
    condition = _in_tenant(tenant_id, where) & (where if where is not None else true())
    total = connection.execute(
        select(func.count()).select_from(groups).where(condition)
    ).scalar_one()
    if limit == 0 or total == 0:
        return GroupPage(total, [])
    primary = order_by if order_by is not None else groups.c.created
    statement = (
        select(groups)
        .where(condition)
        .order_by((primary.desc() if descending else primary.asc()).nulls_last(), groups.c.id)
        .offset(offset)
    )
    if limit is not None:
        statement = statement.limit(limit)
    rows = connection.execute(statement).all()
    members = (
        membership.load_members(connection, [row.id for row in rows]) if with_members else None
    )
    records = [_record(row, members[row.id] if members is not None else None) for row in rows]
    return GroupPage(total, records)


_GROUPS_OF_USER = (
    select(groups.c.id, groups.c.display_name)
    .join(group_members, group_members.c.group_id == groups.c.id)
    .where(
        group_members.c.user_id == bindparam("user_id", type_=String),
        in_tenant_beside_the_key(bindparam("tenant_id", type_=Integer), groups),
    )
    .order_by(groups.c.display_name, groups.c.id)
)


def groups_of_user(connection: Connection, tenant_id: int, user_id: str) -> list[GroupRef]:
    """The groups a user belongs to (via the index on ``group_member.user_id``)."""
    rows = connection.execute(_GROUPS_OF_USER, {"tenant_id": tenant_id, "user_id": user_id})
    return [GroupRef(group_id, name) for group_id, name in rows]
