"""Test helpers that put rows straight into the store: many users or groups fast, statement
counting.

Users are inserted with Core, bypassing the SCIM layer, so that a 100,000-member group can be
built in seconds; the group under test is still changed through the code being tested.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, event, insert

from db.tables import groups, users
from db.types import utcnow


def insert_users(
    connection: Connection,
    tenant_id: int,
    count: int,
    prefix: str = "user",
    *,
    display_names: bool = False,
) -> list[str]:
    """Insert ``count`` users named ``<prefix>N@example.com``; returns their ids in order.

    With ``display_names`` each gets the displayName ``<prefix> N``.
    """
    now = utcnow()
    rows = [
        user_row(
            tenant_id,
            str(uuid.uuid4()),
            f"{prefix}{number}@example.com",
            display_name=f"{prefix} {number}" if display_names else None,
            now=now,
        )
        for number in range(count)
    ]
    for start in range(0, count, 5000):
        connection.execute(insert(users), rows[start : start + 5000])
    return [str(row["id"]) for row in rows]


def insert_groups(
    connection: Connection, tenant_id: int, count: int, prefix: str = "Group"
) -> list[str]:
    """Insert ``count`` groups without members named ``<prefix> 0000`` on, in one INSERT;
    returns their ids in order."""
    now = utcnow()
    rows = [
        {
            "id": str(uuid.uuid4()),
            "tenant_id": tenant_id,
            "display_name": f"{prefix} {number:04d}",
            "external_id": None,
            "created": now,
            "last_modified": now,
            "version": 1,
        }
        for number in range(count)
    ]
    connection.execute(insert(groups), rows)
    return [str(row["id"]) for row in rows]


def user_row(
    tenant_id: int,
    user_id: str,
    user_name: str,
    *,
    display_name: str | None = None,
    manager_id: str | None = None,
    active: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One ``user`` row as a bulk insert takes it, the columns a test does not care about
    set as the SCIM layer would leave them."""
    stamp = now or utcnow()
    return {
        "id": user_id,
        "tenant_id": tenant_id,
        "user_name": user_name,
        "display_name": display_name,
        "manager_id": manager_id,
        "active": active,
        "attributes": {},
        "created": stamp,
        "last_modified": stamp,
        "version": 1,
    }


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


def is_activity_numbering(statement: str) -> bool:
    """A statement of the activity log's numbering pass (lock, the unnumbered events, their
    numbers, live wake-up): it runs on its own shortly after any write, so it may fall in
    any request's window."""
    return (
        "pg_advisory_xact_lock" in statement
        or "pg_notify" in statement
        or statement.startswith("UPDATE activity_event SET seq")
        or "numbered_up_to" in statement
    )


def is_background(statement: str) -> bool:
    """A statement of a pass the server runs on its own, which may fall in any request's
    window: the activity log's numbering (``is_activity_numbering``) or the look at the
    planner statistics and its ANALYZE (``app.statistics``, PostgreSQL)."""
    return (
        is_activity_numbering(statement)
        or "pg_stat_user_tables" in statement
        or statement.startswith("ANALYZE")
        or "pg_try_advisory_xact_lock" in statement
    )


@contextmanager
def count_statements(*engines: Engine) -> Iterator[StatementLog]:
    """Record every SQL statement the engines send to the database while the block runs."""
    log = StatementLog()

    def record(*args: Any) -> None:
        log.statements.append(str(args[2]))

    unique = list({id(engine): engine for engine in engines}.values())
    for engine in unique:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        for engine in unique:
            event.remove(engine, "before_cursor_execute", record)
