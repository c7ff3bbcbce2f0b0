"""Planner statistics kept fresh while tenants grow (PostgreSQL; see ``db.statistics``): a
look every ``BLINK_DB_ANALYZE_SECONDS`` at how much the growing tables changed, and an
ANALYZE, in a worker thread, of those that doubled since their last one."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from app.background import in_background
from db.database import Database
from db.errors import QueryTimeout, Unavailable
from db.statistics import analyze_stale, stale_tables

log = logging.getLogger(__name__)

EVERY_SECONDS = 2.0


async def keep_statistics(database: Database, *, every: float = EVERY_SECONDS) -> None:
    # While the database is out of reach every look fails the same way: one warning when it
    # starts, one line when it works again, not a warning every ``every`` seconds.
    failing = False
    while True:
        await asyncio.sleep(every)
        try:
            await _refresh(database)
        except (Unavailable, QueryTimeout) as error:  # the next look tries again
            if not failing:
                log.warning("planner statistics not refreshed, trying every %gs: %s", every, error)
            failing = True
            continue
        except Exception:
            log.exception("refreshing planner statistics failed")
            continue
        if failing:
            log.info("planner statistics refresh works again")
            failing = False


async def _refresh(database: Database) -> None:
    stale = await database.read(stale_tables)
    if not stale:
        return
    # In a thread, on the synchronous engine: its statement timeout is the long one.
    analyzed = await database.write(partial(analyze_stale, tables=stale), in_thread=True)
    if analyzed:
        log.info("planner statistics refreshed: %s", ", ".join(analyzed))


@asynccontextmanager
async def statistics(database: Database, every: float = EVERY_SECONDS) -> AsyncIterator[None]:
    """Keep the statistics fresh while the block runs, a look every ``every`` seconds
    (nothing on SQLite, or when ``every`` is 0)."""
    if database.is_sqlite or every <= 0:
        yield
        return
    async with in_background(keep_statistics(database, every=every)):
        yield
