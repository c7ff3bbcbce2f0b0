"""The activity log's retention, run by the server on its own: a pass shortly after start,
then every hour (``BLINK_ACTIVITY_RETENTION_DAYS``; 0 keeps everything and runs nothing)."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.background import in_background
from db.activity_retention import prune
from db.database import Database

log = logging.getLogger(__name__)

FIRST_PASS_AFTER_SECONDS = 60.0
EVERY_SECONDS = 3600.0


async def keep_pruning(
    database: Database,
    days: int,
    *,
    first_after: float = FIRST_PASS_AFTER_SECONDS,
    every: float = EVERY_SECONDS,
) -> None:
    await asyncio.sleep(first_after)
    while True:
        try:
            deleted = await prune(database, days)
            if deleted:
                log.info("activity log: deleted %d events older than %d days", deleted, days)
        except Exception:  # the next pass tries again
            log.exception("pruning the activity log failed")
        await asyncio.sleep(every)


@asynccontextmanager
async def retention(database: Database, days: int) -> AsyncIterator[None]:
    """Prune in the background while the block runs (nothing when ``days`` is 0)."""
    if days <= 0:
        yield
        return
    async with in_background(keep_pruning(database, days)):
        yield
