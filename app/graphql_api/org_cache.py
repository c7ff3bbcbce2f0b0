"""Whole-tree org figures per tenant, derived once per ``org_version`` and shared by requests.

Correct across processes: every request reads the tenant's current ``org_version`` (one
indexed statement) and re-derives only when it moved; a lock per tenant makes concurrent
requests wait for one derivation instead of each scanning the tenant.
"""

import asyncio
from collections import OrderedDict
from functools import partial

from db.database import Database
from db.org_changes import org_version
from db.org_metrics import OrgMetrics, read_org_metrics


class OrgMetricsCache:
    def __init__(self, database: Database, max_tenants: int = 64) -> None:
        self._database = database
        self._max_tenants = max_tenants
        self._metrics: OrderedDict[int, OrgMetrics] = OrderedDict()
        self._locks: dict[int, asyncio.Lock] = {}

    async def current(self, tenant_id: int, version: int | None = None) -> OrgMetrics:
        """The figures at ``version`` or later; ``version`` is read when not given (a request
        that read it already passes it)."""
        if version is None:
            version = await self._database.read(partial(org_version, tenant_id=tenant_id))
        cached = self.fresh(tenant_id, version)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(tenant_id, asyncio.Lock())
        async with lock:
            cached = self.fresh(tenant_id, version)
            if cached is not None:
                return cached
            metrics = await self._database.read(
                partial(read_org_metrics, tenant_id=tenant_id), in_thread=True
            )
            self._remember(tenant_id, metrics)
            return metrics

    def fresh(self, tenant_id: int, version: int) -> OrgMetrics | None:
        """The cached figures at ``version`` or later, or None: no wait, no statement."""
        cached = self._metrics.get(tenant_id)
        if cached is None or cached.version < version:
            return None
        self._metrics.move_to_end(tenant_id)
        return cached

    def _remember(self, tenant_id: int, metrics: OrgMetrics) -> None:
        cached = self._metrics.get(tenant_id)
        if cached is None or cached.version <= metrics.version:
            self._metrics[tenant_id] = metrics
            self._metrics.move_to_end(tenant_id)
        while len(self._metrics) > self._max_tenants:
            self._metrics.popitem(last=False)
