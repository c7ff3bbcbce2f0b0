"""The tenant's change counters for the GraphQL requests of this process: one statement for
all the requests of a tenant that ask in the same turn of the event loop.

Every GraphQL request reads its tenant's counters before it runs (``app.graphql_api
.conditional``: the ETag, the 304, the org figures and the kept counts are keyed by them).
Under load, several requests of one tenant reach that read in the same turn of the event
loop: the requests whose heads arrived together. The first one to ask schedules the read for
the end of the turn (``call_soon``), the others that ask before it starts join it, and all of
them take its result. On PostgreSQL that saves round trips; on SQLite, where the read runs
inline, the statement's own cost (a request's second statement, of two or three).

Why it is still correct: the read starts after every request that joined it had arrived, so
it sees every write committed before any of them was sent, as a read of each one's own would.
A request that asks once the read has started waits for the next one, never for a read
begun before it arrived: a write it could see is never missing from its counters (no stale
304, no count kept from before that write).
"""

import asyncio
from functools import partial

from db.database import Database
from db.org_changes import TenantVersions, tenant_versions


class TenantVersionReads:
    def __init__(self, database: Database) -> None:
        self._database = database
        #: Per tenant, the read that has been scheduled and has not started yet.
        self._next: dict[int, asyncio.Future[TenantVersions]] = {}
        #: The reads running: the loop keeps only a weak reference to a task.
        self._running: set[asyncio.Task[None]] = set()

    async def read(self, tenant_id: int) -> TenantVersions:
        """The tenant's counters, read after this call began."""
        scheduled = self._next.get(tenant_id)
        if scheduled is None:
            loop = asyncio.get_running_loop()
            scheduled = self._next[tenant_id] = loop.create_future()
            loop.call_soon(self._start, tenant_id, scheduled)
        # Shielded: a request that goes away does not cancel the read of the others.
        return await asyncio.shield(scheduled)

    def _start(self, tenant_id: int, scheduled: "asyncio.Future[TenantVersions]") -> None:
        # From here on, a request that asks waits for a read of its own (the next one).
        del self._next[tenant_id]
        task = asyncio.ensure_future(self._read_into(tenant_id, scheduled))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _read_into(self, tenant_id: int, scheduled: "asyncio.Future[TenantVersions]") -> None:
        """The read, its outcome (whatever fails, however) handed to every request that
        joined it: none of them may wait for ever."""
        try:
            versions = await self._database.read(partial(tenant_versions, tenant_id=tenant_id))
        except asyncio.CancelledError:
            scheduled.cancel()
            raise
        except Exception as error:
            scheduled.set_exception(error)
        else:
            scheduled.set_result(versions)
