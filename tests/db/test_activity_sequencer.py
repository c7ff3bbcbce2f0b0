"""The per-process sequencer: passes after writes, coalesced per tenant, failures retried by
the next pass."""

import asyncio
import logging

import pytest
from sqlalchemy import Connection, func, select

from db.activity import Event, Operation, Origin, ResourceType, record_events
from db.activity_sequencer import Sequencer
from db.database import Database
from db.tables import activity_events
from db.tenants import create_tenant
from tests.unnumbered_events import record_unnumbered


def _tenant_with_events(database: Database, count: int) -> int:
    def work(connection: Connection) -> int:
        tenant = create_tenant(connection, "acme").id
        events = [Event(Operation.UPDATE, ResourceType.USER, f"u{n}") for n in range(count)]
        record_unnumbered(connection, tenant, Origin("r", "Entra"), events)
        return tenant

    return database.write_sync(work)


def _unnumbered(database: Database) -> int:
    statement = select(func.count()).where(activity_events.c.seq.is_(None))
    return int(database.read_sync(lambda connection: connection.execute(statement).scalar_one()))


class CountingSequencer(Sequencer):
    """Passes after writes on both databases (SQLite numbers at insert and runs none by
    default): the pass machinery is the same."""

    def __init__(self, database: Database, fail_first: bool = False) -> None:
        super().__init__(database, delay=0.01, passes=True)
        self.passes = 0
        self.fail_first = fail_first

    async def sequence(self, tenant_id: int) -> int:
        self.passes += 1
        if self.fail_first and self.passes == 1:
            raise RuntimeError("the database went away")
        return await super().sequence(tenant_id)


def test_calls_while_a_pass_waits_are_one_pass(database: Database) -> None:
    tenant = _tenant_with_events(database, 3)
    sequencer = CountingSequencer(database)

    async def run() -> None:
        for _ in range(50):
            sequencer.schedule(tenant)
        await sequencer.drain()

    asyncio.run(run())
    assert sequencer.passes == 1
    assert _unnumbered(database) == 0


def test_a_call_during_a_pass_gets_a_pass_of_its_own(database: Database) -> None:
    tenant = _tenant_with_events(database, 1)
    sequencer = CountingSequencer(database)

    async def run() -> None:
        sequencer.schedule(tenant)
        while sequencer.passes == 0:
            await asyncio.sleep(0.001)
        sequencer.schedule(tenant)  # the first pass may have started before this write
        await sequencer.drain()

    asyncio.run(run())
    assert sequencer.passes == 2


def test_a_failed_pass_is_logged_and_the_next_numbers_its_events(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = _tenant_with_events(database, 2)
    sequencer = CountingSequencer(database, fail_first=True)

    async def run() -> None:
        sequencer.schedule(tenant)
        await sequencer.drain()
        assert _unnumbered(database) == 2
        sequencer.schedule(tenant)
        await sequencer.drain()

    with caplog.at_level(logging.ERROR, logger="db.activity_sequencer"):
        asyncio.run(run())
    assert "numbering the activity events" in caplog.text
    assert _unnumbered(database) == 0


def test_sqlite_runs_no_pass_after_writes_and_wakes_at_once(database: Database) -> None:
    """SQLite numbers events as it inserts them: a write is followed by a wake-up of the live
    subscribers, not by a pass (a second write transaction). PostgreSQL: a pass, then the
    wake-up."""
    woken: list[int] = []

    def write(connection: Connection) -> int:
        tenant = create_tenant(connection, "acme").id
        record_events(connection, tenant, Origin("r", "Entra"), [_user_event("u1")])
        return tenant

    tenant = database.write_sync(write)

    class Counting(Sequencer):
        passes = 0

        async def sequence(self, tenant_id: int) -> int:
            self.passes += 1
            return await super().sequence(tenant_id)

    sequencer = Counting(database, delay=0.01, on_numbered=woken.append)

    async def run() -> None:
        sequencer.schedule(tenant)
        if database.is_sqlite:
            assert woken == [tenant]  # at once, before any await
        await sequencer.drain()

    asyncio.run(run())
    assert woken == [tenant]
    assert sequencer.passes == (0 if database.is_sqlite else 1)
    assert _unnumbered(database) == 0


def _user_event(resource_id: str) -> Event:
    return Event(Operation.UPDATE, ResourceType.USER, resource_id)
