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
* PostgreSQL work runs on the event loop through SQLAlchemy's asyncio engine
  (``AsyncConnection.run_sync``): the unit of work is the same synchronous code, run in a
  greenlet whose every driver call awaits the network, so a lock wait or a slow query
  suspends only its own request, without a worker thread hop per call. Reads run in
  autocommit, writes in a transaction. A read's connection is kept for the next read
  (``db.loop_readers``): a read is one ``run_sync``, without a pool checkout and checkin.
  Work that asks for ``in_thread=True`` (it grows with the tenant: its Python side would hold
  the loop) still runs in a worker thread, on the synchronous engine, with the longer
  statement timeout.
* The event loop's engine belongs to one loop (its pooled connections do): a process has
  one. Should another loop call in while the first still runs (tests do, from other
  threads), that loop's work takes the thread path instead; when a loop ends, its
  connections are closed, and the next loop gets a fresh pool.
* SQLite writes of one process that go to a thread go through one thread at a time: SQLite
  admits one writer anyway, and threads racing for its lock back off in sleeps that waste far
  more time than queueing. Other processes still queue on the busy timeout.

Writes that PostgreSQL aborts as a deadlock or serialization failure run again, a bounded
number of times after a short jittered wait (``db.retry``); every write gets this, whatever
its caller.

Losing PostgreSQL. A pooled connection that died (a restart or failover of the server,
``pg_terminate_backend``) fails the first statement sent on it, and SQLAlchemy then discards
every connection of the pool (``DBAPIError.connection_invalidated``). The unit of work runs
once more, on a fresh connection, when that cannot apply anything twice: a read, or a write
that failed before its COMMIT was sent (PostgreSQL rolls back the transaction of a connection
that dies). A write whose COMMIT got no answer may or may not have committed: it is not run
again but reported. What still fails, and a database that cannot be reached at all, raises
``db.errors.Unavailable``; a statement cancelled by ``statement_timeout`` raises
``QueryTimeout``. The front-ends answer both with a 503 of their own format, and the next
request finds a fresh pool: the service recovers with the server, on its own.

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

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import anyio
from anyio import CapacityLimiter, to_thread
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db import retry
from db.engine import (
    DEFAULT_ASYNC_DRIVER,
    async_url,
    create_async_postgres_engine,
    create_engine_for,
    create_postgres_engine,
    create_sqlite_engine,
    is_sqlite,
    normalise_url,
)
from db.errors import QueryTimeout, Stale, Unavailable
from db.loop_readers import LoopReaders

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


#: SQLSTATEs that mean the connection, not the statement, failed: class 08 (connection
#: exception) and the server shutting down or not yet up (57P01-57P03).
_CONNECTION_LOST = frozenset({"57P01", "57P02", "57P03"})
_QUERY_CANCELED = "57014"


def _sqlstate(error: DBAPIError) -> str | None:
    code = getattr(error.orig, "sqlstate", None)
    return code if isinstance(code, str) else None


def _is_disconnect(error: DBAPIError) -> bool:
    code = _sqlstate(error)
    return (
        error.connection_invalidated
        or code in _CONNECTION_LOST
        or (code is not None and code.startswith("08"))
    )


def _store_error(error: Exception) -> Exception:
    """The store's error for a failure of the database itself; ``error`` when it is not one."""
    if isinstance(error, PoolTimeout):
        return Unavailable("every database connection is busy; try again")
    if isinstance(error, DBAPIError):
        if _sqlstate(error) == _QUERY_CANCELED:
            return QueryTimeout("the database did not answer within the statement timeout")
        if _is_disconnect(error):
            return Unavailable("the connection to the database was lost; try again")
    return error


_UNREACHABLE = "the database cannot be reached; try again"


async def _connect(engine: AsyncEngine, *, autocommit: bool = False) -> AsyncConnection:
    """A connection of ``engine``'s pool; Unavailable when none can be opened. ``autocommit``:
    in AUTOCOMMIT (reads, and one-statement writes), until it goes back to the pool.

    The isolation level is set on the connection, not through an option view of the engine
    (``engine.execution_options(isolation_level=...)``): such a view sets it with an
    ``engine_connect`` listener, and an engine with any listener makes SQLAlchemy dispatch
    its execute events (``before_execute``, ``before_cursor_execute``, ...) on every
    statement, listeners or none."""
    connection = engine.connect()
    try:
        await connection.start()
    except (DBAPIError, OSError, TimeoutError) as error:  # asyncpg raises OSError as is
        raise Unavailable(_UNREACHABLE) from error
    if autocommit:
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        except BaseException:
            await connection.close()
            raise
    return connection


def _connect_sync(engine: Engine) -> Connection:
    try:
        return engine.connect()
    except DBAPIError as error:
        raise Unavailable(_UNREACHABLE) from error


class _CommitFailed(Exception):
    """A write's COMMIT failed: whether it committed is unknown (see the module's doc)."""

    def __init__(self, error: DBAPIError) -> None:
        super().__init__(str(error))
        self.error = error


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 20,
        statement_timeout_ms: int | None = None,
        large_statement_timeout_ms: int | None = None,
        async_driver: str = DEFAULT_ASYNC_DRIVER,
        thread_pool_size: tuple[int, int] = (10, 20),
    ) -> None:
        """PostgreSQL: ``pool_size`` and ``max_overflow`` size the event loop's pool,
        ``thread_pool_size`` (size, overflow) the synchronous engine's (the synchronous API
        and work in worker threads). ``statement_timeout_ms`` bounds every statement on the
        event loop, ``large_statement_timeout_ms`` those of the synchronous engine; None: no
        limit (the CLI, migrations)."""
        self.url = normalise_url(url)
        self.is_sqlite = is_sqlite(self.url)
        self.engine: Engine = (
            create_engine_for(self.url, immediate=True)
            if self.is_sqlite
            else create_postgres_engine(
                self.url,
                pool_size=thread_pool_size[0],
                max_overflow=thread_pool_size[1],
                statement_timeout_ms=large_statement_timeout_ms,
            )
        )
        # The event loop's engine (PostgreSQL): one for the process, bound to one loop at a
        # time (see the module's doc).
        self.async_engine: AsyncEngine | None = (
            None
            if self.is_sqlite
            else create_async_postgres_engine(
                async_url(self.url, async_driver),
                pool_size=pool_size,
                max_overflow=max_overflow,
                statement_timeout_ms=statement_timeout_ms,
            )
        )
        # Connections of the event loop's reads, kept between reads (db.loop_readers): at
        # most the pool's overflow, so that writes always find the pool's size.
        self._loop_readers = LoopReaders(limit=max(0, max_overflow))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_watch: asyncio.Task[None] | None = None
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
    def idle_loop_readers(self) -> int:
        """PostgreSQL: connections the event loop's reads keep between reads (checked out of
        the pool, not in use; see ``db.loop_readers``)."""
        return self._loop_readers.idle

    @property
    def engines(self) -> tuple[Engine, ...]:
        """The distinct engines to attach event listeners to (statement counters, tracing).
        PostgreSQL's thread read engine is an option view of the write engine and shares its
        events; the event loop's reads and writes share one engine, given as its synchronous
        core, where events live."""
        if self._inline_write_engine is not None:
            return (self.engine, self.read_engine, self._inline_write_engine)
        assert self.async_engine is not None
        return (self.engine, self.async_engine.sync_engine)

    # -- synchronous API (CLI, tests, bulk loaders) -------------------------------------------
    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        with _connect_sync(self.read_engine) as connection:
            return fn(connection)

    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction; commits unless it raises. Deadlocks, serialization
        failures and ``Stale`` run it again (``db.retry``)."""
        attempt = 1
        while True:
            try:
                return self._write_in_transaction(fn)
            except (Stale, DBAPIError) as error:
                delay = retry.delay_before_rerun(error, attempt)
                if delay is None:
                    raise
            time.sleep(delay)
            attempt += 1

    def _write_in_transaction(self, fn: Callable[[Connection], T]) -> T:
        with _connect_sync(self.engine) as connection, connection.begin():
            return fn(connection)

    # -- asynchronous API (request handlers) --------------------------------------------------
    async def read(self, fn: Callable[[Connection], T], *, in_thread: bool = False) -> T:
        """Run a read-only unit of work; ``fn`` must not write. ``in_thread`` runs it in a
        worker thread: for reads that grow with the tenant."""
        if self.is_sqlite:
            if not in_thread:
                return self._read_inline(fn)
            return await to_thread.run_sync(partial(self.read_sync, fn))
        engine = None if in_thread else self._loop_engine(self.async_engine)
        for attempt in (1, 2):
            try:
                if engine is None:
                    return await to_thread.run_sync(partial(self.read_sync, fn))
                return await self._loop_readers.run(partial(_connect, engine, autocommit=True), fn)
            except (DBAPIError, PoolTimeout) as error:
                # A read is safe to run again: once, on a fresh connection, when the one it
                # had was dead (the pool discarded the rest with it, and so do the readers).
                if attempt == 1 and isinstance(error, DBAPIError) and _is_disconnect(error):
                    log.warning("database connection lost during a read; running it again")
                    await self._loop_readers.discard_idle()
                    continue
                raise _store_error(error) from error
        raise AssertionError("unreachable")  # pragma: no cover

    async def write(
        self,
        fn: Callable[[Connection], T],
        *,
        in_thread: bool = False,
        one_statement: bool = False,
    ) -> T:
        """Run ``fn`` in one transaction; commits unless it raises. On SQLite inline when the
        write lock is free and ``in_thread`` is not asked for (large writes ask), else in a
        worker thread; on PostgreSQL on the event loop unless ``in_thread``. Deadlocks and
        serialization failures run it again (``db.retry``), and so does a lost connection
        before COMMIT (see the module's doc).

        ``one_statement``: ``fn`` writes with at most one statement, the last it sends (and
        raises before sending it or not at all); the statements before it only read.
        PostgreSQL then runs ``fn`` in autocommit: a statement is atomic on its own, so the
        BEGIN and COMMIT round trips buy nothing. What it read may change before its write
        runs: the write must then match nothing and raise ``Stale`` (``db.users`` writes
        the row at the version it read), and ``fn`` runs again. A connection lost while it
        ran is reported, never run again (it may have committed), as for a COMMIT that got
        no answer.

        ``Stale`` from ``fn`` runs it again (up to ``retry.STALE_ATTEMPTS`` times, then
        ``Unavailable``), in any mode: nothing was written."""
        if not self.is_sqlite:
            return await self._write_postgres(fn, in_thread, one_statement)
        attempt = 1
        while True:
            try:
                result = await self._write_once(fn, in_thread)
                break
            except (Stale, DBAPIError) as error:
                delay = retry.delay_before_rerun(error, attempt)
                if delay is None:
                    raise
            await anyio.sleep(delay)
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

    async def _write_postgres(
        self, fn: Callable[[Connection], T], in_thread: bool, one_statement: bool = False
    ) -> T:
        engine = None if in_thread else self._loop_engine(self.async_engine)
        attempt = 1
        reconnected = False
        while True:
            try:
                if engine is None:
                    return await to_thread.run_sync(partial(self._write_in_transaction, fn))
                if one_statement:
                    return await self._write_one_statement(engine, fn)
                return await self._write_on_loop(engine, fn)
            except _CommitFailed as failed:
                delay = retry.delay_before_rerun(failed.error, attempt)
                if delay is None:
                    # A COMMIT that broke with its connection may have committed: not run
                    # again (a create would be made twice), reported.
                    raise _store_error(failed.error) from failed.error
            except (Stale, DBAPIError, PoolTimeout) as error:
                if isinstance(error, DBAPIError) and _is_disconnect(error) and not reconnected:
                    # Failed before COMMIT: the server rolled the transaction back with its
                    # connection, so nothing applies twice. Once, on a fresh connection; this
                    # run does not count as an attempt.
                    log.warning("database connection lost during a write; running it again")
                    reconnected = True
                    continue
                delay = retry.delay_before_rerun(error, attempt)
                if delay is None:
                    raise _store_error(error) from error
            await anyio.sleep(delay)
            attempt += 1

    @staticmethod
    async def _write_on_loop(engine: AsyncEngine, fn: Callable[[Connection], T]) -> T:
        connection = await _connect(engine)
        try:
            transaction = await connection.begin()
            try:
                result = await connection.run_sync(fn)
            except BaseException:
                await transaction.rollback()
                raise
            try:
                await transaction.commit()
            except DBAPIError as error:
                raise _CommitFailed(error) from error
            return result
        finally:
            await connection.close()

    @staticmethod
    async def _write_one_statement(engine: AsyncEngine, fn: Callable[[Connection], T]) -> T:
        """``fn``'s one statement on an autocommit connection: it commits as it ends."""
        connection = await _connect(engine, autocommit=True)
        try:
            return await connection.run_sync(fn)
        except DBAPIError as error:
            if _is_disconnect(error):
                raise _CommitFailed(error) from error  # it may have committed
            raise
        finally:
            await connection.close()

    def _loop_engine(self, engine: AsyncEngine | None) -> AsyncEngine | None:
        """``engine`` when the running loop may use the event loop's pool, else None (the
        thread path): see the module's doc."""
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return engine
        assert self.async_engine is not None
        if self._loop is not None:
            if not self._loop.is_closed():
                return None  # another loop, still running, holds the pool
            # That loop ended without cancelling its tasks: its connections cannot be closed
            # any more (their transports belonged to it), only let go of.
            self._loop_readers.forget()
            self.async_engine.sync_engine.dispose(close=False)
        self._loop = loop
        self._loop_watch = loop.create_task(self._close_at_loop_end(loop))
        return engine

    async def _close_at_loop_end(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait until the loop ends (asyncio.run, anyio and uvicorn cancel every task then),
        then close the pool's connections on it, while it still runs them."""
        try:
            await asyncio.Event().wait()
        finally:
            if self._loop is loop:
                assert self.async_engine is not None
                try:
                    await self._loop_readers.discard_idle()
                    await self.async_engine.dispose()
                finally:
                    self._loop = None
                    self._loop_watch = None

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

    async def aclose(self) -> None:
        """``dispose`` from the event loop: its pool's connections are closed on it."""
        if self.async_engine is not None and self._loop is asyncio.get_running_loop():
            await self._loop_readers.discard_idle()
            await self.async_engine.dispose()
        self.dispose()

    def dispose(self) -> None:
        if self.async_engine is not None:
            # From outside the loop that holds them, connections can only be let go of (a
            # loop closes its own when it ends, see _close_at_loop_end).
            self._loop_readers.forget()
            self.async_engine.sync_engine.dispose(close=False)
        for inline in (self._inline_reader, self._inline_writer):
            if inline is not None:
                inline.close()
        self._inline_reader = self._inline_writer = None
        self.engine.dispose()
        if self.is_sqlite:
            self.read_engine.dispose()
        if self._inline_write_engine is not None:
            self._inline_write_engine.dispose()
