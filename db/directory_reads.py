"""Read-only user look-ups for the GraphQL API: records by id or userName, in one statement.

Every function is scoped by tenant: an id of another tenant simply finds nothing.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    func,
    select,
)

from db.id_lists import DIALECTS, listed_ids
from db.prepared import PreparedSelect
from db.tables import users


# Not ``frozen``: a frozen dataclass sets each field through ``object.__setattr__``, several
# times the cost of a plain assignment, and pages build a record per row (an org chart about
# eighty). Nothing assigns to a record after it is built; it hashes by its fields as before.
@dataclass(slots=True, unsafe_hash=True)
class UserRecord:
    """The typed columns of one user, as the GraphQL API shows them. Each field is named
    after its column of ``db.tables.users`` (``USER_COLUMNS`` is derived from the fields).
    Read-only by convention."""

    id: str
    user_name: str
    external_id: str | None
    active: bool
    display_name: str | None
    title: str | None
    given_name: str | None
    family_name: str | None
    email: str | None
    work_phone: str | None
    mobile_phone: str | None
    department: str | None
    employee_number: str | None
    manager_id: str | None
    company: str | None
    description: str | None
    location: str | None
    created: datetime
    last_modified: datetime


#: The user table's columns the record shows, in the record's order (rows build records
#: positionally). A field that names no column fails here, at import.
USER_COLUMNS = tuple(users.c[field.name] for field in fields(UserRecord))

# itemgetter over the column names rather than a dict of keyword arguments per row: pages
# of 100 users with their managers build 200 records.
_USER_VALUES = itemgetter(*(column.name for column in USER_COLUMNS))


def user_record(row: Mapping[Any, Any]) -> UserRecord:
    return UserRecord(*_USER_VALUES(row))


def in_tenant(tenant_id: int) -> ColumnElement[bool]:
    return users.c.tenant_id == tenant_id


def in_tenant_beside_the_key(
    tenant_id: int | ColumnElement[int], table: FromClause = users
) -> ColumnElement[bool]:
    """The tenant check of a row (a user, a group) found by its primary key, or through a
    membership, kept out of index reach (``+ 0``): without statistics SQLite, and with
    statistics from when the tenant had a row or two PostgreSQL, would rather read all the
    tenant's rows through one of its (tenant_id, ...) indexes than probe the key."""
    return table.c.tenant_id + 0 == tenant_id


def users_by_ids(
    connection: Connection, tenant_id: int, ids: Collection[str]
) -> dict[str, UserRecord]:
    if not ids:
        return {}
    if len(ids) == 1:
        # one user (``user(id)``): a prepared statement instead of building the IN
        (user_id,) = ids
        values = {"tenant_id": tenant_id, "id": user_id}
        return {row[0]: UserRecord(*row) for row in _ONE_USER.tuples(connection, values)}
    # The ids as one parameter, each probed by primary key (``db.id_lists``): as an IN list
    # beside the tenant's condition, SQLite (no statistics) read the tenant's whole range of
    # an index for ten ids or more.
    values = {"ids": list(set(ids)), "tenant_id": tenant_id}
    rows = connection.execute(_USERS_BY_IDS[connection.dialect.name], values)
    return {row[0]: UserRecord(*row) for row in rows}


def rows_by_ids(table: Table, columns: Sequence[ColumnElement[Any]]) -> dict[str, Select[Any]]:
    """Per dialect, ``columns`` of the rows of ``table`` (a user, a group) whose ids are
    listed in the parameter ``ids`` and whose tenant is ``tenant_id``: the list joined to the
    table by primary key. A join suits the page's worth of ids a DataLoader batches; the
    member check, whose lists run to thousands of ids, forces a probe per id with a scalar
    subquery instead (``db.group_members``), where a planner could prefer hashing the whole
    tenant."""
    statements = {}
    for dialect in DIALECTS:
        wanted = listed_ids(dialect)
        statements[dialect] = (
            select(*columns)
            .select_from(wanted)
            .join(table, table.c.id == wanted.c.value)
            .where(in_tenant_beside_the_key(bindparam("tenant_id", type_=Integer), table))
        )
    return statements


_USERS_BY_IDS = rows_by_ids(users, USER_COLUMNS)


_ONE_USER = PreparedSelect(
    select(*USER_COLUMNS).where(
        users.c.tenant_id == bindparam("tenant_id", type_=Integer),
        users.c.id == bindparam("id", type_=String),
    )
)


def user_by_user_name(connection: Connection, tenant_id: int, user_name: str) -> UserRecord | None:
    """userName is case-insensitive (SCIM caseExact=false); uses ux_user_tenant_username."""
    row = (
        connection.execute(
            select(*USER_COLUMNS).where(
                in_tenant(tenant_id), func.lower(users.c.user_name) == user_name.lower()
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else user_record(row)


def users_by_user_names(
    connection: Connection, tenant_id: int, user_names: Collection[str]
) -> dict[str, UserRecord]:
    """Users by userName (case-insensitive, like ``user_by_user_name``), in one statement;
    each found record keyed by the lowered name it was asked for (the store lowers the
    column, so the store's own lowering maps a row back to its key)."""
    wanted = {name.lower() for name in user_names}
    if not wanted:
        return {}
    if len(wanted) == 1:
        # One name (a profile): ``=``, which both databases make of a one-value IN anyway,
        # without expanding the IN's parameters into the SQL text on every execution.
        (name,) = wanted
        found = connection.execute(_BY_NAME, {"tenant_id": tenant_id, "name": name})
    else:
        values = {"tenant_id": tenant_id, "names": sorted(wanted)}
        found = connection.execute(_BY_NAMES, values)
    return {row[-1]: UserRecord(*row[:-1]) for row in found.all()}


_LOWERED_USER_NAME = func.lower(users.c.user_name)
# Built once (the names an expanding IN): a request binds values to a cached statement.
_BY_NAMES = select(*USER_COLUMNS, _LOWERED_USER_NAME.label("lowered_user_name")).where(
    users.c.tenant_id == bindparam("tenant_id", type_=Integer),
    _LOWERED_USER_NAME.in_(bindparam("names", expanding=True, type_=String)),
)
_BY_NAME = select(*USER_COLUMNS, _LOWERED_USER_NAME.label("lowered_user_name")).where(
    users.c.tenant_id == bindparam("tenant_id", type_=Integer),
    func.lower(users.c.user_name) == bindparam("name", type_=String),
)


def direct_report_counts(
    connection: Connection, tenant_id: int, manager_ids: Iterable[str], *, include_inactive: bool
) -> dict[str, int]:
    """Number of direct reports of each manager, in one grouped statement."""
    ids = set(manager_ids)
    if not ids:
        return {}
    query = (
        select(users.c.manager_id, func.count())
        .where(in_tenant(tenant_id), users.c.manager_id.in_(ids))
        .group_by(users.c.manager_id)
    )
    if not include_inactive:
        query = query.where(users.c.active.is_(True))
    return {str(manager_id): int(count) for manager_id, count in connection.execute(query)}


# A page also brings each user's manager (same tenant), so showing managers costs nothing more.
MANAGER = users.alias("manager")
MANAGER_PREFIX = "manager__"
MANAGER_COLUMNS = tuple(
    MANAGER.c[column.name].label(MANAGER_PREFIX + column.name) for column in USER_COLUMNS
)


def with_managers(query: Select[Any], tenant_id: int) -> Select[Any]:
    """``query`` (over ``user``) plus the manager's columns, LEFT JOINed within the tenant."""
    return query.add_columns(*MANAGER_COLUMNS).outerjoin(
        MANAGER, and_(MANAGER.c.id == users.c.manager_id, MANAGER.c.tenant_id == tenant_id)
    )


_MANAGER_VALUES = itemgetter(*(MANAGER_PREFIX + column.name for column in USER_COLUMNS))


def manager_record(row: Mapping[Any, Any]) -> UserRecord | None:
    if row[MANAGER_PREFIX + "id"] is None:
        return None
    return UserRecord(*_MANAGER_VALUES(row))
