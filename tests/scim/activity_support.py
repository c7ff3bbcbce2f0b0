"""Reading the activity log in SCIM tests: number the tenant's events, then read them all."""

from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette

from db.activity import sequence_events
from db.database import Database
from db.tables import activity_events
from tests.scim.groups_support import tenant_id_of

CORE_VOLATILE = ("id", "tenant_id", "seq", "occurred_at")


def events(app: Starlette, slug: str = "acme", **where: Any) -> list[dict[str, Any]]:
    """The tenant's events in seq order (numbered first, as a reader does)."""
    database: Database = app.state.database
    tenant = tenant_id_of(database, slug)
    database.write_sync(lambda connection: sequence_events(connection, tenant))
    statement = (
        select(activity_events)
        .where(activity_events.c.tenant_id == tenant)
        .order_by(activity_events.c.seq)
    )
    for name, value in where.items():
        statement = statement.where(activity_events.c[name] == value)
    rows = database.read_sync(
        lambda connection: [dict(row) for row in connection.execute(statement).mappings()]
    )
    assert all(row["seq"] is not None for row in rows)
    return rows


def changes(event: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """An event's changes as {attribute: (old, new)}."""
    return {c["attribute"]: (c["oldValue"], c["newValue"]) for c in event["changes"] or []}
