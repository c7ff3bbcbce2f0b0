"""Transitive reports of one user, breadth-first, with keyset pages.

The recursive walk goes down ``manager_id`` links within the tenant, bounded by ``max_depth``.
Every user has one manager, so the only way a downward walk can meet a user twice is by
coming back to where it started (a manager loop through that user); the walk never re-enters
the start, so each report appears once, at its true depth. ``UNION`` and the depth bound
are the belt and braces.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, literal, select

from db.directory_pages import BinaryText, keyset_page
from db.directory_reads import (
    USER_COLUMNS,
    UserRecord,
    in_tenant,
    manager_record,
    user_record,
    with_managers,
)
from db.tables import users


@dataclass(frozen=True, slots=True)
class ReportRow:
    depth: int
    user: UserRecord
    manager: UserRecord | None


@dataclass(frozen=True, slots=True)
class ReportsPage:
    rows: list[ReportRow]
    has_next: bool
    total: int | None  # None when the page is empty and the total was not computed


def report_key(row: ReportRow) -> tuple[int, str, str]:
    return (row.depth, row.user.display_name or "", row.user.id)


def reports_page(
    connection: Connection,
    tenant_id: int,
    root_id: str,
    *,
    min_depth: int,
    max_depth: int,
    include_inactive: bool,
    first: int,
    after: tuple[int, str, str] | None,
) -> ReportsPage:
    """One statement: the page, ordered by (depth, displayName, id), and the total count."""
    walk = _walk(tenant_id, root_id, max_depth)
    members = with_managers(
        select(
            *USER_COLUMNS,
            walk.c.depth,
            BinaryText(func.coalesce(users.c.display_name, "")).label("sort_name"),
            func.count().over().label("total"),
        )
        .select_from(walk)
        .join(users, users.c.id == walk.c.user_id)
        .where(in_tenant(tenant_id), walk.c.depth >= min_depth),
        tenant_id,
    )
    if not include_inactive:
        members = members.where(users.c.active.is_(True))
    subtree = members.subquery("subtree")
    page = keyset_page(
        connection,
        select(subtree),
        [subtree.c.depth, BinaryText(subtree.c.sort_name), subtree.c.id],
        first=first,
        after=after,
    )
    rows = [ReportRow(row["depth"], user_record(row), manager_record(row)) for row in page.rows]
    total = page.rows[0]["total"] if page.rows else None
    return ReportsPage(rows, page.has_next, total)


def count_reports(
    connection: Connection,
    tenant_id: int,
    root_id: str,
    *,
    min_depth: int,
    max_depth: int,
    include_inactive: bool,
) -> int:
    walk = _walk(tenant_id, root_id, max_depth)
    query = (
        select(func.count())
        .select_from(walk)
        .join(users, users.c.id == walk.c.user_id)
        .where(in_tenant(tenant_id), walk.c.depth >= min_depth)
    )
    if not include_inactive:
        query = query.where(users.c.active.is_(True))
    return int(connection.execute(query).scalar_one())


def _walk(tenant_id: int, root_id: str, max_depth: int) -> Any:
    start = (
        select(users.c.id.label("user_id"), literal(1).label("depth"))
        .where(in_tenant(tenant_id), users.c.manager_id == root_id, users.c.id != root_id)
        .cte("walk", recursive=True)
    )
    step = (
        select(users.c.id, (start.c.depth + 1).label("depth"))
        .join(start, users.c.manager_id == start.c.user_id)
        .where(in_tenant(tenant_id), users.c.id != root_id, start.c.depth < max_depth)
    )
    return start.union(step)
