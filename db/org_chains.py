"""Management chains of many users in one recursive statement.

The walk goes up ``manager_id`` links within the tenant. It is bounded by ``max_depth`` (the
depth guard that ends any loop on both databases) and also stops when it comes back to the
user it started from; what is left of a loop that does not pass through the start is cut in
Python at the first repeated user. Inactive managers are kept: callers decide what to show.
"""

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Integer, Select, String, bindparam, literal, select

from db.directory_reads import USER_COLUMNS, UserRecord
from db.tables import users


def management_chains(
    connection: Connection, tenant_id: int, user_ids: Collection[str], max_depth: int
) -> dict[str, list[UserRecord]]:
    """Each user's managers, nearest first, at most ``max_depth`` of them, loops cut."""
    chains: dict[str, list[UserRecord]] = {user_id: [] for user_id in user_ids}
    if not user_ids or max_depth < 1:
        return chains
    values = {"tenant_id": tenant_id, "user_ids": sorted(set(user_ids)), "max_depth": max_depth}
    seen: dict[str, set[str]] = {user_id: {user_id} for user_id in user_ids}
    broken: set[str] = set()
    expected_depth: dict[str, int] = dict.fromkeys(user_ids, 1)
    for row in connection.execute(_CHAINS, values).all():
        _extend(chains, seen, broken, expected_depth, row)
    return chains


def _chains_statement() -> Select[Any]:
    """The walk, built once: the users, the tenant and the depth are bound parameters (the
    users an expanding IN), so a request only binds values to a statement SQLAlchemy has
    compiled and cached already."""
    tenant_id = bindparam("tenant_id", type_=Integer)
    start = (
        select(
            users.c.id.label("start_id"),
            literal(1).label("depth"),
            users.c.manager_id.label("user_id"),
        )
        # Start from the primary key. Without statistics SQLite would rather scan one of
        # the tenant's (tenant_id, ...) indexes, so the tenant check is kept out of index
        # reach (``+ 0``) and "manager_id IS NOT NULL" is left out: a null manager simply
        # joins no user below.
        .where(
            users.c.id.in_(bindparam("user_ids", expanding=True, type_=String)),
            users.c.tenant_id + 0 == tenant_id,
        )
        .cte("chain", recursive=True)
    )
    step = (
        select(start.c.start_id, (start.c.depth + 1).label("depth"), users.c.manager_id)
        .join(users, users.c.id == start.c.user_id)
        .where(
            users.c.tenant_id == tenant_id,
            users.c.manager_id.is_not(None),
            users.c.manager_id != start.c.start_id,
            start.c.depth < bindparam("max_depth", type_=Integer),
        )
    )
    chain = start.union(step)
    return (
        select(chain.c.start_id, chain.c.depth, *USER_COLUMNS)
        .join(users, users.c.id == chain.c.user_id)
        .where(users.c.tenant_id == tenant_id)
        .order_by(chain.c.start_id, chain.c.depth)
    )


_CHAINS = _chains_statement()


def _extend(
    chains: dict[str, list[UserRecord]],
    seen: dict[str, set[str]],
    broken: set[str],
    expected_depth: dict[str, int],
    row: Any,
) -> None:
    start_id: str = row[0]
    # A gap (a manager of another tenant, or a loop already cut) ends the chain there.
    if start_id in broken or row[1] != expected_depth[start_id]:
        broken.add(start_id)
        return
    record = UserRecord(*row[2:])
    if record.id in seen[start_id]:
        broken.add(start_id)
        return
    seen[start_id].add(record.id)
    chains[start_id].append(record)
    expected_depth[start_id] += 1
