"""The activity log: recording events with the change they describe, and numbering them.

A writer inserts its events in the transaction of the change (``record_events``: one INSERT
per write, no read of its own). Each event's ``seq`` must increase in commit order, so that a
reader paging "seq > N" never steps over a number that commits later. How depends on the
database:

* SQLite admits one writer at a time, from its ``BEGIN IMMEDIATE`` (or its first write) to its
  commit: writers are already serialised, in commit order. An event is numbered as it is
  inserted, ``max(seq) + 1`` of its tenant read by the INSERT itself (the top of
  ``ux_activity_tenant_seq``) under that lock, so it commits numbered: no pass afterwards, no
  second write of the row (``numbers_at_insert``).
* PostgreSQL runs writers side by side. Numbering inside the write transaction would need a
  per-tenant counter row that every writer of the tenant locks until it commits, and a
  sequence hands out numbers in start order, not commit order. So events are inserted with
  ``seq`` NULL, and ``sequence_events`` numbers a tenant's committed, unnumbered events after
  the fact, in one pass under a per-tenant lock (a transaction-scoped advisory lock): each
  gets ``max(seq) + its rank by id``. Passes are serialised, each sees every event committed
  before it started and commits before the next one starts, so every number given is above
  every number any reader has seen: paging by ``seq`` never misses or repeats an event.
  Writers never wait on each other or on a pass. The app runs a pass after each successful
  write (``db.activity_sequencer``), and readers run one before they read.

A pass works on SQLite too (events a version before this one left unnumbered): it numbers
them above every number given so far, as it does on PostgreSQL.

Retention (``prune_events``) never deletes a tenant's newest numbered event: the next number
is derived from it, and numbering must never start again below a reader's position.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    FromClause,
    Insert,
    Integer,
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from db.org_changes import note_data_change
from db.prepared import PreparedWrite
from db.tables import activity_events
from db.types import utcnow

#: Member ids an event lists of each kind (added, removed); ``member_change_count`` counts
#: them all, so a 100,000-member replace stays one small row.
MAX_LISTED_MEMBERS = 1000
#: The first key of the two-int advisory lock (the tenant id is the second): "BLNK".
SEQUENCE_LOCK_KEY = 0x424C4E4B
#: The PostgreSQL channel a numbering pass notifies, with the payload ``<tenant id>:<seq>`` (the
#: tenant's highest number after the pass): listeners read the events from the log, since a
#: payload is limited to 8,000 bytes.
NOTIFY_CHANNEL = "blink_activity"
#: The actor of changes made from the command line (no token).
CLI_ACTOR = "cli"


class Operation(StrEnum):
    CREATE = "CREATE"
    REPLACE = "REPLACE"  # PUT
    UPDATE = "UPDATE"  # PATCH, and the side effects of a delete
    DELETE = "DELETE"


class Outcome(StrEnum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


class ResourceType(StrEnum):
    USER = "User"
    GROUP = "Group"


@dataclass(frozen=True, slots=True)
class Origin:
    """Who asked, and in which request: shared by every event a request records."""

    request_id: str
    actor_name: str
    actor_token_id: int | None = None
    client_request_id: str | None = None


@dataclass(slots=True)
class Event:
    """One event before it is stored (see ``db.tables.ActivityEvent`` for the fields)."""

    operation: Operation
    resource_type: ResourceType
    resource_id: str | None
    resource_name: str | None = None
    outcome: Outcome = Outcome.SUCCESS
    changes: list[dict[str, Any]] | None = None
    members_added: list[str] | None = None
    members_removed: list[str] | None = None
    member_change_count: int = 0
    status: int | None = None
    scim_type: str | None = None
    detail: str | None = None
    method: str | None = None
    path: str | None = None
    occurred_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class Recording:
    """How a write of one resource records its event in the same transaction: who asked, and
    the event of the row it writes, from that row (None: nothing to record). The write
    builds it (``db.users``), so that on PostgreSQL it can insert it with the change."""

    origin: Origin
    event_of: Callable[[Mapping[str, Any]], Event | None]


def attribute_change(attribute: str, old: Any, new: Any) -> dict[str, Any]:
    """One entry of ``changes``."""
    return {"attribute": attribute, "oldValue": old, "newValue": new}


def with_members(event: Event, added: Sequence[str], removed: Sequence[str]) -> Event:
    """``event`` listing the first ``MAX_LISTED_MEMBERS`` of each and counting them all."""
    event.members_added = list(added[:MAX_LISTED_MEMBERS]) if added else None
    event.members_removed = list(removed[:MAX_LISTED_MEMBERS]) if removed else None
    event.member_change_count = len(added) + len(removed)
    return event


_COLUMNS = tuple(column.key for column in activity_events.c if column.key not in ("id", "seq"))
#: The prefix of the parameter names of ``event_insert``.
EVENT_PARAMETER = "event_"


def event_insert() -> Insert:
    """The INSERT of one event, its values from ``event_values``: a statement of its own
    (``record_events``), or the main statement of a write that has its change run as a
    data-modifying CTE of it (PostgreSQL, ``db.users``: one round trip for both)."""
    return insert(activity_events).values(
        {
            name: bindparam(EVENT_PARAMETER + name, type_=activity_events.c[name].type)
            for name in _COLUMNS
        }
    )


def event_insert_from(select_from: FromClause) -> Insert:
    """``event_insert`` as an INSERT ... SELECT from ``select_from``: one event per row of
    it, none when it has none (PostgreSQL, ``db.users``: the event of an UPDATE that may
    match no row)."""
    values = [
        bindparam(EVENT_PARAMETER + name, type_=activity_events.c[name].type) for name in _COLUMNS
    ]
    return insert(activity_events).from_select(_COLUMNS, select(*values).select_from(select_from))


_TENANT = bindparam("of_tenant", type_=Integer)
#: A tenant's highest number so far (the top of ux_activity_tenant_seq), 0 before its first.
_TOP = select(func.coalesce(func.max(activity_events.c.seq), 0)).where(
    activity_events.c.tenant_id == _TENANT
)
_top = _TOP.scalar_subquery()
_INSERT_ONE = PreparedWrite(event_insert())
# SQLite: the event numbered as it is inserted, after its tenant's highest number (the INSERT
# reads it under the writer lock it holds until its transaction commits).
_INSERT_ONE_NUMBERED = PreparedWrite(
    event_insert().values(
        seq=select(func.coalesce(func.max(activity_events.c.seq), 0) + 1)
        .where(activity_events.c.tenant_id == bindparam(EVENT_PARAMETER + "tenant_id"))
        .scalar_subquery()
    )
)


def event_values(tenant_id: int, origin: Origin, event: Event) -> dict[str, Any]:
    """The parameters of ``event_insert`` for ``event``."""
    return {EVENT_PARAMETER + name: value for name, value in _row(tenant_id, origin, event).items()}


def _row(tenant_id: int, origin: Origin, event: Event) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "occurred_at": event.occurred_at,
        "actor_token_id": origin.actor_token_id,
        "actor_name": origin.actor_name,
        "request_id": origin.request_id,
        "client_request_id": origin.client_request_id,
        "operation": event.operation.value,
        "outcome": event.outcome.value,
        "resource_type": event.resource_type.value,
        "resource_id": event.resource_id,
        "resource_name": event.resource_name,
        "status": event.status,
        "scim_type": event.scim_type,
        "detail": event.detail,
        "method": event.method,
        "path": event.path,
        "changes": event.changes,
        "members_added": event.members_added,
        "members_removed": event.members_removed,
        "member_change_count": event.member_change_count,
    }


def numbers_at_insert(connection: Connection) -> bool:
    """Whether events are numbered as they are inserted on ``connection``'s database (SQLite:
    one writer at a time) rather than by a pass after their commit (PostgreSQL)."""
    return connection.dialect.name == "sqlite"


def record_events(
    connection: Connection, tenant_id: int, origin: Origin, events: Sequence[Event]
) -> None:
    """Insert ``events`` in the caller's transaction, in order, numbered as they are inserted
    where the database serialises its writers (``numbers_at_insert``), else unnumbered.

    Many events go as one executemany, which SQLAlchemy sends as multi-row INSERTs of a
    statement it compiled once; a multi-row ``values()`` would be compiled anew for every
    list (a user's delete clears the manager of each of their reports: an event each)."""
    if not events:
        return
    numbered = numbers_at_insert(connection)
    if len(events) == 1:
        insert_one = _INSERT_ONE_NUMBERED if numbered else _INSERT_ONE
        insert_one.execute(connection, event_values(tenant_id, origin, events[0]))
        return
    rows = [_row(tenant_id, origin, event) for event in events]
    if numbered:
        top = connection.execute(_TOP, {"of_tenant": tenant_id}).scalar_one()
        for rank, row in enumerate(rows, 1):
            row["seq"] = top + rank
    connection.execute(insert(activity_events), rows)


# The tenant's unnumbered events (the partial index ix_activity_unsequenced) and the highest
# number so far (the top of ux_activity_tenant_seq), in one read.
_UNNUMBERED = (
    select(activity_events.c.id, _top.label("numbered_up_to"))
    .where(activity_events.c.tenant_id == _TENANT, activity_events.c.seq.is_(None))
    .order_by(activity_events.c.id)
)
# Each event numbered by its primary key. One UPDATE joined to the unnumbered events would
# save a round trip, but its plan rests on the statistics of ``seq IS NULL``: stale ones
# (gathered while most events still waited for a number) made PostgreSQL scan the whole
# log on every pass.
_NUMBER = (
    update(activity_events)
    .where(activity_events.c.id == bindparam("event_id"))
    .values(seq=bindparam("position"))
)
_LOCK = select(func.pg_advisory_xact_lock(cast(SEQUENCE_LOCK_KEY, Integer), _TENANT))
# Sent when the pass's transaction commits, never for a pass that rolls back.
_NOTIFY = select(func.pg_notify(NOTIFY_CHANNEL, bindparam("payload", type_=String)))
# PostgreSQL: the same UPDATE by primary key for every event of the pass at once, its ids and
# numbers as two arrays (a join to them by primary key, whatever the statistics of ``seq``),
# and the NOTIFY with it: one statement where there were one per event and one more.
_numbers = (
    func.unnest(
        bindparam("event_ids", type_=ARRAY(BigInteger)),
        bindparam("positions", type_=ARRAY(BigInteger)),
    )
    .table_valued("event_id", "position")
    .render_derived(name="numbers")
)
_NUMBER_ALL_AND_NOTIFY = _NOTIFY.add_cte(
    update(activity_events)
    .where(activity_events.c.id == _numbers.c.event_id)
    .values(seq=_numbers.c.position)
    .cte("numbered")
)


def sequence_events(connection: Connection, tenant_id: int) -> int:
    """Number the tenant's committed unnumbered events, in id order, after its highest
    number; the number of events numbered. Run it in a transaction of its own: the lock is
    held until that transaction ends. On PostgreSQL a pass that numbered events notifies
    ``NOTIFY_CHANNEL`` (delivered at commit), so that every process's live subscribers wake."""
    parameters: Mapping[str, Any] = {"of_tenant": tenant_id}
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        connection.execute(_LOCK, parameters)
    waiting = connection.execute(_UNNUMBERED, parameters).all()
    if not waiting:
        return 0
    top = int(waiting[0].numbered_up_to)
    if postgresql:
        numbers = {
            "event_ids": [row.id for row in waiting],
            "positions": list(range(top + 1, top + len(waiting) + 1)),
            "payload": f"{tenant_id}:{top + len(waiting)}",
        }
        connection.execute(_NUMBER_ALL_AND_NOTIFY, numbers)
        return len(waiting)
    connection.execute(
        _NUMBER,
        [{"event_id": row.id, "position": top + rank} for rank, row in enumerate(waiting, 1)],
    )
    return len(waiting)


def prune_events(connection: Connection, before: datetime, limit: int) -> int:
    """Delete at most ``limit`` numbered events that occurred before ``before``, oldest
    first, keeping each tenant's newest one; the number deleted. Each tenant that lost
    events has its data version moved (``db.org_changes``): a GraphQL answer that listed
    them must not be confirmed by its old ETag."""
    old = activity_events.alias("old")
    newest = (
        select(func.max(activity_events.c.seq))
        .where(activity_events.c.tenant_id == old.c.tenant_id)
        .scalar_subquery()
    )
    batch = (
        select(old.c.id)
        .where(old.c.occurred_at < before, old.c.seq.is_not(None), old.c.seq < newest)
        .order_by(old.c.occurred_at)
        .limit(limit)
    )
    deleted = connection.execute(
        delete(activity_events)
        .where(activity_events.c.id.in_(batch.scalar_subquery()))
        .returning(activity_events.c.tenant_id)
    ).all()
    for tenant_id in sorted({row.tenant_id for row in deleted}):
        note_data_change(connection, tenant_id)
    return len(deleted)
