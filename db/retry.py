"""Which failed writes run again, how often, and after how long.

PostgreSQL aborts a transaction to break a deadlock (two writers locking the same rows in a
different order: a membership change locks the group and then, through the foreign key, its
users, while deleting a user locks the user and then its groups) or when it cannot serialise
it. The transaction was rolled back whole, so running the unit of work again is safe and is
what the client would otherwise have to do. A write that found its row changed since it read
it (``Stale``) wrote nothing, and runs again to read it anew. Other errors are the unit of
work's own answer.

``delay_before_rerun`` is the one decision every write loop of ``db.database`` asks; each
loop keeps only its own way of waiting and of running the unit of work.
"""

import random

from sqlalchemy.exc import DBAPIError

from db.errors import Stale, Unavailable

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

#: The ``Unavailable`` of a write that ran out of ``STALE_ATTEMPTS``: nothing was written, so
#: the client may send it again.
KEPT_CHANGING = "the resource kept changing while it was written; try again"

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


def delay_before_rerun(error: Exception, attempt: int) -> float | None:
    """How long to wait before running a unit of work again after its run ``attempt``
    (1, 2, ...) failed with ``error``; None when it does not run again and the caller raises
    ``error`` its own way (as is, or as the store's error for it).

    A run that lost the race (``Stale``) runs again up to ``STALE_ATTEMPTS`` runs in all, then
    raises ``Unavailable`` here: every loop answers it alike. A deadlock or a serialization
    failure runs again up to ``ATTEMPTS`` runs; any other error never does. Both kinds count
    the same runs: a write that was stale and then a deadlock victim has used runs of both."""
    if isinstance(error, Stale):
        if attempt >= STALE_ATTEMPTS:
            raise Unavailable(KEPT_CHANGING) from error
        return backoff_seconds(attempt)
    if isinstance(error, DBAPIError) and attempt < ATTEMPTS and is_retryable(error):
        return backoff_seconds(attempt)
    return None
