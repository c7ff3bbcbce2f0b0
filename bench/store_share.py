"""How much of a request's CPU the store takes, and how much the rest of the service leaves it.

``python -m bench.operations --store-share`` sends each frontend operation through the app as
shipped, with ``timed_store`` open: every unit of work the store runs (the ``fn`` handed to
``Database.read`` or ``Database.write``) adds the CPU time of the thread that ran it. On
SQLite a request's reads run inline on the event loop's thread (or, for counts that grow with
the tenant, in a worker thread whose time is its own), so that time is exactly the store's
part of the request: SQLAlchemy, the sqlite3 module and SQLite itself, and the rows turned
into records. What is left (``rest``) is everything else the service does: the request log,
the token, the limits, the ETag, strawberry and graphql-core with the service's resolvers and
DataLoaders.

The floor (``bench.floor_app``) answers the same requests from memory. ``store_budget`` is
what a ratio target leaves the store once the rest is paid: ``floor / target - rest``. A
budget below what one statement costs says that the target cannot be met by the store alone,
whatever its design.

The timing itself (two clock reads, a lock and a wrapper per unit of work) adds a few µs per
unit to the service's line, most of it to the rest.

On PostgreSQL a unit of work awaits the server inside ``fn`` while the event loop runs other
requests on the same thread, so the thread's time would count theirs too: SQLite only.
"""

import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from sqlalchemy import Connection

from db.database import Database

T = TypeVar("T")


@dataclass
class StoreClock:
    """The CPU seconds spent in the store's units of work, and how many ran, since the last
    ``reset``."""

    seconds: float = 0.0
    units: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, seconds: float) -> None:
        with self._lock:  # a count runs in a worker thread, beside the loop's reads
            self.seconds += seconds
            self.units += 1

    def reset(self) -> None:
        with self._lock:
            self.seconds = 0.0
            self.units = 0


def _timed(fn: Callable[[Connection], T], clock: StoreClock) -> Callable[[Connection], T]:
    def run(connection: Connection) -> T:
        start = time.thread_time()
        try:
            return fn(connection)
        finally:
            clock.add(time.thread_time() - start)

    return run


@contextmanager
def timed_store(clock: StoreClock) -> Iterator[None]:
    """While open, every ``Database`` of this process times its units of work on ``clock``."""
    read, write = Database.read, Database.write

    @wraps(read)
    async def timed_read(self: Database, fn: Callable[[Connection], Any], **options: Any) -> Any:
        return await read(self, _timed(fn, clock), **options)

    @wraps(write)
    async def timed_write(self: Database, fn: Callable[[Connection], Any], **options: Any) -> Any:
        return await write(self, _timed(fn, clock), **options)

    timed: dict[str, Callable[..., Awaitable[Any]]] = {"read": timed_read, "write": timed_write}
    plain: dict[str, Callable[..., Awaitable[Any]]] = {"read": read, "write": write}
    _install(timed)
    try:
        yield
    finally:
        _install(plain)


def _install(methods: dict[str, Callable[..., Awaitable[Any]]]) -> None:
    for name, method in methods.items():
        setattr(Database, name, method)


def store_budget(floor_seconds: float, rest_seconds: float, target: float) -> float:
    """The CPU per request the store may take for the service to reach ``target`` times the
    floor's throughput (CPU bound: ``floor / service >= target``), once the rest is paid.
    Negative when the rest alone misses the target."""
    if target <= 0:
        raise ValueError("the target must be above 0")
    return floor_seconds / target - rest_seconds
