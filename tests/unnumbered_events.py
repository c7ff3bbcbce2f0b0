"""Events left unnumbered, on either database, for tests of the numbering pass and of readers.

PostgreSQL's writers insert their events unnumbered and a pass numbers them after the commit;
SQLite's number them as they insert them (``db.activity.numbers_at_insert``), so there an
unnumbered event is one an earlier version left behind. Either way a pass and the readers
must handle them: this records events as PostgreSQL's writers do, on both databases.
"""

from collections.abc import Sequence

from sqlalchemy import Connection, func, select, update

from db.activity import Event, Origin, record_events
from db.tables import activity_events


def record_unnumbered(
    connection: Connection, tenant_id: int, origin: Origin, events: Sequence[Event]
) -> None:
    """``record_events``, with the new events' ``seq`` left NULL on every database."""
    table = activity_events
    top = select(func.coalesce(func.max(table.c.seq), 0)).where(table.c.tenant_id == tenant_id)
    before = connection.execute(top).scalar_one()
    record_events(connection, tenant_id, origin, events)
    connection.execute(
        update(table).where(table.c.tenant_id == tenant_id, table.c.seq > before).values(seq=None)
    )
