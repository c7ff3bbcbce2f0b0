"""Group writes retried when PostgreSQL aborts them to break a deadlock.

The store retries every write itself now (``db.retry``, ``Database.write``); this module only
keeps the old name working until its callers use ``Database.write`` directly.
"""

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection

from db.database import Database
from db.retry import ATTEMPTS, RETRYABLE_SQLSTATES, is_retryable

T = TypeVar("T")

__all__ = ["ATTEMPTS", "RETRYABLE_SQLSTATES", "is_retryable", "write_retrying"]


async def write_retrying(database: Database, work: Callable[[Connection], T]) -> T:
    return await database.write(work)
