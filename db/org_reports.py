"""Transitive reports of users, breadth-first, with keyset pages — many users at once.

The recursive walk goes down ``manager_id`` links within the tenant, bounded by ``max_depth``,
and remembers which user (``root_id``) each walk started from. Every user has one manager, so
the only way a downward walk can meet a user twice is by coming back to where it started (a
manager loop through that user); the walk never re-enters its start, so each report appears
once per start, at its true depth. (A loop that does not pass through the start cannot be
entered from above: each of its members' one manager is inside the loop.) So the walk is a
``UNION ALL`` — ``UNION`` would only sort rows that cannot repeat — and the depth bound is
the belt and braces.

The walk carries only what ordering, filtering and counting need (depth, displayName, active,
manager id), so numbering and counting run over thin rows; only the page (``first + 1`` rows
per root) is joined back to ``user``, instead of every report of a large org, and each manager
the page needs comes once, in rows of its own (see ``_with_managers``). The
statements are built once per shape (cursor or not, inactive included or not) with bound
parameters, so a request does not pay for building them.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal,
    null,
    select,
    true,
    tuple_,
    union_all,
)

from db.collation import BinaryText
from db.directory_reads import MANAGER, USER_COLUMNS, UserRecord
from db.prepared import PreparedSelect
from db.tables import users

ReportKey = tuple[int, str, str]  # (depth, displayName or "", id)

_TENANT = bindparam("tenant_id", type_=Integer)


@dataclass(frozen=True, slots=True)
class ReportRow:
    depth: int
    user: UserRecord


@dataclass(frozen=True, slots=True)
class ReportsPage:
    rows: list[ReportRow]
    #: The managers of the rows that the caller does not have already, each once.
    managers: list[UserRecord]
    has_next: bool
    total: int | None  # None when a page after a cursor is empty: count separately


def report_key(row: ReportRow) -> ReportKey:
    return (row.depth, row.user.display_name or "", row.user.id)


def reports_pages(
    connection: Connection,
    tenant_id: int,
    root_ids: Collection[str],
    *,
    min_depth: int,
    max_depth: int,
    include_inactive: bool,
    first: int,
    after: ReportKey | None,
) -> dict[str, ReportsPage]:
    """One statement: for each root, the page ordered by (depth, displayName, id) and the
    total count (ROW_NUMBER and COUNT per root)."""
    # Without a cursor, a root with no rows has no reports at all; after a cursor, an empty
    # page says nothing about the total.
    empty = ReportsPage([], [], False, 0 if after is None else None)
    pages = dict.fromkeys(root_ids, empty)
    if not root_ids:
        return pages
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "min_depth": min_depth,
        "max_depth": max_depth,
        "limit": first + 1,
    }
    if after is not None:
        values.update(after_depth=after[0], after_name=after[1], after_id=after[2])
    rows: Iterable[Sequence[Any]]
    if len(pages) == 1:
        (values["root_id"],) = pages
        rows = _one_root_statement(include_inactive, after is not None).tuples(connection, values)
    else:
        values["root_ids"] = list(pages)
        statement = _page_statement(include_inactive, after is not None)
        rows = connection.execute(statement, values).all()
    found: dict[str, list[ReportRow]] = {}
    managers: dict[str, list[UserRecord]] = {}
    totals: dict[str, int] = {}
    for row in rows:
        root_id = row[_ROOT_ID]
        depth = row[_DEPTH]
        if depth is None:  # a manager's row
            managers.setdefault(root_id, []).append(UserRecord(*row[_USER]))
        else:
            found.setdefault(root_id, []).append(ReportRow(depth, UserRecord(*row[_USER])))
            totals[root_id] = row[_TOTAL]
    for root_id, root_rows in found.items():
        # The statement leaves the order to us (see ``_with_managers``); the cursor's key is
        # the order, as ``BinaryText`` makes the database sort like Python.
        root_rows.sort(key=report_key)
        pages[root_id] = ReportsPage(
            root_rows[:first],
            managers.get(root_id, []),
            len(root_rows) > first,
            totals[root_id],
        )
    return pages


def count_reports(
    connection: Connection,
    tenant_id: int,
    root_id: str,
    *,
    min_depth: int,
    max_depth: int,
    include_inactive: bool,
) -> int:
    values = {
        "tenant_id": tenant_id,
        "root_id": root_id,
        "min_depth": min_depth,
        "max_depth": max_depth,
    }
    return int(connection.execute(_count_statement(include_inactive), values).scalar_one())


@cache
def _one_root_statement(include_inactive: bool, after: bool) -> PreparedSelect:
    """The page of one root: ORDER BY ... LIMIT instead of numbering rows per root (one
    sort fewer), built once. The total is a scalar subquery over the same walk (computed
    once): a ``COUNT(*) OVER ()`` window would make the database keep every member before
    sorting."""
    members = _members(include_inactive, one_root=True)
    total = select(func.count()).select_from(members).scalar_subquery()
    order = (members.c.depth, BinaryText(members.c.sort_name), members.c.user_id)
    limited = (
        select(members, total.label("total"))
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer))
    )
    if after:
        limited = limited.where(tuple_(*order) > _after())
    return PreparedSelect(_with_managers(limited.cte("page"), after=after))


@cache
def _page_statement(include_inactive: bool, after: bool) -> CompoundSelect[Any]:
    members = _members(include_inactive, one_root=False)
    counted = select(
        members, func.count().over(partition_by=members.c.root_id).label("total")
    ).subquery("counted")
    order = (counted.c.depth, BinaryText(counted.c.sort_name), counted.c.user_id)
    numbered = select(
        counted,
        func.row_number().over(partition_by=counted.c.root_id, order_by=order).label("position"),
    )
    if after:
        numbered = numbered.where(tuple_(*order) > _after())
    ranked = numbered.subquery("ranked")
    page = select(ranked).where(ranked.c.position <= bindparam("limit")).cte("page")
    return _with_managers(page, after=after)


def _after() -> Any:
    return tuple_(
        bindparam("after_depth", type_=Integer),
        bindparam("after_name", type_=String),
        bindparam("after_id", type_=String),
    )


def _with_managers(page: Any, *, after: bool) -> CompoundSelect[Any]:
    """The page's users, by primary key, then the managers the caller does not have already,
    each once (``depth`` NULL), however many of the page's rows it manages: a skip-level page
    is mostly a few managers' teams.

    Without a cursor, a manager that is the root or is listed on the same page (an earlier
    row: the page goes breadth-first) is not fetched again. After a cursor the manager may be
    on an earlier page, so every manager comes along.

    Unordered: the caller sorts each page by its cursor key, as a compound's ORDER BY could
    only name its columns, not the byte-wise order ``BinaryText`` gives an expression.
    """
    listed = (
        # positions: _USER, _ROOT_ID, _DEPTH, _TOTAL
        select(*USER_COLUMNS, page.c.root_id, page.c.depth, page.c.total)
        .select_from(page)
        # by primary key alone: the walk stays in the tenant, and a tenant condition here
        # makes SQLite scan the tenant's users and probe the page for each one
        .join(users, users.c.id == page.c.user_id)
    )
    wanted = select(page.c.root_id, page.c.manager_id).distinct()
    if not after:
        wanted = wanted.where(page.c.manager_listed.is_(False))
    wanted_managers = wanted.subquery("wanted")
    managers = select(
        *(MANAGER.c[column.name] for column in USER_COLUMNS),
        wanted_managers.c.root_id,
        null(),
        null(),
    ).join_from(
        wanted_managers,
        MANAGER,
        and_(MANAGER.c.id == wanted_managers.c.manager_id, MANAGER.c.tenant_id == _TENANT),
    )
    return union_all(listed, managers)


_USER = slice(0, len(USER_COLUMNS))
_ROOT_ID, _DEPTH, _TOTAL = range(len(USER_COLUMNS), len(USER_COLUMNS) + 3)


@cache
def _count_statement(include_inactive: bool) -> Select[Any]:
    members = _members(include_inactive, one_root=True)
    return select(func.count()).select_from(members)


def _members(include_inactive: bool, *, one_root: bool) -> Any:
    """The thin rows of the walk between ``min_depth`` and ``max_depth``."""
    walk = _walk(include_inactive, one_root=one_root)
    query = select(
        walk.c.root_id,
        walk.c.user_id,
        walk.c.depth,
        walk.c.sort_name,
        walk.c.manager_id,
        walk.c.manager_listed,
    ).where(walk.c.depth >= bindparam("min_depth"))
    if not include_inactive:
        query = query.where(walk.c.active.is_(True))
    return query.subquery("members")


def _walk(include_inactive: bool, *, one_root: bool) -> Any:
    """The walk down from the roots. ``manager_listed``: the user's manager is the root or a
    member listed before them (a listed member at least ``min_depth`` deep), so it need not be
    fetched again with the page."""
    # one root: an equality, so the statement has no IN list to expand and can be prepared
    roots = (
        users.c.manager_id == bindparam("root_id", type_=String)
        if one_root
        else users.c.manager_id.in_(bindparam("root_ids", expanding=True))
    )
    start = (
        select(
            users.c.manager_id.label("root_id"),
            users.c.id.label("user_id"),
            literal(1).label("depth"),
            func.coalesce(users.c.display_name, "").label("sort_name"),
            users.c.active,
            users.c.manager_id,
            true().label("manager_listed"),
        )
        .where(
            users.c.tenant_id == _TENANT,
            roots,
            users.c.id != users.c.manager_id,
        )
        .cte("walk", recursive=True)
    )
    parent_listed = start.c.depth >= bindparam("min_depth")
    if not include_inactive:
        parent_listed = and_(parent_listed, start.c.active.is_(True))
    step = (
        select(
            start.c.root_id,
            users.c.id,
            (start.c.depth + 1).label("depth"),
            func.coalesce(users.c.display_name, ""),
            users.c.active,
            start.c.user_id,
            parent_listed,
        )
        .join(start, users.c.manager_id == start.c.user_id)
        .where(
            users.c.tenant_id == _TENANT,
            users.c.id != start.c.root_id,
            start.c.depth < bindparam("max_depth"),
        )
    )
    return start.union_all(step)
