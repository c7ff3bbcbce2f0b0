"""Live subscribers of the activity log, woken when a tenant's events are numbered.

One ``TenantFeed`` per tenant that has subscribers in this process: a task that, when woken,
reads the events numbered after its ``head`` from the log (the one source of truth: a wake-up
carries no event) and offers each to the tenant's subscribers. Wake-ups come from this
process's numbering passes (``wake``), from the PostgreSQL listener (``app.graphql_api.live.
listener``: other processes' passes; after a reconnection every feed reads on from its head,
so nothing is lost) and, on SQLite, from a poll of every feed each second.

A ``Subscriber`` replays the log after its ``after`` by itself, a page at a time, and goes
live when a page finds the log's end and the feed's head is not beyond its position: that
check and the switch happen without an await, so the feed offers it exactly the events after
the position it read to (those at or below it are skipped): no gap, no duplicate. Its queue
is bounded: when full, it falls back to reading the log itself from its position (memory
stays bounded, nothing is skipped); one that lags more than ``LAG_LIMIT`` behind is closed
with ``FellBehind``, naming the ``after`` to resume from.

Each page a feed reads comes with one set of loaders (``app.graphql_api.loaders``) that every
subscriber of the tenant in this process resolves that page's events with: a hundred
subscribers asking for the changed user and their manager cost one read of each, not a hundred
(tenants never share them: a feed is one tenant's).
"""

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from app.graphql_api.loaders import Loaders
from app.graphql_api.manager_snapshots import ManagerSnapshots
from db.activity_reads import ActivityFilterSpec, EventRecord, events_after, latest_seq
from db.database import Database
from db.tokens import TokenGrant

log = logging.getLogger(__name__)

#: Events a subscriber may have waiting; beyond it, it reads on from the log itself.
QUEUE_LIMIT = 256
#: How far (in seq) a subscriber that fell back to reading the log may lag behind the newest
#: event before it is closed.
LAG_LIMIT = 10_000
#: Events read from the log at once (a replay page, or a feed's catch-up step).
PAGE_SIZE = 200
#: Seconds between polls of the log on SQLite (other processes' writes).
POLL_SECONDS = 1.0

EventMatcher = Callable[[EventRecord], bool]


class FellBehind(Exception):
    def __init__(self, resume_after: int) -> None:
        super().__init__(
            f"this subscription fell more than {LAG_LIMIT} events behind and was closed; "
            f"subscribe again with after: {resume_after} to resume"
        )
        self.resume_after = resume_after


class Subscriber:
    """One subscription's position, filter and bounded queue.

    Live, the feed hands it each new event (``offer``). Not live — replaying from ``after``,
    or after its queue filled up — it reads the log itself a page at a time from
    ``position``, and goes live again when a page ends at the feed's head. One that fell back
    (``lagging``) and lags more than ``LAG_LIMIT`` behind the head is failed.
    """

    __slots__ = (
        "_feed",
        "_matches",
        "_queue",
        "_ready",
        "delivered",
        "failed",
        "lagging",
        "live",
        "loaders",
        "position",
    )

    def __init__(self, feed: "TenantFeed", position: int, matches: EventMatcher) -> None:
        self._feed = feed
        self._matches = matches
        self._queue: deque[tuple[EventRecord, Loaders | None]] = deque()
        self._ready = asyncio.Event()
        #: The loaders the feed's subscribers share for the event ``next`` returned last; None
        #: for one this subscriber read from the log itself.
        self.loaders: Loaders | None = None
        self.position = position  # the highest seq examined (queued or filtered out)
        self.delivered = position  # the highest seq handed to the client: where to resume
        self.live = False
        self.lagging = False
        self.failed = False

    @property
    def queued(self) -> int:
        return len(self._queue)

    def offer(self, event: EventRecord, loaders: Loaders | None = None) -> None:
        """Called by the feed for every new event, in seq order, with the page's loaders."""
        if self.failed or event.seq <= self.position:
            return
        if not self.live:
            if self.lagging and event.seq - self.delivered > LAG_LIMIT:
                self._fail()
            return
        if len(self._queue) >= QUEUE_LIMIT:
            self.live = False  # read on from the log: from ``position``, nothing is skipped
            self.lagging = True
            return
        self.position = event.seq
        if self._matches(event):
            self._queue.append((event, loaders))
            self._ready.set()

    def _fail(self) -> None:
        self.failed = True
        self._queue.clear()
        self._ready.set()

    async def next(self, timeout: float) -> EventRecord | None:
        """The next event, or None after ``timeout`` seconds without one."""
        while True:
            if self.failed:
                raise FellBehind(self.delivered)
            if self._queue:
                event, self.loaders = self._queue.popleft()
                return event
            if self.live:
                self._ready.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._ready.wait(), timeout)
                if not self._queue and not self.failed:
                    return None
                continue
            if self.lagging and self._feed.head - self.delivered > LAG_LIMIT:
                self._fail()
                continue
            page = await self._feed.read_after(self.position)
            for event in page:
                if event.seq > self.position:
                    self.position = event.seq
                    if self._matches(event):
                        self._queue.append((event, None))
            if len(page) < PAGE_SIZE and self._feed.head <= self.position:
                self.live = True  # no await since the check: the feed offers what follows


class TenantFeed:
    def __init__(self, feeds: "LiveFeeds", tenant_id: int, head: int) -> None:
        self._feeds = feeds
        self.tenant_id = tenant_id
        self.head = head
        self.subscribers: set[Subscriber] = set()
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def wake(self) -> None:
        self._wake.set()

    async def read_after(self, position: int) -> list[EventRecord]:
        reader = partial(
            events_after,
            tenant_id=self.tenant_id,
            spec=ActivityFilterSpec(),
            after=position,
            limit=PAGE_SIZE,
        )
        return await self._feeds.database.read(reader)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._catch_up()
            except Exception:  # the next wake-up (or poll) tries again from the same head
                log.exception("reading the activity log of tenant %s failed", self.tenant_id)

    async def _catch_up(self) -> None:
        while True:
            page = await self.read_after(self.head)
            loaders = Loaders(self._feeds.database, self.tenant_id) if page else None
            for event in page:
                self.head = event.seq
                for subscriber in list(self.subscribers):
                    subscriber.offer(event, loaders)
            if len(page) < PAGE_SIZE:
                return

    def close(self) -> None:
        self._task.cancel()


class LiveFeeds:
    """This process's feeds, one per tenant with subscribers."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._feeds: dict[int, TenantFeed] = {}
        #: Every user's manager per tenant, shared by the subscriptions with ``under``.
        self.managers = ManagerSnapshots()

    def wake(self, tenant_id: int) -> None:
        feed = self._feeds.get(tenant_id)
        if feed is not None:
            feed.wake()

    def notified(self, tenant_id: int, seq: int) -> None:
        feed = self._feeds.get(tenant_id)
        if feed is not None and seq > feed.head:
            feed.wake()

    def wake_all(self) -> None:
        for feed in self._feeds.values():
            feed.wake()

    @property
    def feed_count(self) -> int:
        return len(self._feeds)

    async def _feed(self, tenant_id: int) -> TenantFeed:
        feed = self._feeds.get(tenant_id)
        if feed is not None:
            return feed
        head = await self.database.read(partial(latest_seq, tenant_id=tenant_id))
        feed = self._feeds.get(tenant_id)  # another subscriber may have made it meanwhile
        if feed is None:
            feed = self._feeds[tenant_id] = TenantFeed(self, tenant_id, head)
            feed.wake()  # events numbered while the head was read
        return feed

    @asynccontextmanager
    async def subscribe(
        self, tenant_id: int, after: int | None, matches: EventMatcher
    ) -> AsyncIterator[Subscriber]:
        feed = await self._feed(tenant_id)
        subscriber = Subscriber(feed, feed.head if after is None else after, matches)
        if after is None:
            subscriber.live = True
        feed.subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            feed.subscribers.discard(subscriber)
            if not feed.subscribers and self._feeds.get(tenant_id) is feed:
                del self._feeds[tenant_id]
                feed.close()

    async def poll(self) -> None:
        """Wake every feed each ``POLL_SECONDS`` (SQLite: other processes' writes)."""
        while True:
            await asyncio.sleep(POLL_SECONDS)
            self.wake_all()

    def close(self) -> None:
        for feed in self._feeds.values():
            feed.close()
        self._feeds.clear()


@dataclass(slots=True)
class LiveSession:
    """What a WebSocket connection's subscriptions need beyond the request context."""

    feeds: LiveFeeds
    verify: Callable[[str], Awaitable[TokenGrant | None]]
    #: The upgrade request's bearer token, if it had one.
    header_token: str | None = None
    #: The connection's ASGI state: a rejection is left there for the close message.
    state: dict[str, Any] = field(default_factory=dict)
    #: The token the connection was accepted with, checked again while it is subscribed.
    secret: str | None = None

    async def still_valid(self, grant: TokenGrant) -> bool:
        if self.secret is None:
            return False
        current = await self.verify(self.secret)
        return current is not None and (current.token_id, current.tenant_id, current.scope) == (
            grant.token_id,
            grant.tenant_id,
            grant.scope,
        )
