"""The SQL the GraphQL ``reports`` figure needs, run directly: the floor GraphQL is held to.

``user(id) { reports(first: 100, maxDepth: 3) { totalCount edges { depth node { displayName
title manager { displayName } } } } }`` needs the user, the first 100 of their active
transitive reports down to depth 3 (breadth-first, then by displayName) with each one's
manager's displayName, and how many such reports there are: three statements over a
recursive CTE with a depth guard.
"""

import statistics
import time
from typing import Any

from sqlalchemy import Connection, func, literal, select
from sqlalchemy.sql import Select

from db.database import Database
from db.tables import users


def _reports_cte(tenant_id: int, user_id: str, max_depth: int) -> Any:
    """The walk carries every column the answer needs, its manager's name included.

    Joining ``user`` back onto a recursive CTE made both planners scan the whole table at
    100,000 users: SQLite builds a Bloom filter over ``user`` (a full scan) and PostgreSQL
    picks a hash join over a sequential scan, ~35-55 ms either way. Carrying the columns
    down the recursion keeps every step an index search on (tenant_id, manager_id).
    """
    boss = users.alias("boss")
    start = (
        select(
            users.c.id,
            users.c.display_name,
            users.c.title,
            users.c.active,
            literal(1).label("depth"),
            boss.c.display_name.label("manager_display_name"),
        )
        .join(boss, boss.c.id == users.c.manager_id)
        .where(users.c.tenant_id == tenant_id, users.c.manager_id == user_id)
        .cte("reports", recursive=True)
    )
    child = users.alias("child")
    return start.union_all(
        select(
            child.c.id,
            child.c.display_name,
            child.c.title,
            child.c.active,
            (start.c.depth + 1).label("depth"),
            start.c.display_name,
        )
        .join(start, child.c.manager_id == start.c.id)
        .where(child.c.tenant_id == tenant_id, start.c.depth < max_depth)
    )


def reports_statements(
    tenant_id: int, user_id: str, first: int = 100, max_depth: int = 3
) -> list[Select[Any]]:
    tree = _reports_cte(tenant_id, user_id, max_depth)
    page = (
        select(
            tree.c.id,
            tree.c.display_name,
            tree.c.title,
            tree.c.depth,
            tree.c.manager_display_name,
        )
        .where(tree.c.active)
        .order_by(tree.c.depth, tree.c.display_name, tree.c.id)
        .limit(first)
    )
    total = select(func.count()).select_from(tree).where(tree.c.active)
    this_user = select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
    return [this_user, page, total]


def run(connection: Connection, statements: list[Select[Any]]) -> list[list[Any]]:
    return [list(connection.execute(statement)) for statement in statements]


def median_ms(database: Database, statements: list[Select[Any]], repeat: int) -> float:
    """Median wall time of running ``statements`` (and fetching every row) on a warm connection."""
    timings = []
    with database.read_engine.connect() as connection:
        for _ in range(max(5, repeat // 10)):
            run(connection, statements)
            connection.rollback()
        for _ in range(repeat):
            began = time.perf_counter()
            run(connection, statements)
            timings.append(time.perf_counter() - began)
            connection.rollback()
    return statistics.median(timings) * 1000
