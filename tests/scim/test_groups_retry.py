"""Group writes that PostgreSQL aborts to break a deadlock are run again, others are not."""

import anyio
import psycopg.errors
import pytest
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from db.database import Database
from scim.groups_retry import ATTEMPTS, write_retrying


def _failing(times: int, orig: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    def work(connection: Connection) -> str:
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError("UPDATE ...", {}, orig)
        return "done"

    return calls, work


def test_deadlock_victim_is_retried(database: Database) -> None:
    calls, work = _failing(ATTEMPTS - 1, psycopg.errors.DeadlockDetected("deadlock detected"))
    assert anyio.run(write_retrying, database, work) == "done"
    assert len(calls) == ATTEMPTS


def test_retries_stop_after_the_last_attempt(database: Database) -> None:
    calls, work = _failing(ATTEMPTS, psycopg.errors.SerializationFailure("could not serialize"))
    with pytest.raises(OperationalError):
        anyio.run(write_retrying, database, work)
    assert len(calls) == ATTEMPTS


def test_other_database_errors_are_not_retried(database: Database) -> None:
    calls, work = _failing(1, psycopg.errors.DiskFull("disk full"))
    with pytest.raises(OperationalError):
        anyio.run(write_retrying, database, work)
    assert len(calls) == 1
