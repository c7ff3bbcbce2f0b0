"""Every user's manager in a tenant, read once per org-chart version and shared.

A subscription with ``under`` (``app.graphql_api.live.subtree``) needs every user's manager:
for a 100,000-person tenant, a dictionary of about 20 MB, read in a fraction of a second.
The subscriptions of a tenant that start while its org chart stays unchanged take the same
one, and each keeps only its own changes over it.

Why it is correct: every write that changes the tree (a user created or deleted, a manager
set or cleared, a user (de)activated) moves the tenant's org version in its own transaction
(``db.org_changes``). A snapshot is filed under the version read just before its edges, so
its edges are at least that new; a later read of the same version means that no change of
the tree has committed since, so the snapshot is the tree as it is now.
"""

import threading
import weakref
from collections.abc import Iterable, Mapping

from sqlalchemy import Connection

from db.org_changes import org_version
from db.org_metrics import OrgEdge, read_org_edges


class ManagerSnapshot:
    """Every user's manager (those without one left out) at one org version of a tenant.
    Shared by the subscriptions that start while it is current: none of them changes it."""

    __slots__ = ("__weakref__", "manager", "version")

    def __init__(self, version: int, edges: Iterable[OrgEdge]) -> None:
        self.version = version
        self.manager: Mapping[str, str] = {
            user_id: manager_id for user_id, manager_id, _ in edges if manager_id is not None
        }


class ManagerSnapshots:
    """Each tenant's latest snapshot, kept while some subscription still uses it. Read from
    worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: weakref.WeakValueDictionary[int, ManagerSnapshot] = (
            weakref.WeakValueDictionary()
        )

    def read(self, connection: Connection, tenant_id: int) -> ManagerSnapshot:
        """The tenant's managers as they are now: the kept snapshot while the org version is
        the one it was read at (one indexed statement), else a new one, kept instead."""
        version = org_version(connection, tenant_id)
        with self._lock:
            kept = self._latest.get(tenant_id)
        if kept is not None and kept.version == version:
            return kept
        # The version first, then the edges (``read_org_edges``): edges newer than their
        # version only make a later match impossible, never a wrong one.
        snapshot = ManagerSnapshot(version, read_org_edges(connection, tenant_id))
        with self._lock:
            current = self._latest.get(tenant_id)
            if current is None or current.version <= snapshot.version:
                self._latest[tenant_id] = snapshot
        return snapshot
