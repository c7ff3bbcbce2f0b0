"""Numbering a tenant's new events soon after they commit, off the request path.

``Sequencer.schedule(tenant_id)`` is called after a write committed; it returns at once. A
pass (``db.activity.sequence_events`` through ``Database.write``) then runs as a task of its
own, ``delay`` seconds later. Calls are coalesced per tenant: while a pass is waiting to
start, more calls add nothing (it will see their events); while one runs, one more is queued
(the running pass may have started before their commit). The delay is what coalesces: under
a provisioning cycle's load a pass per write would double the write transactions, while one
pass per ``delay`` numbers every write of that window at once. Readers do not wait for it:
they run a pass themselves before they read. A pass that fails is logged and its events stay
unnumbered until the next pass of the tenant, or a reader's, numbers them: nothing is lost.

``on_numbered(tenant_id)`` is called after a pass that numbered events has committed: the app
wakes the live subscribers of this process with it (other processes learn of it through the
pass's NOTIFY on PostgreSQL, or by polling on SQLite).

On SQLite events commit numbered (``db.activity.numbers_at_insert``): there is nothing to
number, so ``schedule`` runs no pass and calls ``on_numbered`` at once (the write that called it
has committed; a write that recorded nothing wakes the subscribers for nothing, and they find
nothing new in the log). ``passes=True`` runs passes there too (what an earlier version left
unnumbered is numbered by readers' passes anyway).
"""

import asyncio
import logging
from collections.abc import Callable
from functools import partial

from sqlalchemy import Connection

from db.activity import sequence_events
from db.database import Database

log = logging.getLogger(__name__)


#: Seconds between a write and the pass that numbers its events.
DELAY_SECONDS = 0.05


class Sequencer:
    def __init__(
        self,
        database: Database,
        delay: float = DELAY_SECONDS,
        on_numbered: Callable[[int], None] | None = None,
        passes: bool | None = None,
    ) -> None:
        self._database = database
        #: Whether writes are followed by a pass (None: where events are not numbered at
        #: insert, that is not on SQLite).
        self._passes = not database.is_sqlite if passes is None else passes
        self._delay = delay
        self.on_numbered = on_numbered
        self._waiting: set[int] = set()  # a pass is queued and has not started yet
        self._running: set[int] = set()  # a pass is running (one per tenant at a time)
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, tenant_id: int) -> None:
        """Make sure a pass for ``tenant_id`` starts after this call (needs a running loop);
        on SQLite, wake the tenant's subscribers instead."""
        if not self._passes:
            if self.on_numbered is not None:
                self.on_numbered(tenant_id)
            return
        if tenant_id in self._waiting:
            return
        self._waiting.add(tenant_id)
        task = asyncio.get_running_loop().create_task(self._pass(tenant_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pass(self, tenant_id: int) -> None:
        try:
            await asyncio.sleep(self._delay)
            while tenant_id in self._running:  # the running pass may have missed our events
                await asyncio.sleep(self._delay)
        finally:  # cancelled or not: the next call schedules a pass again
            self._waiting.discard(tenant_id)
        self._running.add(tenant_id)
        try:
            await self.sequence(tenant_id)
        except Exception:
            log.exception("numbering the activity events of tenant %s failed", tenant_id)
        finally:
            self._running.discard(tenant_id)

    async def sequence(self, tenant_id: int) -> int:
        """Run one pass now; the number of events it numbered."""
        work = partial(_sequence, tenant_id)
        numbered = await self._database.write(work)
        if numbered and self.on_numbered is not None:
            self.on_numbered(tenant_id)
        return numbered

    async def drain(self) -> None:
        """Wait for the passes this event loop scheduled so far (at shutdown, before the
        engine goes). A pass of another loop (tests run several) is that loop's to wait for:
        a task cannot be awaited from a loop it does not belong to."""
        loop = asyncio.get_running_loop()
        while own := [task for task in self._tasks if task.get_loop() is loop]:
            await asyncio.gather(*own, return_exceptions=True)


def _sequence(tenant_id: int, connection: Connection) -> int:
    return sequence_events(connection, tenant_id)
