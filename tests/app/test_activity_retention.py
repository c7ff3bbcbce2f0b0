"""Retention of the activity log: the settings, the server's own pruning task and
``blink-directory activity prune``."""

import asyncio
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Connection, func, select, update
from typer.testing import CliRunner

from app.activity_retention import keep_pruning
from app.cli import cli
from app.settings import Settings
from db.activity import Event, Operation, Origin, ResourceType, record_events, sequence_events
from db.database import Database
from db.tables import activity_events
from db.tenants import create_tenant
from db.types import utcnow

runner = CliRunner()


def _seed(database: Database, old: int, recent: int) -> int:
    """``old`` events 100 days old and ``recent`` new ones, numbered; the tenant id."""

    def work(connection: Connection) -> int:
        tenant = create_tenant(connection, "acme").id
        origin = Origin("r", "Entra")
        events = [Event(Operation.UPDATE, ResourceType.USER, f"u{n}") for n in range(old)]
        record_events(connection, tenant, origin, events)
        connection.execute(update(activity_events).values(occurred_at=utcnow() - timedelta(100)))
        recent_events = [Event(Operation.UPDATE, ResourceType.USER, "n") for _ in range(recent)]
        record_events(connection, tenant, origin, recent_events)
        return tenant

    tenant = database.write_sync(work)
    database.write_sync(lambda connection: sequence_events(connection, tenant))
    return tenant


def _count(database: Database) -> int:
    statement = select(func.count()).select_from(activity_events)
    return int(database.read_sync(lambda connection: connection.execute(statement).scalar_one()))


def test_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings().activity_log, Settings().activity_retention_days) == (True, 90)
    monkeypatch.setenv("BLINK_ACTIVITY_LOG", "false")
    monkeypatch.setenv("BLINK_ACTIVITY_RETENTION_DAYS", "0")
    assert (Settings().activity_log, Settings().activity_retention_days) == (False, 0)
    monkeypatch.setenv("BLINK_ACTIVITY_RETENTION_DAYS", "-1")
    with pytest.raises(ValidationError):
        Settings()


def test_the_command_prunes_in_batches(
    database_url: str, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(database, old=12, recent=2)
    monkeypatch.setattr("db.activity_retention.BATCH", 5)
    result = runner.invoke(cli, ["activity", "prune", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "deleted 12 activity events older than 90 days" in result.stdout
    assert _count(database) == 2


def test_the_command_honours_days_and_zero_keeps_everything(
    database_url: str, database: Database
) -> None:
    _seed(database, old=3, recent=1)
    args = ["activity", "prune", "--database-url", database_url]
    result = runner.invoke(cli, [*args, "--days", "0"])
    assert result.exit_code == 0
    assert "nothing deleted" in result.stdout
    assert _count(database) == 4
    result = runner.invoke(cli, [*args, "--days", "200"])
    assert "deleted 0" in result.stdout
    result = runner.invoke(cli, [*args, "--days", "30"])
    assert "deleted 3" in result.stdout
    assert _count(database) == 1


def test_the_server_prunes_on_its_own(database: Database) -> None:
    _seed(database, old=7, recent=1)

    async def run() -> None:
        task = asyncio.get_running_loop().create_task(
            keep_pruning(database, 90, first_after=0, every=3600)
        )
        for _ in range(1000):
            if _count(database) == 1:
                break
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(run())
    assert _count(database) == 1
