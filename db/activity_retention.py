"""Retention of the activity log: deleting events older than a number of days, in batches.

Each batch is a transaction of its own deleting at most ``BATCH`` events, oldest first
(``ix_activity_occurred_at``), so no write lock is held for long and writers get in between
batches. The app runs it in a worker thread (``Database.write(in_thread=True)``); the CLI
runs it synchronously. A tenant's newest numbered event is always kept (``db.activity``).
"""

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Connection

from db.activity import prune_events
from db.database import Database
from db.types import utcnow

BATCH = 5000


def cutoff(days: int, now: datetime | None = None) -> datetime:
    """Events that occurred before this moment are older than ``days`` days."""
    return (now or utcnow()) - timedelta(days=days)


def _batch(before: datetime, limit: int, connection: Connection) -> int:
    return prune_events(connection, before, limit)


def prune_sync(database: Database, days: int, batch: int = BATCH) -> int:
    """Delete the events older than ``days`` days; the number deleted."""
    before, deleted = cutoff(days), 0
    while True:
        count = database.write_sync(partial(_batch, before, batch))
        deleted += count
        if count < batch:
            return deleted


async def prune(database: Database, days: int, batch: int = BATCH) -> int:
    """``prune_sync`` off the event loop, one batch per transaction."""
    before, deleted = cutoff(days), 0
    while True:
        count = await database.write(partial(_batch, before, batch), in_thread=True)
        deleted += count
        if count < batch:
            return deleted
