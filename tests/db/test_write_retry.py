"""Writes PostgreSQL aborts as a deadlock or serialization failure run again, and so do
writes that found their row changed (``Stale``); others do not."""

import threading
from collections.abc import Callable
from typing import Any

import anyio
import psycopg.errors
import pytest
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from db import retry
from db.database import Database
from db.errors import Stale, Unavailable
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


def _deadlock() -> OperationalError:
    return OperationalError("UPDATE ...", {}, psycopg.errors.DeadlockDetected("deadlock"))


def test_the_decision_runs_a_stale_write_again_until_its_last_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retry, "backoff_seconds", lambda attempt: attempt / 1000)
    stale = Stale()
    for attempt in range(1, retry.STALE_ATTEMPTS):
        assert retry.delay_before_rerun(stale, attempt) == attempt / 1000
    with pytest.raises(Unavailable, match="kept changing") as raised:
        retry.delay_before_rerun(stale, retry.STALE_ATTEMPTS)
    assert raised.value.__cause__ is stale


def test_the_decision_runs_a_deadlock_again_until_its_last_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retry, "backoff_seconds", lambda attempt: attempt / 1000)
    serialization = OperationalError("UPDATE ...", {}, psycopg.errors.SerializationFailure("s"))
    for error in (_deadlock(), serialization):
        for attempt in range(1, retry.ATTEMPTS):
            assert retry.delay_before_rerun(error, attempt) == attempt / 1000
        assert retry.delay_before_rerun(error, retry.ATTEMPTS) is None


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("UPDATE ...", {}, psycopg.errors.DiskFull("disk full")),
        OperationalError("UPDATE ...", {}, Exception("database is locked")),  # no sqlstate
        PoolTimeout("every connection is busy"),
        ValueError("the unit of work's own answer"),
    ],
)
def test_the_decision_never_runs_other_errors_again(error: Exception) -> None:
    assert retry.delay_before_rerun(error, 1) is None


def _stale(
    times: int, then: Exception | None = None
) -> tuple[list[int], Callable[[Connection], str]]:
    """Work that is stale ``times`` times, then raises ``then`` once, then succeeds."""
    calls: list[int] = []

    def work(connection: Connection) -> str:
        calls.append(1)
        if len(calls) <= times:
            raise Stale
        if then is not None and len(calls) == times + 1:
            raise then
        return "done"

    return calls, work


def _writes(database: Database) -> dict[str, Callable[[Callable[[Connection], str]], str]]:
    """Each way a write runs: its own retry loop (SQLite inline or PostgreSQL on the loop,
    a worker thread, autocommit on PostgreSQL, the synchronous API)."""

    def on_loop(**options: Any) -> Callable[[Callable[[Connection], str]], str]:
        def write(work: Callable[[Connection], str]) -> str:
            async def run() -> str:
                try:
                    return await database.write(work, **options)
                finally:
                    await database.aclose()

            return anyio.run(run)

        return write

    return {
        "loop": on_loop(),
        "thread": on_loop(in_thread=True),
        "one_statement": on_loop(one_statement=True),
        "sync": database.write_sync,
    }


WRITES = ["loop", "thread", "one_statement", "sync"]


@pytest.mark.parametrize("way", WRITES)
def test_a_stale_write_runs_again_then_is_unavailable(database: Database, way: str) -> None:
    write = _writes(database)[way]
    calls, work = _stale(retry.STALE_ATTEMPTS - 1)
    assert write(work) == "done"
    assert len(calls) == retry.STALE_ATTEMPTS
    calls, work = _stale(retry.STALE_ATTEMPTS)
    with pytest.raises(Unavailable, match="kept changing") as raised:
        write(work)
    assert isinstance(raised.value.__cause__, Stale)
    assert len(calls) == retry.STALE_ATTEMPTS


@pytest.mark.parametrize("way", WRITES)
def test_stale_runs_count_toward_the_deadlock_attempts(database: Database, way: str) -> None:
    """One count of runs for both kinds: a deadlock after as many stale runs as a deadlock
    may have is not run again."""
    write = _writes(database)[way]
    calls, work = _stale(retry.ATTEMPTS - 1, then=_deadlock())
    with pytest.raises(OperationalError):
        write(work)
    assert len(calls) == retry.ATTEMPTS
    calls, work = _stale(retry.ATTEMPTS - 2, then=_deadlock())
    assert write(work) == "done"
    assert len(calls) == retry.ATTEMPTS


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
