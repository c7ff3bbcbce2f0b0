"""bench.store_share: the store's CPU time per unit of work, and what a target leaves it."""

import asyncio
import logging.config
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from bench import operations
from bench.frontend import operations as frontend_operations
from bench.store_share import StoreClock, store_budget, timed_store
from db.database import Database


def _busy(seconds: float) -> None:
    """CPU work, not a sleep: thread time only counts what the thread ran."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_each_unit_of_work_adds_its_cpu_time_and_the_methods_come_back(
    database: Database,
) -> None:
    read, write = Database.read, Database.write
    clock = StoreClock()

    def select_and_work(connection: Connection) -> int:
        _busy(0.02)
        return int(connection.execute(text("SELECT 1")).scalar_one())

    async def units() -> list[int]:
        with timed_store(clock):
            return [
                await database.read(select_and_work),
                await database.read(select_and_work, in_thread=True),
                await database.write(select_and_work),
            ]

    assert asyncio.run(units()) == [1, 1, 1]
    assert clock.units == 3
    assert clock.seconds >= 3 * 0.02
    assert (Database.read, Database.write) == (read, write)
    clock.reset()
    assert (clock.seconds, clock.units) == (0.0, 0)


def test_a_unit_of_work_that_fails_is_counted_and_still_fails(database: Database) -> None:
    clock = StoreClock()

    def fails(connection: Connection) -> None:
        _busy(0.01)
        raise LookupError("no such thing")

    async def unit() -> None:
        with timed_store(clock):
            await database.read(fails)

    with pytest.raises(LookupError):
        asyncio.run(unit())
    assert clock.units == 1
    assert clock.seconds >= 0.01


def test_the_store_budget_is_what_the_target_leaves_once_the_rest_is_paid() -> None:
    # Floor 500 µs: at 0.5x the service may take 1,000 µs, 800 of which the rest takes.
    assert store_budget(500e-6, 800e-6, 0.5) == pytest.approx(200e-6)
    # A rest that alone misses the target leaves the store less than nothing.
    assert store_budget(500e-6, 1_100e-6, 0.5) == pytest.approx(-100e-6)
    with pytest.raises(ValueError, match="above 0"):
        store_budget(500e-6, 800e-6, 0)


def test_every_operation_is_split_into_the_store_and_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(operations, "WORK", tmp_path)
    monkeypatch.setattr(operations, "WARM_UP", 2)
    # The app as shipped would configure logging for the whole test process.
    monkeypatch.setattr(logging.config, "dictConfig", lambda config: None)
    operations.main(["--size", "60", "--runs", "3", "--rounds", "1", "--store-share"])
    lines = [line for line in capsys.readouterr().out.splitlines() if "µs" in line]
    assert [line.split()[0] for line in lines] == [op.name for op in frontend_operations()]
    for line in lines:
        words = line.split()
        ours = float(words[1])
        store = float(words[words.index("store") + 1])
        # Every operation reads the tenant's counters at least: the store took some time,
        # and less than the whole request.
        assert 0 < store < ours, line
        assert "store budget at 0.5x" in line


@pytest.mark.parametrize(
    "extra", [["--postgres", "postgresql+psycopg://x@127.0.0.1/y"], ["--profile", "org_chart"]]
)
def test_the_split_is_refused_where_the_thread_time_is_not_the_store_s(
    extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        operations.main(["--store-share", *extra])
    assert exit_info.value.code == 2
    assert "--store-share runs on SQLite" in capsys.readouterr().err
