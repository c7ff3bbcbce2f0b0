"""Test helpers that put activity events straight into the store, already numbered.

Reader tests that need events the SCIM write paths do not produce on demand (many failures
with chosen details, events at chosen times, thousands of them) insert them here; the
integration tests record theirs through real SCIM writes.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select

from db.tables import activity_events
from db.types import utcnow


def event_row(tenant_id: int, seq: int | None, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "tenant_id": tenant_id,
        "seq": seq,
        "occurred_at": utcnow(),
        "actor_token_id": 1,
        "actor_name": "Entra provisioning",
        "request_id": uuid.uuid4().hex,
        "client_request_id": None,
        "operation": "UPDATE",
        "outcome": "SUCCESS",
        "resource_type": "User",
        "resource_id": str(uuid.uuid4()),
        "resource_name": "someone@example.com",
        "status": None,
        "scim_type": None,
        "detail": None,
        "method": None,
        "path": None,
        "changes": [{"attribute": "title", "oldValue": "A", "newValue": "B"}],
        "members_added": None,
        "members_removed": None,
        "member_change_count": 0,
    }
    row.update(values)
    return row


def insert_events(
    connection: Connection, tenant_id: int, events: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert ``events`` (column values over ``event_row``'s defaults) numbered after the
    tenant's highest seq, in order; returns their seqs."""
    top = connection.execute(
        select(func.coalesce(func.max(activity_events.c.seq), 0)).where(
            activity_events.c.tenant_id == tenant_id
        )
    ).scalar_one()
    rows = [event_row(tenant_id, top + n + 1, **values) for n, values in enumerate(events)]
    if rows:
        connection.execute(insert(activity_events), rows)
    return [row["seq"] for row in rows]


def timeline(start: datetime, count: int, step: timedelta = timedelta(minutes=1)) -> list[datetime]:
    return [start + step * n for n in range(count)]
