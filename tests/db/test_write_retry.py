"""Writes PostgreSQL aborts as a deadlock or serialization failure run again; others do not."""

import threading
from collections.abc import Callable

import anyio
import psycopg.errors
import pytest
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import OperationalError

from db import retry
from db.database import Database
from db.retry import backoff_seconds
from db.tables import tenants
from db.tenants import create_tenant
from tests.conftest import BACKENDS


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "backoff_seconds", lambda attempt: 0.0)


def _failing(times: int, orig: Exception) -> tuple[list[int], Callable[[Connection], str]]:
    calls: list[int] = []

    def work(connection: Connection) -> str:
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError("UPDATE ...", {}, orig)
        return "done"

    return calls, work


@pytest.mark.parametrize("in_thread", [False, True])
def test_deadlock_victim_is_retried(database: Database, in_thread: bool) -> None:
    calls, work = _failing(retry.ATTEMPTS - 1, psycopg.errors.DeadlockDetected("deadlock"))

    async def write() -> str:
        return await database.write(work, in_thread=in_thread)

    assert anyio.run(write) == "done"
    assert len(calls) == retry.ATTEMPTS


def test_synchronous_writes_are_retried_too(database: Database) -> None:
    calls, work = _failing(1, psycopg.errors.SerializationFailure("could not serialize"))
    assert database.write_sync(work) == "done"
    assert len(calls) == 2


def test_retries_stop_after_the_last_attempt(database: Database) -> None:
    calls, work = _failing(retry.ATTEMPTS, psycopg.errors.SerializationFailure("serialize"))
    with pytest.raises(OperationalError):
        anyio.run(database.write, work)
    assert len(calls) == retry.ATTEMPTS


def test_other_database_errors_are_not_retried(database: Database) -> None:
    calls, work = _failing(1, psycopg.errors.DiskFull("disk full"))
    with pytest.raises(OperationalError):
        anyio.run(database.write, work)
    assert len(calls) == 1
    calls, work = _failing(1, psycopg.errors.DiskFull("disk full"))
    with pytest.raises(OperationalError):
        database.write_sync(work)
    assert len(calls) == 1


def test_a_retried_write_leaves_only_its_last_run(database: Database) -> None:
    runs: list[int] = []

    def work(connection: Connection) -> None:
        runs.append(1)
        create_tenant(connection, f"run-{len(runs)}")
        if len(runs) == 1:
            raise OperationalError("INSERT ...", {}, psycopg.errors.DeadlockDetected("deadlock"))

    anyio.run(database.write, work)
    slugs = database.read_sync(lambda c: list(c.execute(select(tenants.c.slug)).scalars()))
    assert slugs == ["run-2"]


def test_backoff_is_short_jittered_and_bounded() -> None:
    delays = [backoff_seconds(attempt) for attempt in range(1, 20) for _ in range(5)]
    assert all(0 < delay <= retry.MAX_DELAY for delay in delays)
    assert len(set(delays)) > 1


# PostgreSQL only: SQLite admits one writer at a time, so its writes cannot deadlock.
@pytest.mark.parametrize(
    "database_url", [backend for backend in BACKENDS if backend == "postgresql"], indirect=True
)
def test_a_real_deadlock_is_broken_and_both_writes_succeed(database: Database) -> None:
    """Two transactions lock two rows in opposite order; PostgreSQL aborts one of them, and
    the store runs it again once the other has committed. One runs on the event loop, the
    other in a worker thread: the barrier both wait at blocks the thread it is reached in,
    and the loop's write only reaches it after its first lock (it then waits for its
    second on the network, in a greenlet, leaving the loop free)."""
    first, second = database.write_sync(
        lambda c: (create_tenant(c, "first").id, create_tenant(c, "second").id)
    )
    both_hold_one_lock = threading.Barrier(2, timeout=10)
    runs: dict[str, int] = {"a": 0, "b": 0}

    def rename(connection: Connection, tenant_id: int, name: str) -> None:
        connection.execute(update(tenants).where(tenants.c.id == tenant_id).values(name=name))

    def locking(label: str, one: int, other: int) -> Callable[[Connection], str]:
        def work(connection: Connection) -> str:
            runs[label] += 1
            rename(connection, one, label)
            if runs[label] == 1:
                both_hold_one_lock.wait()  # each now waits for the row the other holds
            rename(connection, other, label)
            return label

        return work

    results: list[str] = []

    async def race() -> None:
        async def write(work: Callable[[Connection], str], in_thread: bool) -> None:
            results.append(await database.write(work, in_thread=in_thread))

        async with anyio.create_task_group() as group:
            group.start_soon(write, locking("b", second, first), True)
            group.start_soon(write, locking("a", first, second), False)

    anyio.run(race)
    assert sorted(results) == ["a", "b"]
    assert sorted(runs.values()) == [1, 2]  # the deadlock victim ran twice
    names = database.read_sync(
        lambda c: set(
            c.execute(select(tenants.c.name).where(tenants.c.id.in_([first, second]))).scalars()
        )
    )
    assert len(names) == 1  # the write that ran last renamed both rows
