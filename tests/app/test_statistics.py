"""The server refreshes the planner statistics of tables that grew, on its own
(``app.statistics``; PostgreSQL only)."""

import asyncio
import logging
import time
from typing import Any, cast

import pytest
from sqlalchemy import Connection

import app.statistics as statistics_module
from app.statistics import keep_statistics, statistics
from db.database import Database
from db.errors import Unavailable
from db.statistics import GROWING_TABLES, MIN_CHANGES, stale_tables
from db.tenants import create_tenant
from tests.directory_rows import insert_users


def _grown(database: Database) -> None:
    if not database.is_sqlite:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            for name in GROWING_TABLES:
                c.exec_driver_sql(f'ANALYZE "{name}"')

    def work(connection: Connection) -> None:
        insert_users(connection, create_tenant(connection, "acme").id, MIN_CHANGES * 2)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_stat_force_next_flush()")

    database.write_sync(work)


def test_the_server_analyzes_a_table_that_grew(isolated_database: Database) -> None:
    database = isolated_database
    _grown(database)
    if database.is_sqlite:
        assert database.read_sync(stale_tables) == []

        async def no_task() -> int:
            before = len(asyncio.all_tasks())
            async with statistics(database):
                return len(asyncio.all_tasks()) - before

        assert asyncio.run(no_task()) == 0
        return
    deadline = time.monotonic() + 5
    while not database.read_sync(stale_tables) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert database.read_sync(stale_tables) == ["user"]

    async def run() -> list[str]:
        task = asyncio.get_running_loop().create_task(keep_statistics(database, every=0.05))
        try:
            for _ in range(100):
                await asyncio.sleep(0.05)
                stale = await database.read(stale_tables)
                if not stale:
                    return stale
            return stale
        finally:
            task.cancel()
            await database.aclose()

    assert asyncio.run(run()) == []


def test_an_outage_is_one_warning_and_its_end_one_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Looks failing while the database is out of reach warn once, not every few seconds."""
    outcomes: list[BaseException | None] = [None, *[Unavailable("down")] * 5, None, None]
    looked = asyncio.Event()

    async def refresh(_database: Any) -> None:
        outcome = outcomes.pop(0)
        if not outcomes:
            looked.set()
        if outcome is not None:
            raise outcome

    monkeypatch.setattr(statistics_module, "_refresh", refresh)

    async def run() -> None:
        looks = keep_statistics(cast(Database, object()), every=0.001)  # _refresh is replaced
        task = asyncio.get_running_loop().create_task(looks)
        await asyncio.wait_for(looked.wait(), 5)
        task.cancel()

    with caplog.at_level(logging.INFO, logger="app.statistics"):
        asyncio.run(run())
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "app.statistics"]
    assert lines == [
        ("WARNING", "planner statistics not refreshed, trying every 0.001s: down"),
        ("INFO", "planner statistics refresh works again"),
    ]
