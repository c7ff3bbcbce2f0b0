"""Group writes retried when PostgreSQL aborts them to break a deadlock.

A membership change locks the group row and then (through the foreign key) the user rows it
references; deleting a user locks the user row and then the groups it belonged to. Several such
transactions at once can wait on each other in a cycle; PostgreSQL then aborts one of them.
Its transaction was rolled back whole, so running it again is safe.
"""

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from db.database import Database

T = TypeVar("T")

RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
ATTEMPTS = 3


def is_retryable(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


async def write_retrying(database: Database, work: Callable[[Connection], T]) -> T:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await database.write(work)
        except DBAPIError as error:
            if attempt == ATTEMPTS or not is_retryable(error):
                raise
    raise AssertionError("unreachable")  # pragma: no cover
