"""Whole-tree figures from (id, manager, active) edges: counts, depths, loops, spans."""

from sqlalchemy import Connection

from db.database import Database
from db.org_changes import org_version
from db.org_metrics import OrgEdge, derive_org_metrics, read_org_edges, read_org_metrics
from db.tenants import create_tenant
from db.users import create_user_row

#        ceo
#       /    \
#     a(x)    b
#    /  \      \
#   c    d      e
# plus a loop p -> q -> r -> p with s under q, and z managed by someone unknown.
EDGES: list[OrgEdge] = [
    ("ceo", None, True),
    ("a", "ceo", False),
    ("b", "ceo", True),
    ("c", "a", True),
    ("d", "a", True),
    ("e", "b", True),
    ("p", "r", True),
    ("q", "p", True),
    ("r", "q", False),
    ("s", "q", True),
    ("z", "ghost", True),
]


def test_report_counts_all_and_active() -> None:
    metrics = derive_org_metrics(7, EDGES)
    assert metrics.version == 7
    assert metrics.report_counts["ceo"] == 5
    assert metrics.active_report_counts["ceo"] == 4  # a is inactive
    assert metrics.report_counts["a"] == 2
    assert metrics.active_report_counts["a"] == 2
    assert "c" not in metrics.report_counts


def test_loop_members_report_to_each_other() -> None:
    metrics = derive_org_metrics(1, EDGES)
    assert metrics.loops == [["p", "r", "q"]]
    # everyone else on the loop plus s
    assert metrics.report_counts["p"] == 3
    assert metrics.report_counts["q"] == 3
    assert metrics.active_report_counts["p"] == 2  # q and s; r is inactive
    assert metrics.active_report_counts["r"] == 3  # p, q and s


def test_depths_roots_spans_and_inactive_managers() -> None:
    metrics = derive_org_metrics(1, EDGES)
    # ceo -> b -> e is the longest chain; s sits deeper but under a loop, so has no depth
    assert metrics.max_depth == 2
    assert metrics.active_root_count == 2  # ceo and z: an unknown manager counts as none
    assert metrics.widest_span == ("a", 2)  # ties: smallest id
    assert metrics.users_with_inactive_manager == ["c", "d", "p"]
    assert (metrics.user_count, metrics.active_user_count) == (11, 9)


def test_an_empty_tenant() -> None:
    metrics = derive_org_metrics(0, [])
    assert metrics.max_depth == 0
    assert metrics.widest_span is None
    assert metrics.loops == []


def test_read_as_derived_from_the_tenants_users(database: Database) -> None:
    """``read_org_metrics`` (the org cache's one call in a worker thread) derives from the
    rows as they are read: the same figures as from the list of edges, this tenant only."""

    def build(connection: Connection) -> int:
        tenant = create_tenant(connection, "acme").id
        other = create_tenant(connection, "globex").id
        create_user_row(connection, other, {"user_name": "elsewhere"})
        ids: dict[str, str] = {}
        for user_id, manager_id, active in EDGES:
            if manager_id in (None, "ghost") or manager_id in ids:
                values = {"user_name": user_id, "active": active}
                if manager_id in ids:
                    values["manager_id"] = ids[manager_id]
                ids[user_id] = create_user_row(connection, tenant, values)["id"]
        return tenant

    tenant = database.write_sync(build)
    metrics = database.read_sync(lambda connection: read_org_metrics(connection, tenant))
    version, edges = database.read_sync(
        lambda connection: (org_version(connection, tenant), read_org_edges(connection, tenant))
    )
    assert metrics == derive_org_metrics(version, edges)
    assert metrics.version == version > 0  # each user with a manager moved the org
    assert (metrics.user_count, metrics.active_user_count) == (7, 6)
    assert metrics.max_depth == 2
    assert sorted(metrics.report_counts.values()) == [1, 2, 5]
