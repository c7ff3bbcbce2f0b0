"""Reading the activity log: pages of events newest first, one resource's history, the
events after a position (to follow the log) and the provisioning summary.

Readers only see events that have their position (``seq IS NOT NULL``): an event gets it once
its transaction has committed (``db.activity``), so a page by ``seq`` never shows an event
and later finds another one slipping in before it. Callers number the committed events first.
Every statement is scoped by tenant and walks one of the table's indexes (``has_unnumbered``:
``ix_activity_unsequenced``):
``ux_activity_tenant_seq`` for the log, ``ix_activity_tenant_resource`` for one resource,
``ix_activity_tenant_request`` for one request.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Connection,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)

from db.activity import Operation, Outcome, ResourceType
from db.org_changes import UNNUMBERED_EVENTS
from db.tables import activity_events

OPERATIONS = tuple(operation.value for operation in Operation)
OUTCOMES = tuple(outcome.value for outcome in Outcome)
#: How many failure reasons the provisioning summary names.
TOP_FAILURE_REASONS = 5


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as readers see it. Each field is named after its column of
    ``db.tables.activity_events`` (``EVENT_COLUMNS`` is derived from the fields)."""

    seq: int
    occurred_at: datetime
    actor_token_id: int | None
    actor_name: str
    request_id: str
    client_request_id: str | None
    operation: str
    outcome: str
    resource_type: str
    resource_id: str | None
    resource_name: str | None
    status: int | None
    scim_type: str | None
    detail: str | None
    method: str | None
    path: str | None
    changes: list[dict[str, Any]] | None
    members_added: list[str] | None
    members_removed: list[str] | None
    member_change_count: int


EVENT_COLUMNS = tuple(activity_events.c[f.name] for f in fields(EventRecord))
_EVENT_VALUES = itemgetter(*(column.name for column in EVENT_COLUMNS))


def event_record(row: Mapping[Any, Any]) -> EventRecord:
    return EventRecord(*_EVENT_VALUES(row))


@dataclass(frozen=True, slots=True)
class ActivityFilterSpec:
    """Conditions an event must all meet; None leaves a condition out. ``operations`` is a
    set of operations (an empty one matches nothing); ``since`` is inclusive, ``until``
    exclusive, both on ``occurred_at``."""

    resource_id: str | None = None
    resource_type: str | None = None
    operations: frozenset[str] | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    request_id: str | None = None

    def conditions(self, tenant_id: int) -> list[ColumnElement[bool]]:
        table = activity_events.c
        found: list[ColumnElement[bool]] = [table.tenant_id == tenant_id, table.seq.is_not(None)]
        if self.resource_id is not None:
            found.append(table.resource_id == self.resource_id)
        if self.resource_type is not None:
            found.append(table.resource_type == self.resource_type)
        if self.operations is not None:
            found.append(
                table.operation.in_(sorted(self.operations)) if self.operations else false()
            )
        if self.outcome is not None:
            found.append(table.outcome == self.outcome)
        if self.since is not None:
            found.append(table.occurred_at >= self.since)
        if self.until is not None:
            found.append(table.occurred_at < self.until)
        if self.request_id is not None:
            found.append(table.request_id == self.request_id)
        return found

    def shape(self) -> tuple[str, ...]:
        """The names of the conditions the spec holds, in ``_BOUND_CONDITIONS`` order (an
        empty set of operations is ``no_operations``): the statements of one shape differ
        only in their values, so each shape's statement is built once."""
        present: list[str] = []
        if self.resource_id is not None:
            present.append("resource_id")
        if self.resource_type is not None:
            present.append("resource_type")
        if self.operations is not None:
            present.append("operations" if self.operations else "no_operations")
        if self.outcome is not None:
            present.append("outcome")
        if self.since is not None:
            present.append("since")
        if self.until is not None:
            present.append("until")
        if self.request_id is not None:
            present.append("request_id")
        return tuple(present)

    def values(self, tenant_id: int) -> dict[str, Any]:
        """The value of each bound parameter of the spec's shape."""
        values: dict[str, Any] = {"tenant_id": tenant_id}
        if self.resource_id is not None:
            values["resource_id"] = self.resource_id
        if self.resource_type is not None:
            values["resource_type"] = self.resource_type
        if self.operations:
            values["operations"] = sorted(self.operations)
        if self.outcome is not None:
            values["outcome"] = self.outcome
        if self.since is not None:
            values["since"] = self.since
        if self.until is not None:
            values["until"] = self.until
        if self.request_id is not None:
            values["request_id"] = self.request_id
        return values


def _bound(column: ColumnElement[Any], name: str) -> BindParameter[Any]:
    return bindparam(name, type_=column.type)


_C = activity_events.c
#: Each condition a spec may hold, over a bound parameter of the same name (the operations
#: an expanding IN: one statement for any number of them, rendered as a literal IN would be).
_BOUND_CONDITIONS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "resource_id": lambda: _C.resource_id == _bound(_C.resource_id, "resource_id"),
    "resource_type": lambda: _C.resource_type == _bound(_C.resource_type, "resource_type"),
    "operations": lambda: _C.operation.in_(
        bindparam("operations", expanding=True, type_=_C.operation.type)
    ),
    "no_operations": false,
    "outcome": lambda: _C.outcome == _bound(_C.outcome, "outcome"),
    "since": lambda: _C.occurred_at >= _bound(_C.occurred_at, "since"),
    "until": lambda: _C.occurred_at < _bound(_C.occurred_at, "until"),
    "request_id": lambda: _C.request_id == _bound(_C.request_id, "request_id"),
}


def _bound_conditions(shape: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """What ``ActivityFilterSpec.conditions`` gives for a spec of this shape, each value a
    bound parameter (``tenant_id`` and those named in ``ActivityFilterSpec.values``)."""
    return [
        _C.tenant_id == _bound(_C.tenant_id, "tenant_id"),
        _C.seq.is_not(None),
        *(_BOUND_CONDITIONS[name]() for name in shape),
    ]


@cache
def _page_statement(shape: tuple[str, ...], before: bool) -> Select[Any]:
    """``activity_page``'s statement for a spec of this shape, built once: what
    ``keyset_page`` builds over ``_events`` for one key, seq, descending, with the position
    (``before``) and the LIMIT (``limit``, a page and one more row) bound too."""
    conditions = _bound_conditions(shape)
    if before:
        conditions.append(_C.seq < _bound(_C.seq, "before"))
    return (
        select(*EVENT_COLUMNS)
        .where(*conditions)
        .order_by(_C.seq.desc())
        .limit(bindparam("limit", type_=Integer))
    )


@cache
def _count_statement(shape: tuple[str, ...]) -> Select[Any]:
    return select(func.count()).select_from(activity_events).where(*_bound_conditions(shape))


@cache
def _after_statement(shape: tuple[str, ...]) -> Select[Any]:
    return (
        select(*EVENT_COLUMNS)
        .where(*_bound_conditions(shape), _C.seq > _bound(_C.seq, "after"))
        .order_by(_C.seq)
        .limit(bindparam("limit", type_=Integer))
    )


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[EventRecord]
    has_next: bool


def _events(tenant_id: int, spec: ActivityFilterSpec) -> Select[Any]:
    return select(*EVENT_COLUMNS).where(*spec.conditions(tenant_id))


def activity_page(
    connection: Connection,
    tenant_id: int,
    spec: ActivityFilterSpec,
    *,
    first: int,
    before: int | None,
) -> EventPage:
    """The ``first`` newest events matching ``spec`` whose seq is below ``before``."""
    values = spec.values(tenant_id)
    values["limit"] = first + 1
    if before is not None:
        values["before"] = before
    statement = _page_statement(spec.shape(), before is not None)
    found = connection.execute(statement, values).all()
    return EventPage([EventRecord(*row) for row in found[:first]], len(found) > first)


def count_activity(connection: Connection, tenant_id: int, spec: ActivityFilterSpec) -> int:
    statement = _count_statement(spec.shape())
    return int(connection.execute(statement, spec.values(tenant_id)).scalar_one())


def events_after(
    connection: Connection,
    tenant_id: int,
    spec: ActivityFilterSpec,
    *,
    after: int,
    limit: int,
) -> list[EventRecord]:
    """Up to ``limit`` events matching ``spec`` with seq above ``after``, oldest first: what a
    follower of the log has not seen yet."""
    values = spec.values(tenant_id)
    values["after"] = after
    values["limit"] = limit
    found = connection.execute(_after_statement(spec.shape()), values)
    return [EventRecord(*row) for row in found]


def user_changes_after(
    connection: Connection, tenant_id: int, after: int, attribute: str
) -> list[tuple[str, list[dict[str, Any]]]]:
    """(user id, changes) of every successful change to a user with seq above ``after`` that
    names ``attribute`` (an activity-log path), newest first: what undoing the log's changes
    of that attribute back to ``after`` needs.

    The changes are JSON, which the two databases query differently; their text is matched
    instead (JSON text on SQLite, JSONB's text on PostgreSQL), so the store leaves out every
    event that cannot name the attribute and only those that can are decoded here. The text
    may also hold the path as a value: such an event comes back too, and the caller still
    looks for the attribute among its changes."""
    pattern = "%" + _LIKE_SPECIAL.sub(r"/\g<0>", attribute) + "%"
    found = connection.execute(
        _USER_CHANGES_AFTER, {"tenant_id": tenant_id, "after": after, "pattern": pattern}
    )
    return [(user_id, changes) for user_id, changes in found if user_id and changes]


#: What LIKE reads as a wildcard, and the escape character itself.
_LIKE_SPECIAL = re.compile(r"[%_/]")

_USER_CHANGES_AFTER = (
    select(_C.resource_id, _C.changes)
    .where(
        _C.tenant_id == _bound(_C.tenant_id, "tenant_id"),
        _C.seq > _bound(_C.seq, "after"),
        _C.resource_type == ResourceType.USER.value,
        _C.outcome == Outcome.SUCCESS.value,
        cast(_C.changes, Text).like(bindparam("pattern", type_=Text), escape="/"),
    )
    .order_by(_C.seq.desc())
)


def has_unnumbered(connection: Connection, tenant_id: int) -> bool:
    """Whether some committed event of the tenant still waits for its number: readers number
    before reading only then, so that a read of a quiet log writes nothing (on PostgreSQL a
    numbering pass is a transaction with a lock: four round trips instead of this one). A
    GraphQL request knows it from its versions' statement (``tenant_versions``) instead."""
    return bool(connection.execute(_UNNUMBERED, {"tenant_id": tenant_id}).scalar_one())


_UNNUMBERED = select(UNNUMBERED_EVENTS)


def latest_seq(connection: Connection, tenant_id: int) -> int:
    """The tenant's highest position so far (0 before its first event)."""
    query = select(func.max(activity_events.c.seq)).where(activity_events.c.tenant_id == tenant_id)
    return int(connection.execute(query).scalar_one() or 0)


def events_by_seqs(
    connection: Connection, tenant_id: int, seqs: Collection[int]
) -> dict[int, EventRecord]:
    if not seqs:
        return {}
    rows = connection.execute(
        select(*EVENT_COLUMNS).where(
            activity_events.c.tenant_id == tenant_id, activity_events.c.seq.in_(set(seqs))
        )
    ).mappings()
    return {row["seq"]: event_record(row) for row in rows}


def resource_activity_pages(
    connection: Connection,
    tenant_id: int,
    resource_ids: Collection[str],
    *,
    resource_type: str,
    first: int,
    before: int | None,
) -> dict[str, EventPage]:
    """A page of each resource's history, newest first: one resource walks
    ``ix_activity_tenant_resource`` with a LIMIT, several are one statement (ROW_NUMBER per
    resource over the same index). The latter reads every event of those resources, which
    is few for a user (a create and its changes); a UNION ALL of one LIMITed walk per
    resource read fewer rows but cost PostgreSQL more to plan than it saved."""
    spec = ActivityFilterSpec(resource_type=resource_type)
    if len(resource_ids) == 1:
        # One resource's page (a profile's history): ``activity_page``'s statement for it.
        (resource_id,) = resource_ids
        values = {
            "tenant_id": tenant_id,
            "resource_id": resource_id,
            "resource_type": resource_type,
            "limit": first + 1,
        }
        if before is not None:
            values["before"] = before
        statement = _page_statement(_ONE_RESOURCE, before is not None)
        found = connection.execute(statement, values).all()
        events = [EventRecord(*row) for row in found[:first]]
        return {resource_id: EventPage(events, len(found) > first)}
    pages: dict[str, EventPage] = {
        resource_id: EventPage([], False) for resource_id in resource_ids
    }
    if not resource_ids:
        return pages
    table = activity_events.c
    position = func.row_number().over(partition_by=table.resource_id, order_by=table.seq.desc())
    inner = _events(tenant_id, spec).add_columns(position.label("position"))
    inner = inner.where(table.resource_id.in_(set(resource_ids)))
    if before is not None:
        inner = inner.where(table.seq < before)
    numbered = inner.subquery("numbered")
    rows = connection.execute(
        select(numbered)
        .where(numbered.c.position <= first + 1)
        .order_by(numbered.c.resource_id, numbered.c.position)
    ).mappings()
    listed: dict[str, list[EventRecord]] = defaultdict(list)
    more: set[str] = set()
    for row in rows:
        if row["position"] > first:
            more.add(row["resource_id"])
        else:
            listed[row["resource_id"]].append(event_record(row))
    for resource_id, events in listed.items():
        pages[resource_id] = EventPage(events, resource_id in more)
    return pages


#: The shape of one resource's history (``resource_activity_pages``' spec and its id).
_ONE_RESOURCE = ActivityFilterSpec(resource_id="", resource_type="").shape()


def count_resource_activity(
    connection: Connection, tenant_id: int, resource_type: str, resource_id: str
) -> int:
    spec = ActivityFilterSpec(resource_id=resource_id, resource_type=resource_type)
    return count_activity(connection, tenant_id, spec)


def latest_resource_id(
    connection: Connection, tenant_id: int, resource_type: str, resource_name: str
) -> str | None:
    """The id of the resource most recently recorded under ``resource_name`` (any case), also
    once deleted: how the command line finds a user by a userName no longer in the directory.
    No index serves it: it is a scan of the tenant's events, for an operator's question."""
    table = activity_events.c
    query = (
        select(table.resource_id)
        .where(
            table.tenant_id == tenant_id,
            table.seq.is_not(None),
            table.resource_type == resource_type,
            table.resource_id.is_not(None),
            func.lower(table.resource_name) == resource_name.lower(),
        )
        .order_by(table.seq.desc())
        .limit(1)
    )
    found = connection.execute(query).scalar_one_or_none()
    return None if found is None else str(found)


# -- the provisioning summary -----------------------------------------------------------------

#: What varies between failures of the same kind: quoted values, ids, addresses, numbers.
_VARIABLE = re.compile(
    r"'[^']*'"
    r'|"[^"]*"'
    r"|[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"
    r"|\S+@\S+"
    r"|\b\d+(?:\.\d+)?\b"
)
#: Stands for each blanked part of a detail.
BLANK = "…"


def detail_pattern(detail: str | None) -> str | None:
    """``detail`` with its variable parts blanked, so that "userName 'ada@…' already exists"
    and "userName 'alan@…' already exists" are one reason."""
    if detail is None:
        return None
    return _VARIABLE.sub(BLANK, detail)


@dataclass(frozen=True, slots=True)
class OperationCount:
    operation: str
    outcome: str
    count: int


@dataclass(slots=True)
class FailureReason:
    status: int | None
    scim_type: str | None
    detail_pattern: str | None
    count: int
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class ProvisioningSummary:
    since: datetime
    #: Every (operation, outcome) pair, zeros included, in OPERATIONS x OUTCOMES order.
    counts: list[OperationCount]
    failure_reasons: list[FailureReason] = field(default_factory=list)
    last_event_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(entry.count for entry in self.counts)

    @property
    def failures(self) -> int:
        return sum(entry.count for entry in self.counts if entry.outcome == Outcome.FAILURE.value)

    @property
    def failure_ratio(self) -> float:
        total = self.total
        return self.failures / total if total else 0.0


def provisioning_summary(
    connection: Connection, tenant_id: int, since: datetime
) -> ProvisioningSummary:
    """Counts by operation and outcome since ``since``, the most frequent failure reasons
    and the time of the tenant's latest event, in one statement of three parts: the window
    counted by operation and outcome (from ix_activity_tenant_occurred_at alone), the
    window's failures grouped by status, scimType and detail (only failures' rows are
    read), and one row holding the latest event's time (``ux_activity_tenant_seq``, one
    index step)."""
    counted: dict[tuple[str, str], int] = {}
    # Grouped by the exact detail in SQL (neither database can blank a pattern portably),
    # then by pattern here: a window holds few distinct details, not one row per failure.
    reasons: dict[tuple[int | None, str | None, str | None], FailureReason] = {}
    last_event_at: datetime | None = None
    values = {"tenant_id": tenant_id, "since": since}
    for row in connection.execute(_summary_statement(), values):
        part, operation, outcome, status, scim_type, detail, count, last_seen = row
        if part == _COUNTS:
            counted[(str(operation), str(outcome))] = int(count)
        elif part == _REASONS:
            key = (status, scim_type, detail_pattern(detail))
            reason = reasons.get(key)
            if reason is None:
                reasons[key] = FailureReason(*key, count=int(count), last_seen=last_seen)
            else:
                reason.count += int(count)
                reason.last_seen = max(reason.last_seen, last_seen)
        else:
            last_event_at = last_seen
    counts = [
        OperationCount(operation, outcome, counted.get((operation, outcome), 0))
        for operation in OPERATIONS
        for outcome in OUTCOMES
    ]
    top = sorted(
        reasons.values(),
        key=lambda r: (-r.count, -r.last_seen.timestamp(), r.detail_pattern or ""),
    )
    return ProvisioningSummary(since, counts, top[:TOP_FAILURE_REASONS], last_event_at)


#: The parts of ``_summary_statement``'s rows.
_COUNTS, _REASONS, _LATEST = 0, 1, 2


@cache
def _summary_statement() -> CompoundSelect[Any]:
    """``provisioning_summary``'s statement, built once (``tenant_id`` and ``since`` bound)."""
    table = activity_events.c
    window = _bound_conditions(("since",))
    counts = (
        select(
            literal_column(str(_COUNTS)).label("part"),
            table.operation,
            table.outcome,
            null(),
            null(),
            null(),
            func.count().label("events"),
            # Typed: the union's column takes its type, and so its result processing, from
            # this first part.
            type_coerce(null(), table.occurred_at.type).label("last_seen"),
        )
        .where(*window)
        .group_by(table.operation, table.outcome)
    )
    reasons = (
        select(
            literal_column(str(_REASONS)),
            null(),
            null(),
            table.status,
            table.scim_type,
            table.detail,
            func.count(),
            func.max(table.occurred_at),
        )
        .where(*window, table.outcome == Outcome.FAILURE.value)
        .group_by(table.status, table.scim_type, table.detail)
    )
    latest = (
        select(table.occurred_at)
        .where(
            and_(table.tenant_id == _bound(table.tenant_id, "tenant_id"), table.seq.is_not(None))
        )
        .order_by(table.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    latest_row = select(
        literal_column(str(_LATEST)), null(), null(), null(), null(), null(), null(), latest
    )
    return union_all(counts, reasons, latest_row)
