"""The process's one PostgreSQL LISTEN connection, waking the feeds of notified tenants.

A dedicated psycopg connection, not one of the pool's: while it waits for notifications it
can run nothing else. Every numbering pass notifies ``db.activity.NOTIFY_CHANNEL`` with
``<tenant id>:<seq>``; the feed of that tenant (if this process has one) reads the log after
its head. When the connection drops, it is opened again (waiting longer after each failure,
up to ``MAX_BACKOFF_SECONDS``) and then every feed reads on from its head: what was notified
while nobody listened is in the log, so nothing is lost.
"""

import asyncio
import logging

import psycopg
from sqlalchemy.engine import URL

from app.graphql_api.live_feeds import LiveFeeds
from db.activity import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

#: The connection's application_name, to tell it apart in pg_stat_activity.
APPLICATION_NAME = "blink-directory-live"
FIRST_BACKOFF_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 5.0


def conninfo(url: URL) -> str:
    """A libpq URI for the store's SQLAlchemy URL (``postgresql+psycopg://…``)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def parse_payload(payload: str) -> tuple[int, int] | None:
    tenant, _, seq = payload.partition(":")
    try:
        return int(tenant), int(seq)
    except ValueError:
        return None


async def listen(url: URL, feeds: LiveFeeds) -> None:
    """Listen until cancelled, reconnecting after every loss."""
    backoff = FIRST_BACKOFF_SECONDS
    while True:
        try:
            connection = await psycopg.AsyncConnection.connect(
                conninfo(url), autocommit=True, application_name=APPLICATION_NAME
            )
        except psycopg.Error as error:
            log.warning("live changes: cannot connect to listen (%s); retrying", error)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            continue
        try:
            async with connection:
                await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                backoff = FIRST_BACKOFF_SECONDS
                feeds.wake_all()  # catch up on what was numbered while nobody listened
                async for notification in connection.notifies():
                    parsed = parse_payload(notification.payload)
                    if parsed is not None:
                        feeds.notified(*parsed)
        except psycopg.Error as error:
            log.warning("live changes: the listening connection was lost (%s)", error)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
