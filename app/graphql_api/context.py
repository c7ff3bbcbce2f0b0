"""Per-request GraphQL context: the caller's tenant, the store and the request's loaders."""

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from functools import partial

from strawberry.types import Info as StrawberryInfo

from app.graphql_api.live_feeds import LiveSession
from app.graphql_api.loaders import Loaders
from app.graphql_api.org_cache import OrgMetricsCache
from app.graphql_api.search_count_cache import SearchCountCache
from db.activity import sequence_events
from db.activity_reads import has_unnumbered
from db.database import Database
from db.directory_lists import UserSet
from db.org_metrics import OrgMetrics
from db.tokens import TokenGrant


@dataclass(slots=True)
class Context:
    database: Database
    # None only while rendering the static GraphiQL page, which runs no query; every request
    # that executes one passed app.auth.RequireToken and carries a grant.
    maybe_grant: TokenGrant | None
    org_cache: OrgMetricsCache | None = None
    # Over WebSocket only: the connection's live feeds and token (set when it is accepted),
    # and the connection_init payload, which strawberry stores here.
    live: LiveSession | None = None
    connection_params: dict[str, object] | None = None
    # The org version read for this request already (``app.graphql_api.conditional``).
    known_org_version: int | None = None
    count_cache: SearchCountCache | None = None
    # The data version read for this request before any resolver ran (the same layer);
    # None (over WebSocket): lists are counted, not taken from ``count_cache``.
    known_data_version: int | None = None
    # Whether events of the tenant waited for their number when that layer read the
    # versions (the same statement); None: not read, the first reader of the log asks.
    known_unnumbered_events: bool | None = None
    _loaders: Loaders | None = field(default=None, init=False)
    _org_metrics: "asyncio.Task[OrgMetrics] | None" = field(default=None, init=False)
    _ready_metrics: OrgMetrics | None = field(default=None, init=False)
    _activity_sequenced: "asyncio.Task[int] | None" = field(default=None, init=False)

    @property
    def grant(self) -> TokenGrant:
        if self.maybe_grant is None:
            raise PermissionError("no bearer token")
        return self.maybe_grant

    @property
    def tenant_id(self) -> int:
        return self.grant.tenant_id

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.database, self.tenant_id)
        return self._loaders

    def next_event(self, loaders: Loaders | None = None) -> None:
        """Over WebSocket the context lasts as long as the connection and each event of a
        subscription is a new execution: it must see the directory as it is when delivered
        (the user as changed, not as an earlier event loaded it), and a long subscription
        must not keep every record it ever loaded. So each event starts with fresh org
        figures and loaders, as a request does: ``loaders`` when the tenant's subscribers in
        this process share a set for the event (``app.graphql_api.live_feeds``)."""
        self._loaders = loaders
        self._org_metrics = None
        self._ready_metrics = None
        self._activity_sequenced = None

    def release(self) -> None:
        """The request has been answered: its loaders, and the records and pages they hold,
        go now (by reference count) rather than at the garbage collector's next pass. A use
        after this starts afresh, as a new event does."""
        if self._loaders is not None:
            self._loaders.release()
        self.next_event()

    async def sequenced_activity(self) -> None:
        """Number the tenant's committed events (when some wait for it) before the first read
        of the activity log in this request: readers only show numbered events, and numbering
        what has committed means the request sees every change made before it. Whether some
        wait is known from the versions the ETag layer read before the request ran (events
        committed later are the changes of a later request); without them, it is asked."""
        if self.known_unnumbered_events is False:
            return  # nothing to number, and no task shared by the request's readers to make
        if self._activity_sequenced is None:
            self._activity_sequenced = asyncio.ensure_future(self._number_events())
        await self._activity_sequenced

    async def _number_events(self) -> int:
        tenant_id = self.tenant_id
        waiting = self.known_unnumbered_events
        if waiting is None:
            waiting = await self.database.read(partial(has_unnumbered, tenant_id=tenant_id))
        if not waiting:
            return 0
        return await self.database.write(partial(sequence_events, tenant_id=tenant_id))

    def user_count(self, users: UserSet) -> int | Awaitable[int]:
        """``totalCount`` of a list of users: kept per data version when this request read
        one (``SearchCountCache``), else counted; a value when kept, else an awaitable."""
        version = self.known_data_version
        if self.count_cache is None or version is None:
            return self.loaders.read(users.count, in_thread=True)
        return self.count_cache.count(users, version)

    def ready_org_metrics(self) -> OrgMetrics | None:
        """The org figures when they are at hand without waiting: read already in this
        request, or cached at the org version this request read (the ETag layer's). A
        resolver that finds them answers with a value, not an awaitable, so graphql-core
        completes its field in the same pass instead of gathering a coroutine per row."""
        version = self.known_org_version
        if self._ready_metrics is None and version is not None and self.org_cache is not None:
            self._ready_metrics = self.org_cache.fresh(self.tenant_id, version)
        return self._ready_metrics

    async def org_metrics(self) -> OrgMetrics:
        """The tenant's whole-tree figures, checked against org_version once per request."""
        ready = self.ready_org_metrics()
        if ready is not None:
            return ready
        if self._org_metrics is None:
            if self.org_cache is None:
                self.org_cache = OrgMetricsCache(self.database)
            # One shared task: the many resolvers of a page wait for the same single look-up.
            self._org_metrics = asyncio.ensure_future(
                self.org_cache.current(self.tenant_id, self.known_org_version)
            )
        metrics = await self._org_metrics
        self._ready_metrics = metrics
        return metrics

    def direct_report_count(self, manager_id: str, include_inactive: bool) -> int | Awaitable[int]:
        """From the org figures: counted once per org change, never per request. A value
        when the figures are at hand (``ready_org_metrics``), else an awaitable."""
        metrics = self.ready_org_metrics()
        if metrics is None:
            return self._direct_report_count(manager_id, include_inactive)
        return direct_count(metrics, manager_id, include_inactive)

    async def _direct_report_count(self, manager_id: str, include_inactive: bool) -> int:
        return direct_count(await self.org_metrics(), manager_id, include_inactive)

    def report_count(self, user_id: str, include_inactive: bool) -> int | Awaitable[int]:
        """All transitive reports, from the org figures; a value when they are at hand."""
        metrics = self.ready_org_metrics()
        if metrics is None:
            return self._report_count(user_id, include_inactive)
        return transitive_count(metrics, user_id, include_inactive)

    async def _report_count(self, user_id: str, include_inactive: bool) -> int:
        return transitive_count(await self.org_metrics(), user_id, include_inactive)


def direct_count(metrics: OrgMetrics, manager_id: str, include_inactive: bool) -> int:
    counts = metrics.direct_counts if include_inactive else metrics.active_direct_counts
    return counts.get(manager_id, 0)


def transitive_count(metrics: OrgMetrics, user_id: str, include_inactive: bool) -> int:
    counts = metrics.report_counts if include_inactive else metrics.active_report_counts
    return counts.get(user_id, 0)


Info = StrawberryInfo[Context, None]
