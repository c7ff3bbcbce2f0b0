"""Transitive reports of users, breadth-first, with keyset pages — many users at once.

The recursive walk goes down ``manager_id`` links within the tenant, bounded by ``max_depth``,
and remembers which user (``root_id``) each walk started from. Every user has one manager, so
the only way a downward walk can meet a user twice is by coming back to where it started (a
manager loop through that user); the walk never re-enters its start, so each report appears
once per start, at its true depth. ``UNION`` and the depth bound are the belt and braces.
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, literal, select, tuple_

from db.directory_pages import BinaryText
from db.directory_reads import (
    USER_COLUMNS,
    UserRecord,
    in_tenant,
    manager_record,
    user_record,
    with_managers,
)
from db.tables import users

ReportKey = tuple[int, str, str]  # (depth, displayName or "", id)


@dataclass(frozen=True, slots=True)
class ReportRow:
    depth: int
    user: UserRecord
    manager: UserRecord | None


@dataclass(frozen=True, slots=True)
class ReportsPage:
    rows: list[ReportRow]
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
    empty = ReportsPage([], False, 0 if after is None else None)
    pages = dict.fromkeys(root_ids, empty)
    if not root_ids:
        return pages
    walk = _walk(tenant_id, root_ids, max_depth)
    members = with_managers(
        select(
            *USER_COLUMNS,
            walk.c.root_id,
            walk.c.depth,
            BinaryText(func.coalesce(users.c.display_name, "")).label("sort_name"),
            func.count().over(partition_by=walk.c.root_id).label("total"),
        )
        .select_from(walk)
        .join(users, users.c.id == walk.c.user_id)
        .where(in_tenant(tenant_id), walk.c.depth >= min_depth),
        tenant_id,
    )
    if not include_inactive:
        members = members.where(users.c.active.is_(True))
    subtree = members.subquery("subtree")
    order = (subtree.c.depth, BinaryText(subtree.c.sort_name), subtree.c.id)
    numbered = select(
        subtree,
        func.row_number().over(partition_by=subtree.c.root_id, order_by=order).label("position"),
    )
    if after is not None:
        numbered = numbered.where(tuple_(*order) > tuple_(*after))
    ranked = numbered.subquery("ranked")
    rows = connection.execute(
        select(ranked)
        .where(ranked.c.position <= first + 1)
        .order_by(ranked.c.root_id, ranked.c.position)
    ).mappings()
    found: dict[str, list[Any]] = {}
    for row in rows:
        found.setdefault(row["root_id"], []).append(row)
    for root_id, root_rows in found.items():
        pages[root_id] = ReportsPage(
            [
                ReportRow(row["depth"], user_record(row), manager_record(row))
                for row in root_rows[:first]
            ],
            len(root_rows) > first,
            root_rows[0]["total"],
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
    walk = _walk(tenant_id, [root_id], max_depth)
    query = (
        select(func.count())
        .select_from(walk)
        .join(users, users.c.id == walk.c.user_id)
        .where(in_tenant(tenant_id), walk.c.depth >= min_depth)
    )
    if not include_inactive:
        query = query.where(users.c.active.is_(True))
    return int(connection.execute(query).scalar_one())


def _walk(tenant_id: int, root_ids: Collection[str], max_depth: int) -> Any:
    start = (
        select(
            users.c.manager_id.label("root_id"),
            users.c.id.label("user_id"),
            literal(1).label("depth"),
        )
        .where(
            in_tenant(tenant_id),
            users.c.manager_id.in_(set(root_ids)),
            users.c.id != users.c.manager_id,
        )
        .cte("walk", recursive=True)
    )
    step = (
        select(start.c.root_id, users.c.id, (start.c.depth + 1).label("depth"))
        .join(start, users.c.manager_id == start.c.user_id)
        .where(in_tenant(tenant_id), users.c.id != start.c.root_id, start.c.depth < max_depth)
    )
    return start.union(step)
