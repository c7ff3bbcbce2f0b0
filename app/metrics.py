"""Prometheus metrics of one app: requests, SCIM writes, GraphQL operations, pool, token cache.

Every series is labelled only by bounded values: route templates (never paths), methods,
statuses, SCIM resource types and operations, and GraphQL operation names up to a fixed number
of distinct names (the rest count as ``other``). The tenant slug is a label only when
``BLINK_METRICS_TENANT_LABELS`` is on: the number of tenants is the operator's to bound.

Under ``serve --workers N`` prometheus-client's multiprocess mode is on (``serve`` sets
``PROMETHEUS_MULTIPROC_DIR`` before the workers start): the same objects then write to files
that ``app.metrics_exposure`` sums up when scraped.
"""

import asyncio
import re
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from db.database import Database

#: A labelled metric's type: its ``labels()`` answers the same type.
M = TypeVar("M", Counter, Histogram)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
COST_BUCKETS = (1, 10, 100, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 50_000)
MAX_OPERATION_NAMES = 200
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
SCIM_WRITE_OPERATIONS = {"POST": "create", "PUT": "replace", "PATCH": "patch", "DELETE": "delete"}
SCIM_RESOURCE_TYPES = {"Users": "User", "Groups": "Group"}


def outcome_of(status: int) -> str:
    if status < 400:
        return "success"
    return "client_error" if status < 500 else "server_error"


def scim_write(route: str, method: str) -> tuple[str, str] | None:
    """(resource type, operation) of a SCIM write, from its route template; None otherwise."""
    operation = SCIM_WRITE_OPERATIONS.get(method)
    if operation is None or not route.startswith("/scim") or route.endswith("/.search"):
        return None
    for segment, resource_type in SCIM_RESOURCE_TYPES.items():
        if f"/{segment}" in route:
            return resource_type, operation
    return None


class Metrics:
    def __init__(self, registry: CollectorRegistry, *, tenant_labels: bool = False) -> None:
        self.registry = registry
        self.tenant_labels = tenant_labels
        tenant = ("tenant",) if tenant_labels else ()
        self.requests = Counter(
            "blink_http_requests",
            "HTTP requests answered, by route template, method and status",
            ("route", "method", "status", *tenant),
            registry=registry,
        )
        self.latency = Histogram(
            "blink_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by route template",
            ("route", "method"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.scim_writes = Counter(
            "blink_scim_writes",
            "SCIM writes by resource type, operation and outcome",
            ("resource_type", "operation", "outcome", *tenant),
            registry=registry,
        )
        self.graphql_operations = Counter(
            "blink_graphql_operations",
            "GraphQL operations by operation name and outcome",
            ("operation", "outcome"),
            registry=registry,
        )
        self.graphql_cost = Histogram(
            "blink_graphql_operation_cost",
            "Cost of GraphQL operations (nodes they may return), by operation name",
            ("operation",),
            buckets=COST_BUCKETS,
            registry=registry,
        )
        self.rate_limited = Counter(
            "blink_rate_limited_requests",
            "Requests answered 429 because their token exceeded its rate",
            ("front_end",),
            registry=registry,
        )
        self.token_cache = Counter(
            "blink_token_cache_lookups",
            "Bearer-token verifications answered from the cache (hit) or the store (miss)",
            ("result",),
            registry=registry,
        )
        self.token_cache_hit = self.token_cache.labels("hit")
        self.token_cache_miss = self.token_cache.labels("miss")
        self.pool_in_use = Gauge(
            "blink_db_pool_connections_in_use",
            "Database connections checked out of the pool",
            ("engine",),
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.pool_size = Gauge(
            "blink_db_pool_size",
            "Database connections the pool keeps open",
            ("engine",),
            multiprocess_mode="livesum",
            registry=registry,
        )
        self._operation_names: set[str] = set()
        # Bounded like the labels: route templates, methods, statuses (and tenants if on).
        self._request_series: dict[
            tuple[str, str, int, str | None], tuple[Counter, Histogram, Counter | None]
        ] = {}
        # Bounded by the operation labels (and the outcomes). A series exists once it was
        # counted in: ``labels()`` alone would expose an empty histogram.
        self._labelled_series: dict[tuple[Counter | Histogram, tuple[str, ...]], Any] = {}

    def request(
        self, route: str, method: str, status: int, seconds: float, tenant: str | None
    ) -> None:
        key = (route, method, status, tenant if self.tenant_labels else None)
        series = self._request_series.get(key)
        if series is None:
            series = self._request_series[key] = self._series_of(route, method, status, tenant)
        requests, latency, writes = series
        requests.inc()
        latency.observe(seconds)
        if writes is not None:
            writes.inc()

    def _series_of(
        self, route: str, method: str, status: int, tenant: str | None
    ) -> tuple[Counter, Histogram, Counter | None]:
        """The labelled series a request counts in, looked up once per label set (every
        request pays for this, and ``labels()`` validates and locks on each call)."""
        tenant_label = (tenant or "-",) if self.tenant_labels else ()
        write = scim_write(route, method)
        return (
            self.requests.labels(route, method, str(status), *tenant_label),
            self.latency.labels(route, method),
            self.scim_writes.labels(*write, outcome_of(status), *tenant_label)
            if write is not None
            else None,
        )

    def graphql_operation(
        self, name: str | None, status: int, failed: bool, cost: int | None
    ) -> None:
        label = self.operation_label(name)
        outcome = outcome_of(status) if status >= 400 else ("error" if failed else "success")
        self._labelled(self.graphql_operations, label, outcome).inc()
        if cost is not None:
            self._labelled(self.graphql_cost, label).observe(cost)

    def _labelled(self, metric: M, *labels: str) -> M:
        """``metric.labels(*labels)``, looked up once per label set, as a request's series
        are (``_series_of``): ``labels()`` validates and locks on every call."""
        key = (metric, labels)
        series = self._labelled_series.get(key)
        if series is None:
            series = self._labelled_series[key] = metric.labels(*labels)
        return series

    def operation_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self._operation_names:
            return name
        if len(self._operation_names) >= MAX_OPERATION_NAMES or not _OPERATION_NAME.fullmatch(name):
            return "other"
        self._operation_names.add(name)
        return name

    def sample_pool(self, database: Database) -> None:
        engines: dict[str, Engine]
        if database.async_engine is not None:
            # PostgreSQL: requests use the event loop's pool (reads and writes alike), large
            # work and the synchronous API the thread pool.
            engines = {"loop": database.async_engine.sync_engine, "thread": database.engine}
        else:
            engines = {"write": database.engine, "read": database.read_engine}
        for label, engine in engines.items():
            pool = engine.pool
            if isinstance(pool, QueuePool):
                # the loop's idle read connections are checked out, but not in use
                idle = database.idle_loop_readers if label == "loop" else 0
                self.pool_in_use.labels(label).set(pool.checkedout() - idle)
                self.pool_size.labels(label).set(pool.size())

    async def sample_pool_forever(self, database: Database, interval: float = 2.0) -> None:
        while True:
            self.sample_pool(database)
            await asyncio.sleep(interval)
