"""Whole-tree figures of a tenant's org chart, derived from one scan of (id, manager, active).

Transitive report counts, depths, loops and spans need the whole tree. Rather than rescan a
subtree per request, callers derive ``OrgMetrics`` once per ``tenant.org_version`` (see
``db.org_changes``) and keep it until the version moves. Measured on a 100,000-user tenant:
the scan and the derivation take a fraction of a second, and nothing in the write path
(the SCIM front-end) has to maintain counts.

Definitions (inactive users count structurally; the ``active_*`` figures count active users):

* the reports of a user are everyone whose management chain reaches that user; for a user on
  a manager loop that is every other member of the loop and everything hanging below it;
* the depth of a user is the number of managers above it up to a user without one; users on
  or below a loop have no depth;
* a manager reference to no user of the tenant counts as no manager.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Result, select

from db.directory_reads import in_tenant
from db.org_changes import org_version
from db.tables import users

OrgEdge = tuple[str, str | None, bool]  # (user id, manager id, active)


@dataclass(frozen=True, slots=True)
class OrgMetrics:
    version: int
    user_count: int
    active_user_count: int
    report_counts: dict[str, int]  # all transitive reports; users without any are absent
    active_report_counts: dict[str, int]  # active transitive reports
    max_depth: int
    loops: list[list[str]]  # each loop from its smallest id, in manager order
    active_root_count: int
    widest_span: tuple[str, int] | None  # (manager id, active direct reports)
    users_with_inactive_manager: list[str] = field(default_factory=list)
    direct_counts: dict[str, int] = field(default_factory=dict)  # direct reports, any state
    active_direct_counts: dict[str, int] = field(default_factory=dict)  # active direct reports


def read_org_edges(connection: Connection, tenant_id: int) -> list[OrgEdge]:
    """Every user's edge. A cache files them under the org version read before them: a
    concurrent change can only make them newer than that version, never older, so a stale
    cache is always noticed."""
    rows = _edge_rows(connection, tenant_id)
    return [(user_id, manager_id, bool(active)) for user_id, manager_id, active in rows]


def read_org_metrics(connection: Connection, tenant_id: int) -> OrgMetrics:
    """The tenant's figures, derived as its users are read: no list of every edge is kept.
    Meant for a worker thread; the version is read first, as ``read_org_edges`` says."""
    version = org_version(connection, tenant_id)
    return derive_org_metrics(version, _edge_rows(connection, tenant_id))


def _edge_rows(connection: Connection, tenant_id: int) -> Result[str, str | None, bool]:
    """(id, manager id, active) of every user of the tenant, as the database returns them."""
    return connection.execute(
        select(users.c.id, users.c.manager_id, users.c.active).where(in_tenant(tenant_id))
    )


def derive_org_metrics(version: int, edges: Iterable[OrgEdge]) -> OrgMetrics:
    # Each table below holds the whole tenant. Freeing one is a single step that holds the
    # interpreter lock throughout, and the event loop waits for that lock: so each is freed
    # (del) as soon as it is no longer needed, one at a time, never all at once on return.
    active: dict[str, bool] = {}
    raw_manager: dict[str, str] = {}
    for user_id, manager_id, is_active in edges:
        active[user_id] = bool(is_active)
        if manager_id is not None:
            raw_manager[user_id] = manager_id
    manager = {u: m for u, m in raw_manager.items() if m in active}
    del raw_manager
    loops = _find_loops(manager)
    on_loop = {user_id for loop in loops for user_id in loop}
    # The forest: every manager edge except those between two members of a loop.
    parent = {u: m for u, m in manager.items() if not (u in on_loop and m in on_loop)}
    children: dict[str, list[str]] = defaultdict(list)
    for user_id, manager_id in parent.items():
        children[manager_id].append(user_id)

    # Breadth-first from the forest roots: users without a manager, and loop members.
    roots = [user_id for user_id in active if user_id not in parent]
    order = list(roots)
    depth_of = {user_id: 0 for user_id in roots if user_id not in on_loop}
    for user_id in order:  # grows while it is walked
        kids = children.get(user_id)
        if kids:
            order.extend(kids)
            below = depth_of.get(user_id)
            if below is not None:
                for child in kids:
                    depth_of[child] = below + 1
    del children
    max_depth = max(depth_of.values(), default=0)
    del depth_of

    # Subtree sizes, leaves first: each user adds its subtree to its manager's.
    # A comprehension, not dict.fromkeys: that would be one long step with the lock held.
    size = {user_id: 1 for user_id in active}  # noqa: C420
    active_size = {user_id: int(is_active) for user_id, is_active in active.items()}
    for user_id in reversed(order):
        manager_id = parent.get(user_id)
        if manager_id is not None:
            size[manager_id] += size[user_id]
            active_size[manager_id] += active_size[user_id]
    del order, parent
    report_counts = {u: n - 1 for u, n in size.items() if n > 1}
    active_report_counts = {u: n - active[u] for u, n in active_size.items() if n - active[u] > 0}
    for loop in loops:
        loop_size = sum(size[user_id] for user_id in loop)
        loop_active = sum(active_size[user_id] for user_id in loop)
        for user_id in loop:
            report_counts[user_id] = loop_size - 1
            active_report_counts[user_id] = loop_active - int(active[user_id])
    del size, active_size

    direct: dict[str, int] = defaultdict(int)
    active_direct: dict[str, int] = defaultdict(int)
    for user_id, manager_id in manager.items():
        direct[manager_id] += 1
        if active[user_id]:
            active_direct[manager_id] += 1
    widest = min(active_direct.items(), key=lambda item: (-item[1], item[0]), default=None)
    return OrgMetrics(
        version=version,
        user_count=len(active),
        active_user_count=sum(active.values()),
        report_counts=report_counts,
        active_report_counts={k: v for k, v in active_report_counts.items() if v > 0},
        max_depth=max_depth,
        loops=loops,
        active_root_count=sum(1 for u in active if u not in manager and active[u]),
        widest_span=widest,
        users_with_inactive_manager=sorted(
            user_id for user_id, manager_id in manager.items() if not active[manager_id]
        ),
        direct_counts=dict(direct),
        active_direct_counts=dict(active_direct),
    )


def _find_loops(manager: dict[str, str]) -> list[list[str]]:
    """Every cycle of the manager function, each starting at its smallest id."""
    state: dict[str, int] = {}  # 1 = on the current walk, 2 = done
    loops: list[list[str]] = []
    for start in manager:
        walk: list[str] = []
        user_id: str | None = start
        while user_id is not None and user_id not in state:
            state[user_id] = 1
            walk.append(user_id)
            user_id = manager.get(user_id)
        if user_id is not None and state[user_id] == 1:
            loop = walk[walk.index(user_id) :]
            first = loop.index(min(loop))
            loops.append(loop[first:] + loop[:first])
        for visited in walk:
            state[visited] = 2
    return sorted(loops)
