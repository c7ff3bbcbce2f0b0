"""Which failed writes run again, how often, and after how long.

PostgreSQL aborts a transaction to break a deadlock (two writers locking the same rows in a
different order: a membership change locks the group and then, through the foreign key, its
users, while deleting a user locks the user and then its groups) or when it cannot serialise
it. The transaction was rolled back whole, so running the unit of work again is safe and is
what the client would otherwise have to do. Other errors are the unit of work's own answer.
"""

import random

from sqlalchemy.exc import DBAPIError

#: serialization_failure, deadlock_detected
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})

#: Runs of one unit of work at most (the first included). A deadlock needs the other
#: transaction to finish, which it does once its rival is aborted, so a few runs are enough;
#: an unbounded loop would hide a unit of work that always deadlocks.
ATTEMPTS = 5

#: Runs of a unit of work whose write found its row changed since it read it (``Stale``):
#: each run reads the row again, so only a row that other writers change faster than one
#: can read and write it runs out of them.
STALE_ATTEMPTS = 10

#: The first wait before running again; each further wait doubles it, up to ``MAX_DELAY``.
BASE_DELAY = 0.005
MAX_DELAY = 0.1


def is_retryable(error: DBAPIError) -> bool:
    """Whether the driver reported a serialization failure or a deadlock (psycopg's
    ``sqlstate``; other drivers have none and are never retried)."""
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def backoff_seconds(attempt: int) -> float:
    """How long to wait after failed run ``attempt`` (1, 2, ...): jittered, so that the two
    sides of a deadlock do not collide again in step."""
    ceiling = min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not a secret)
