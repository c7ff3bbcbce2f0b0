"""``Database.read`` on the event loop keeps its connection for the next read: on PostgreSQL
(``db.loop_readers``) a read takes no connection from the pool, and reads beyond the pool's
size open no new connection once they have run; SQLite reads share one inline connection.
What a lost connection and the end of the loop do to the connections kept."""

import asyncio
from datetime import datetime
from typing import Any

import anyio
import psycopg
import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url

from db.database import Database
from db.loop_readers import LoopReaders
from tests.conftest import BACKENDS

POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [backend for backend in BACKENDS if backend == "postgresql"], indirect=True
)


class PoolEvents:
    """Connections opened and taken from the pools of ``database``'s engines."""

    def __init__(self, database: Database) -> None:
        self.opened = 0
        self.taken = 0
        self.given_back = 0
        self._engines = database.engines
        for engine in self._engines:
            event.listen(engine, "connect", self._connect)
            event.listen(engine, "checkout", self._checkout)
            event.listen(engine, "checkin", self._checkin)

    def _connect(self, *_: Any) -> None:
        self.opened += 1

    def _checkout(self, *_: Any) -> None:
        self.taken += 1

    def _checkin(self, *_: Any) -> None:
        self.given_back += 1


def _one(connection: Connection) -> int:
    return int(connection.execute(text("SELECT 1")).scalar_one())


def _slow(connection: Connection) -> int:
    """A read that lasts, so that reads of one burst overlap (SQLite's run inline, one by one)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_sleep(0.05)"))
    return _one(connection)


async def _burst(database: Database, size: int) -> list[int]:
    async def read() -> int:
        return await database.read(_slow)

    return list(await asyncio.gather(*(read() for _ in range(size))))


def test_reads_on_the_loop_take_one_connection_from_the_pool(database: Database) -> None:
    events = PoolEvents(database)

    async def scenario() -> list[int]:
        return [await database.read(_one) for _ in range(20)]

    assert anyio.run(scenario) == [1] * 20
    assert events.taken == 1  # before: one checkout (and checkin) per read on PostgreSQL


def test_reads_beyond_the_pool_size_open_no_connection_once_they_ran(database_url: str) -> None:
    database = Database(database_url, pool_size=2, max_overflow=4)
    try:
        events = PoolEvents(database)

        async def scenario() -> tuple[int, int]:
            assert await _burst(database, 4) == [1] * 4
            first = events.opened
            assert await _burst(database, 4) == [1] * 4
            return first, events.opened - first

        first, again = anyio.run(scenario)
        # The pool keeps 2 connections and closed the other two as they came back, so every
        # burst above its size opened connections anew (a PostgreSQL server process each).
        assert again == 0
        assert first == (1 if database.is_sqlite else 4)
    finally:
        database.dispose()


def test_readers_keep_at_most_the_pool_overflow(database_url: str) -> None:
    """Writes always find as many connections as the pool's size."""
    database = Database(database_url, pool_size=1, max_overflow=2)
    try:

        async def scenario() -> int:
            await _burst(database, 3)
            return database.idle_loop_readers

        idle = anyio.run(scenario)
        assert idle == (0 if database.is_sqlite else 2)
    finally:
        database.dispose()


def _transactions(connection: Connection) -> tuple[int, int]:
    """The transaction of each of two statements (PostgreSQL)."""
    first, second = (
        int(connection.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one())
        for _ in range(2)
    )
    return first, second


@POSTGRES_ONLY
def test_reads_run_in_autocommit_and_writes_after_them_in_a_transaction(
    database_url: str,
) -> None:
    """A read's statements run in transactions of their own; its connection goes back to the
    pool in the engine's isolation level, so that a write on it is one transaction again.
    (No idle reader is kept: the write takes the read's connection.)"""
    database = Database(database_url, pool_size=1, max_overflow=0)
    try:
        events = PoolEvents(database)

        async def scenario() -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
            read = await database.read(_transactions)
            written = await database.write(_transactions)
            again = await database.read(_transactions)
            return read, written, again

        read, written, again = anyio.run(scenario)
        assert read[0] != read[1]
        assert written[0] == written[1]
        assert again[0] != again[1]
        assert events.opened == 1  # one connection served the reads and the write
    finally:
        database.dispose()


@POSTGRES_ONLY
def test_a_connection_goes_back_to_the_pool_once_held_long_enough(database: Database) -> None:
    """What the pool does at checkout (recycling, replacing what it invalidated) still applies
    to connections kept between reads, once they were held ``hold_seconds`` (PostgreSQL only:
    SQLite reads share one inline connection, outside any pool)."""
    assert database.async_engine is not None
    engine = database.async_engine.execution_options(isolation_level="AUTOCOMMIT")
    now = [0.0]
    readers = LoopReaders(limit=4, hold_seconds=60, clock=lambda: now[0])
    events = PoolEvents(database)

    async def scenario() -> None:
        for _ in range(3):
            await readers.run(engine.connect, _one)
        assert (events.taken, events.given_back, readers.idle) == (1, 0, 1)
        now[0] = 60.0
        await readers.run(engine.connect, _one)  # held 60 s: back to the pool after this read
        assert (events.taken, events.given_back, readers.idle) == (1, 1, 0)
        await readers.run(engine.connect, _one)
        assert (events.taken, readers.idle) == (2, 1)
        await readers.discard_idle()
        assert (events.given_back, readers.idle) == (2, 0)
        await database.async_engine.dispose()  # type: ignore[union-attr]

    anyio.run(scenario)


# -- PostgreSQL: lost connections, the end of the loop --------------------------------------


def _admin(database_url: str) -> psycopg.Connection[Any]:
    uri = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    return psycopg.connect(uri, autocommit=True)


@pytest.fixture
def started(database_url: str) -> datetime:
    """The server's clock before the test's store connected."""
    with _admin(database_url) as admin:
        row = admin.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    value: datetime = row[0]
    return value


_SINCE = (
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_start >= %s"
)


def _backends_since(database_url: str, since: datetime) -> int:
    with _admin(database_url) as admin:
        return len(admin.execute("SELECT pid " + _SINCE, (since,)).fetchall())


def _terminate_backends_since(database_url: str, since: datetime) -> int:
    """What a restart or a failover of PostgreSQL does to the connections."""
    with _admin(database_url) as admin:
        return len(admin.execute("SELECT pg_terminate_backend(pid) " + _SINCE, (since,)).fetchall())


@POSTGRES_ONLY
def test_a_lost_connection_replaces_every_kept_one(
    database: Database, database_url: str, started: datetime
) -> None:
    """After a restart or failover every kept connection is dead: the read that meets the
    first runs again on a fresh one, and so does every read after it."""

    async def keep_three() -> int:
        await _burst(database, 3)
        return database.idle_loop_readers

    async def after_loss() -> list[int]:
        return [await database.read(_one) for _ in range(4)]

    async def scenario() -> list[int]:
        assert await keep_three() == 3
        assert await anyio.to_thread.run_sync(_terminate_backends_since, database_url, started) >= 3
        return await after_loss()

    assert anyio.run(scenario) == [1] * 4


@POSTGRES_ONLY
def test_the_connections_kept_are_closed_when_the_loop_ends(
    database: Database, database_url: str, started: datetime
) -> None:
    async def scenario() -> int:
        await _burst(database, 3)
        return database.idle_loop_readers

    assert anyio.run(scenario) == 3
    assert database.idle_loop_readers == 0
    assert _backends_since(database_url, started) == 0
