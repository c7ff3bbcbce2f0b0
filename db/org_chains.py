"""Upward paths of many users in one recursive statement: each user followed by its managers.

The walk goes up ``manager_id`` links within the tenant. It is bounded by ``max_depth`` (the
depth guard that ends any loop on both databases) and also stops when it comes back to the
user it started from; what is left of a loop that does not pass through the start is cut in
Python at the first repeated user. Inactive managers are kept: callers decide what to show.

The user itself is the walk's first row, so one statement answers "this user and the managers
above": the org chart's person with their chain, a profile with its manager, both people of a
reporting path. A walk may start from ids or from lowered userNames.
"""

from collections.abc import Collection, Iterable, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    bindparam,
    func,
    literal,
    select,
)

from db.directory_reads import USER_COLUMNS, UserRecord, in_tenant_beside_the_key
from db.tables import users

#: A path: the user, then its managers nearest first.
Path = list[UserRecord]


def upward_paths(
    connection: Connection, tenant_id: int, user_ids: Collection[str], max_depth: int
) -> dict[str, Path]:
    """Each user followed by its managers, at most ``max_depth`` of them, loops cut; an empty
    path for an id that names no user of the tenant."""
    return _paths(connection, _BY_IDS, tenant_id, user_ids, max_depth)


def upward_paths_by_name(
    connection: Connection, tenant_id: int, user_names: Collection[str], max_depth: int
) -> dict[str, Path]:
    """``upward_paths`` of users given by userName (case-insensitive), keyed by the lowered
    name (the store's own lowering, as ``db.directory_reads.users_by_user_names`` keys)."""
    return _paths(connection, _BY_NAMES, tenant_id, {n.lower() for n in user_names}, max_depth)


def _paths(
    connection: Connection,
    statements: "_Statements",
    tenant_id: int,
    keys: Collection[str],
    max_depth: int,
) -> dict[str, Path]:
    if not keys:
        return {}
    values: dict[str, Any] = {"tenant_id": tenant_id, "max_depth": max(max_depth, 0)}
    # One person (a profile, the org chart) or two (a reporting path, a common manager): a
    # statement of fixed text. An expanding IN renders its parameters into the SQL text anew
    # on every execution.
    if len(keys) == 1:
        (values["key"],) = keys
        statement = statements.one
    elif len(keys) == 2:
        values["key"], values["other_key"] = sorted(keys)
        statement = statements.pair
    else:
        values["keys"] = sorted(keys)
        statement = statements.many
    return collect_paths(connection.execute(statement, values).all(), keys)


def collect_paths(rows: Iterable[Sequence[Any]], keys: Collection[str]) -> dict[str, Path]:
    """The paths of the walk's rows (each the start's key, the depth, then ``USER_COLUMNS``,
    in any order), an empty one for each key without rows."""
    paths: dict[str, Path] = {key: [] for key in keys}
    seen: dict[str, set[str]] = {key: set() for key in keys}
    broken: set[str] = set()
    # The walk's rows come in no promised order: a path is a few dozen rows, which Python
    # puts in order for less than SQLite's sorter costs the statement.
    for row in sorted(rows, key=_KEY_AND_DEPTH):
        key: str = row[0]
        path = paths[key]
        # A gap (a manager of another tenant, or a loop already cut) ends the path there.
        if key in broken or row[1] != len(path):
            broken.add(key)
            continue
        record = UserRecord(*row[2:])
        if record.id in seen[key]:
            broken.add(key)
            continue
        seen[key].add(record.id)
        path.append(record)
    return paths


_KEY_AND_DEPTH = itemgetter(0, 1)


def _paths_statement(key: ColumnElement[str], started: ColumnElement[bool]) -> Select[Any]:
    """The walk, built once per way of naming the users: the keys (one, or many in an
    expanding IN), the tenant and the depth are bound parameters, so a request only binds
    values to a statement SQLAlchemy has compiled and cached already.

    Each level carries its person's whole row: a step looks up the manager by primary key
    once, and nothing is joined again after the walk. The depth grows with every row, so no
    two rows are alike and ``UNION ALL`` loses nothing a ``UNION`` would keep, without the
    set of rows seen that a ``UNION`` maintains."""
    tenant_id = bindparam("tenant_id", type_=Integer)
    start = (
        select(
            key.label("start_key"),
            users.c.id.label("start_id"),
            literal(0).label("depth"),
            *USER_COLUMNS,
        )
        .where(started)
        .cte("path", recursive=True)
    )
    step = (
        select(start.c.start_key, start.c.start_id, (start.c.depth + 1), *USER_COLUMNS)
        .join(users, users.c.id == start.c.manager_id)
        .where(
            users.c.tenant_id == tenant_id,
            users.c.id != start.c.start_id,
            start.c.depth < bindparam("max_depth", type_=Integer),
        )
    )
    path = start.union_all(step)
    # No ORDER BY: ``collect_paths`` puts the rows in order (see there).
    return select(path.c.start_key, path.c.depth, *(path.c[column.name] for column in USER_COLUMNS))


class _Statements(NamedTuple):
    one: Select[Any]
    pair: Select[Any]
    many: Select[Any]


def _statements(key: ColumnElement[str], *, by_index: bool) -> _Statements:
    tenant = bindparam("tenant_id", type_=Integer)
    # By name, (tenant_id, lower(user_name)) is the index: ux_user_tenant_username.
    in_tenant = users.c.tenant_id == tenant if by_index else in_tenant_beside_the_key(tenant)
    one = key == bindparam("key", type_=String)
    pair = key.in_([bindparam("key", type_=String), bindparam("other_key", type_=String)])
    many = key.in_(bindparam("keys", expanding=True, type_=String))
    return _Statements(*(_paths_statement(key, in_tenant & keys) for keys in (one, pair, many)))


_BY_IDS = _statements(users.c.id, by_index=False)
#: The walk from one user by id (bound: ``key``, ``tenant_id``, ``max_depth``), for
#: statements that read more around the same person (``db.org_neighbourhood``).
ONE_BY_ID: Select[Any] = _BY_IDS.one
_BY_NAMES = _statements(func.lower(users.c.user_name), by_index=True)
