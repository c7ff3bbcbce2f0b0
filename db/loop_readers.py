"""PostgreSQL reads on the event loop keep their connections between reads.

A read on the event loop used to open an ``AsyncConnection`` of the pool, run its unit of work
and close it: three hops into SQLAlchemy's greenlet (``connect``, ``run_sync``, ``close``),
each a new greenlet with a frame stack of its own to allocate and free, a pool checkout and
checkin, and the AUTOCOMMIT isolation level set on the connection and reset again. For a
one-row look-up that was more work in the process than the statement itself. And the pool
keeps ``pool_size`` connections: when more reads than that run at once (16 Entra requests in
flight is ordinary), the pool opens overflow connections and closes each one as it comes
back, so a worker under steady load kept opening PostgreSQL connections (a new server process
each, and an authentication, on the same CPUs): one every ~20 look-ups in the benchmark.

``LoopReaders`` keeps the connections of finished reads, checked out and in autocommit, and
the next read takes the one used last: a read is one ``run_sync``. It keeps at most ``limit``
of them (``Database`` gives it the pool's overflow, so that writes always find as many
connections as the pool's size); what comes back beyond that goes back to the pool as before,
which keeps ``pool_size`` more. They stay SQLAlchemy's connections, checked out of its pool, so
the pool's bound on connections still holds, and every connection goes back to the pool
``HOLD_SECONDS`` after it was taken from it (when it comes back from a read, or when another
read comes back after that): the pool's recycling (``pool_recycle``) and its invalidation of
connections after a lost one apply to them within that time, and the connections a burst of
reads opened beyond the pool's size are closed about that long after the burst, not at once.

A read that fails gives its connection back to the pool, which resets it, or drops it when it
was lost. A lost connection usually means the others are lost too (a restart or failover of
the server): ``discard_idle`` gives every idle one back to the pool, which replaces those it
invalidated, and connections taken before that go back to the pool when they come back.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import monotonic
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")

log = logging.getLogger(__name__)

#: How long a reader keeps a connection taken from the pool (seconds).
HOLD_SECONDS = 60.0


@dataclass(slots=True)
class _Held:
    connection: AsyncConnection
    taken: float  # when it was taken from the pool (the clock's time)
    generation: int  # ``LoopReaders._generation`` when it was taken


class LoopReaders:
    """The idle read connections of one event loop (see the module's doc)."""

    def __init__(
        self,
        limit: int,
        *,
        hold_seconds: float = HOLD_SECONDS,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.limit = limit
        self._hold = hold_seconds
        self._clock = clock
        self._idle: list[_Held] = []  # the last one given back is used first
        self._generation = 0

    @property
    def idle(self) -> int:
        """Connections kept between reads (checked out of the pool, not in use)."""
        return len(self._idle)

    async def run(
        self, connect: Callable[[], Awaitable[AsyncConnection]], fn: Callable[[Connection], T]
    ) -> T:
        """``fn`` on an idle connection, or on one ``connect`` takes from the pool."""
        held = self._idle.pop() if self._idle else None
        if held is None:
            held = _Held(await connect(), self._clock(), self._generation)
        try:
            result = await held.connection.run_sync(fn)
        except BaseException:
            # Back to the pool: it resets the connection, or drops it if it was lost.
            await held.connection.close()
            raise
        await self._give_back(held)
        return result

    async def _give_back(self, held: _Held) -> None:
        now = self._clock()
        if (
            held.generation == self._generation
            and now - held.taken < self._hold
            and len(self._idle) < self.limit
        ):
            self._idle.append(held)
        else:
            await held.connection.close()
        # The least recently used ones, once held long enough, go back to the pool too.
        while self._idle and now - self._idle[0].taken >= self._hold:
            await self._idle.pop(0).connection.close()

    async def discard_idle(self) -> None:
        """Give every idle connection back to the pool; those in use go back when they come
        back (after a lost connection, or when the loop ends)."""
        self._generation += 1
        idle, self._idle = self._idle, []
        for held in idle:
            try:
                await held.connection.close()
            except Exception:  # a connection the pool cannot reset is dropped by it
                log.warning("closing an idle read connection failed", exc_info=True)

    def forget(self) -> None:
        """Let go of the idle connections without closing them (their loop has ended: they
        cannot be closed any more, see ``Database``)."""
        self._generation += 1
        self._idle = []
