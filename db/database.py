"""How database calls meet the event loop, and which ones run again.

Request handlers hand the store a unit of work (a function of a ``Connection``) through
``Database.read`` or ``Database.write``. Where it runs:

* SQLite work that is known to be short (a point look-up, a one-row write) runs inline on
  the event loop: SQLite answers it faster than a hand-off to a thread and back, and in WAL
  mode a reader never waits for a lock. Reads share one long-lived connection.
* SQLite writes run inline on one dedicated connection whose busy timeout is zero: the loop is
  single-threaded and a unit of work never awaits, so inline writes are serialised and never
  interleave. When the write lock cannot be taken at once (another process, or this process's
  own thread writer, holds it) the unit of work is rolled back and runs again in a worker
  thread, which waits on the busy timeout. The inline writer never checkpoints the WAL itself
  (a checkpoint syncs the files to disk, which can take long enough to stall every request):
  see "The SQLite WAL" below.
* Work that grows with the tenant (a whole-tenant scan, replacing a large membership) asks for
  ``in_thread=True`` and runs in a worker thread, so that it never stalls the loop and every
  other request of the process with it.
* Every PostgreSQL call runs in a worker thread: it is a network round trip, and a lock wait or
  a slow query must not stall the loop.
* SQLite writes of one process that go to a thread go through one thread at a time: SQLite
  admits one writer anyway, and threads racing for its lock back off in sleeps that waste far
  more time than queueing. Other processes still queue on the busy timeout.

Writes that PostgreSQL aborts as a deadlock or serialization failure run again, a bounded
number of times after a short jittered wait (``db.retry``); every write gets this, whatever
its caller.

The SQLite WAL. Commits append to the WAL file; a checkpoint copies its pages into the
database, and SQLite starts writing the WAL from its beginning again only when a writer begins
after a checkpoint that copied *everything* and no reader still reads from the WAL. A passive
checkpoint in a thread while the loop keeps committing never gets there (each commit during
the checkpoint leaves pages it has not copied), so under sustained writes the file grew
without end. So every ``CHECKPOINT_EVERY`` commits of this
process, the write that reaches the count waits, after its commit, for a checkpoint that runs
in a thread while it holds this process's writer slot (``_writers``): no write of the process
starts meanwhile (inline writes wait for it to end), the checkpoint copies
every page, and the next write starts the WAL over. A checkpoint alongside the writes runs
first, so that the one they wait for only copies what they added meanwhile. The event loop
never waits for either. ``journal_size_limit`` (see ``db.engine``) then cuts the file back
after a large transaction.

A unit of work may thus run more than once (every earlier attempt rolled back whole), so it
must not have effects outside its connection.
"""

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import anyio
from anyio import CapacityLimiter, to_thread
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from db import retry
from db.engine import create_engine_for, create_sqlite_engine, is_sqlite, normalise_url

T = TypeVar("T")

log = logging.getLogger(__name__)

#: SQLite commits of this process between WAL checkpoints: the WAL starts over after about as
#: many commits (see the module's doc), and a write waits for one checkpoint of that many.
CHECKPOINT_EVERY = 100

_SQLITE_BUSY = 5  # the primary result code of "database is locked" (extended codes add bits)


class _Locked(Exception):
    """The inline writer could not take SQLite's write lock at once."""


def _is_busy(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == _SQLITE_BUSY


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = is_sqlite(self.url)
        self.engine: Engine = create_engine_for(self.url, immediate=True)
        # Readers run without a transaction: SQLite's own read engine sends no BEGIN, and
        # PostgreSQL reads run in autocommit on the shared pool, which saves the BEGIN and the
        # ROLLBACK round trips a pooled connection otherwise costs on every read.
        self.read_engine: Engine = (
            create_engine_for(self.url, immediate=False)
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._inline_reader: Connection | None = None
        self._writers = CapacityLimiter(1) if self.is_sqlite else None
        # SQLite: the connection inline writes use; it never waits for the lock.
        self._inline_write_engine: Engine | None = (
            create_sqlite_engine(
                self.url, immediate=True, busy_timeout_ms=0, pool_size=1, autocheckpoint=False
            )
            if self.is_sqlite
            else None
        )
        self._inline_writer: Connection | None = None
        self._commits = 0
        self._checkpointing: anyio.Event | None = None  # set while writes are held for one

    @property
    def engines(self) -> tuple[Engine, ...]:
        """The distinct engines to attach event listeners to (statement counters, tracing).
        PostgreSQL's read engine is an option view of ``engine`` and shares its events."""
        if self._inline_write_engine is not None:
            return (self.engine, self.read_engine, self._inline_write_engine)
        return (self.engine,)

    # -- synchronous API (CLI, tests, bulk loaders) -------------------------------------------
    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        with self.read_engine.connect() as connection:
            return fn(connection)

    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction; commits unless it raises. Deadlocks and
        serialization failures run it again (``db.retry``)."""
        attempt = 1
        while True:
            try:
                return self._write_in_transaction(fn)
            except DBAPIError as error:
                if attempt >= retry.ATTEMPTS or not retry.is_retryable(error):
                    raise
            time.sleep(retry.backoff_seconds(attempt))
            attempt += 1

    def _write_in_transaction(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.begin() as connection:
            return fn(connection)

    # -- asynchronous API (request handlers) --------------------------------------------------
    async def read(self, fn: Callable[[Connection], T], *, in_thread: bool = False) -> T:
        """Run a read-only unit of work; ``fn`` must not write. ``in_thread`` runs it in a
        worker thread: for reads that grow with the tenant (PostgreSQL reads always do)."""
        if self.is_sqlite and not in_thread:
            return self._read_inline(fn)
        return await to_thread.run_sync(partial(self.read_sync, fn))

    async def write(self, fn: Callable[[Connection], T], *, in_thread: bool = False) -> T:
        """Run ``fn`` in one transaction; commits unless it raises. On SQLite inline when the
        write lock is free and ``in_thread`` is not asked for (large writes ask), else (and
        on PostgreSQL always) in a worker thread. Deadlocks and serialization failures run
        it again (``db.retry``)."""
        attempt = 1
        while True:
            try:
                result = await self._write_once(fn, in_thread)
                break
            except DBAPIError as error:
                if attempt >= retry.ATTEMPTS or not retry.is_retryable(error):
                    raise
            await anyio.sleep(retry.backoff_seconds(attempt))
            attempt += 1
        if self._writers is not None:
            self._commits += 1
            if self._commits >= CHECKPOINT_EVERY:
                self._commits = 0
                # First alongside the writes, which copies most of the WAL; then what they
                # added meanwhile, with the writes held, so that the WAL can start over.
                await to_thread.run_sync(self._checkpoint)
                held = self._checkpointing = anyio.Event()
                try:
                    await to_thread.run_sync(self._checkpoint, limiter=self._writers)
                finally:
                    self._checkpointing = None
                    held.set()
        return result

    async def _write_once(self, fn: Callable[[Connection], T], in_thread: bool) -> T:
        if self._checkpointing is not None:
            # Wait for the held checkpoint, then write inline as usual: queueing for a worker
            # thread instead would keep every later write on the slower thread path while
            # one is queued, long after the checkpoint ended.
            await self._checkpointing.wait()
        if not in_thread and self._writers is not None and self._writers.borrowed_tokens == 0:
            try:
                return self._write_inline(fn)
            except _Locked:
                pass
        return await to_thread.run_sync(
            partial(self._write_in_transaction, fn), limiter=self._writers
        )

    def _write_inline(self, fn: Callable[[Connection], T]) -> T:
        connection = self._inline_writer
        if connection is None or connection.closed:
            assert self._inline_write_engine is not None
            connection = self._inline_writer = self._inline_write_engine.connect()
        try:
            with connection.begin():  # BEGIN IMMEDIATE: fails at once if the lock is held
                result = fn(connection)
        except OperationalError as error:
            if connection.in_transaction():
                connection.rollback()
            if _is_busy(error):
                raise _Locked from error
            raise
        return result

    def _checkpoint(self) -> None:
        """Copy the WAL into the database (see the module's doc). PASSIVE: it never waits (a
        reader on an older snapshot, or a write, only leaves the rest to the next one)."""
        try:
            # the read engine sends no BEGIN (a checkpoint cannot run inside a transaction)
            with self.read_engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # the WAL only grows until the next one succeeds
            log.exception("SQLite WAL checkpoint failed")

    def _read_inline(self, fn: Callable[[Connection], T]) -> T:
        if self._inline_reader is None or self._inline_reader.closed:
            self._inline_reader = self.read_engine.connect()
        # The read engine sends no BEGIN: each statement reads the latest commit on its own,
        # so there is no transaction to end (and no rollback to pay on every read).
        # A multi-statement read may thus see a commit that landed between its statements.
        connection = self._inline_reader
        try:
            return fn(connection)
        except BaseException:
            connection.rollback()  # reset SQLAlchemy's state after a failed statement
            raise

    def dispose(self) -> None:
        for inline in (self._inline_reader, self._inline_writer):
            if inline is not None:
                inline.close()
        self._inline_reader = self._inline_writer = None
        self.engine.dispose()
        if self.is_sqlite:
            self.read_engine.dispose()
        if self._inline_write_engine is not None:
            self._inline_write_engine.dispose()
