"""``blink-directory activity``: a tenant's activity log on the command line.

The listing shows the newest ``--limit`` events matching the options, oldest at the top (as
``tail`` does), either as a table — time, operation, resource, outcome and what changed, in
short — or as JSON lines with every field. ``--follow`` then keeps printing new events as
they are numbered, polling by ``seq``: numbers are given in commit order and never reused, so
nothing is printed twice or skipped. Every read numbers the tenant's committed events first,
as every reader of the log does.
"""

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
from rich import box
from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection

from db.activity import Operation, Outcome, ResourceType, sequence_events
from db.activity_reads import (
    ActivityFilterSpec,
    EventRecord,
    activity_page,
    events_after,
    has_unnumbered,
    latest_resource_id,
    latest_seq,
)
from db.database import Database
from db.directory_reads import user_by_user_name, users_by_ids

#: Events read per poll while following; more are read at once without waiting.
FOLLOW_BATCH = 500
_DURATION = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: What the changes column shows of one value, and of the whole column.
_VALUE_WIDTH = 40
_CHANGES_WIDTH = 120


def parse_since(text: str, now: datetime) -> datetime:
    """``2h``, ``30m``, ``7d``, ... before ``now``, or an ISO-8601 time (UTC without an
    offset); ValueError names what is accepted."""
    relative = _DURATION.fullmatch(text.strip())
    if relative is not None:
        amount, unit = relative.groups()
        return now - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r}: give a duration such as 30m, 2h or 7d, or an ISO-8601 time"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def find_user_id(connection: Connection, tenant_id: int, user: str) -> str | None:
    """The id of the user given by id or userName (any case) — also of a deleted user, by the
    events recorded about it — or None when the tenant has no trace of one."""
    if users_by_ids(connection, tenant_id, [user]):
        return user
    record = user_by_user_name(connection, tenant_id, user)
    if record is not None:
        return record.id
    by_name = latest_resource_id(connection, tenant_id, ResourceType.USER.value, user)
    if by_name is not None:
        return by_name
    recorded = activity_page(
        connection,
        tenant_id,
        ActivityFilterSpec(resource_id=user, resource_type=ResourceType.USER.value),
        first=1,
        before=None,
    )
    return user if recorded.events else None


@dataclass(frozen=True, slots=True)
class ActivityLog:
    """One tenant's log as the command reads it: numbered first, then filtered."""

    database: Database
    tenant_id: int
    spec: ActivityFilterSpec

    def _numbered(self) -> None:
        if self.database.read_sync(partial(has_unnumbered, tenant_id=self.tenant_id)):
            self.database.write_sync(partial(sequence_events, tenant_id=self.tenant_id))

    def newest(self, limit: int) -> tuple[list[EventRecord], int]:
        """The newest ``limit`` matching events, oldest first, and the position they were
        read at: following from there prints every later event, and none of these again."""
        self._numbered()
        position = self.database.read_sync(partial(latest_seq, tenant_id=self.tenant_id))
        page = self.database.read_sync(
            partial(
                activity_page,
                tenant_id=self.tenant_id,
                spec=self.spec,
                first=limit,
                before=position + 1,
            )
        )
        return list(reversed(page.events)), position

    def after(self, seq: int) -> tuple[list[EventRecord], int]:
        """The matching events numbered after ``seq`` (at most ``FOLLOW_BATCH``, oldest
        first) and the position to ask from next: past the events that did not match too,
        so that a narrow filter on a busy log does not read them again on every poll."""
        self._numbered()
        top = self.database.read_sync(partial(latest_seq, tenant_id=self.tenant_id))
        events = self.database.read_sync(
            partial(
                events_after,
                tenant_id=self.tenant_id,
                spec=self.spec,
                after=seq,
                limit=FOLLOW_BATCH,
            )
        )
        if len(events) == FOLLOW_BATCH:
            return events, events[-1].seq  # more to read at once
        # Everything numbered up to ``top`` was numbered before the events were read.
        return events, max([top, seq, *(event.seq for event in events[-1:])])

    def follow(
        self,
        seq: int,
        emit: Callable[[list[EventRecord]], None],
        interval: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Emit every matching event numbered after ``seq``, in order, polling every
        ``interval`` seconds until interrupted (Ctrl-C raises KeyboardInterrupt)."""
        while True:
            events, seq = self.after(seq)
            if events:
                emit(events)
            if len(events) < FOLLOW_BATCH:
                sleep(interval)


# -- output ------------------------------------------------------------------------------------


def event_document(event: EventRecord) -> dict[str, Any]:
    """Every field of an event, named as in the GraphQL API (plus the refused request's
    method and path)."""
    return {
        "seq": event.seq,
        "occurredAt": event.occurred_at.isoformat(),
        "operation": event.operation,
        "outcome": event.outcome,
        "resourceType": event.resource_type,
        "resourceId": event.resource_id,
        "resourceName": event.resource_name,
        "actor": {"tokenId": event.actor_token_id, "name": event.actor_name},
        "requestId": event.request_id,
        "clientRequestId": event.client_request_id,
        "status": event.status,
        "scimType": event.scim_type,
        "detail": event.detail,
        "method": event.method,
        "path": event.path,
        "changes": event.changes or [],
        "membersAdded": event.members_added or [],
        "membersRemoved": event.members_removed or [],
        "memberChangeCount": event.member_change_count,
    }


def json_line(event: EventRecord) -> str:
    return orjson.dumps(event_document(event)).decode()


def _short_attribute(path: str) -> str:
    # Extension attributes by their own name: "…:enterprise:2.0:User:manager" → "manager".
    return path.rsplit(":", 1)[-1] if path.startswith("urn:") else path


def _short_value(value: object) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def what_changed(event: EventRecord) -> str:
    """The change in one line: the failure's reason, or each attribute's old → new value
    (a create or delete lists the attributes), and the member counts."""
    if event.outcome == Outcome.FAILURE.value:  # the status is in the outcome column
        reason = ": ".join(part for part in (event.scim_type, event.detail) if part)
        return reason or f"{event.method or ''} {event.path or ''}".strip()
    changes = event.changes or []
    parts: list[str] = []
    if event.operation in (Operation.CREATE, Operation.DELETE) and changes:
        names = ", ".join(_short_attribute(c["attribute"]) for c in changes)
        parts.append(f"{'set' if event.operation == Operation.CREATE else 'had'} {names}")
    else:
        parts.extend(
            f"{_short_attribute(c['attribute'])}: "
            f"{_short_value(c.get('oldValue'))} → {_short_value(c.get('newValue'))}"
            for c in changes
        )
    added, removed = len(event.members_added or ()), len(event.members_removed or ())
    if event.member_change_count or added or removed:
        members = f"members +{added} -{removed}"
        if event.member_change_count > added + removed:  # only the first ones are listed
            members += f" listed, {event.member_change_count} changed in all"
        parts.append(members)
    line = "; ".join(parts) or ("deleted" if event.operation == Operation.DELETE else "")
    return line if len(line) <= _CHANGES_WIDTH else line[: _CHANGES_WIDTH - 1] + "…"


def _resource(event: EventRecord) -> str:
    return f"{event.resource_type} {event.resource_name or event.resource_id or '-'}"


def _outcome(event: EventRecord) -> Text:
    if event.outcome == Outcome.FAILURE.value:
        return Text(f"FAILURE {event.status or ''}".strip(), style="bold red")
    return Text("SUCCESS", style="green")


def event_table(events: Iterable[EventRecord], *, header: bool = True) -> Table:
    """The events as rows; the same column widths with or without the header, so that rows
    printed later by ``--follow`` line up under the first table."""
    table = Table(box=box.SIMPLE_HEAD, show_header=header, show_edge=False, pad_edge=False)
    table.add_column("time (UTC)", width=19, no_wrap=True)
    table.add_column("operation", width=9, no_wrap=True)
    table.add_column("resource", min_width=20, ratio=1, overflow="fold")
    table.add_column("outcome", width=11, no_wrap=True)
    table.add_column("what changed", ratio=2, overflow="fold")
    for event in events:
        table.add_row(
            event.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            event.operation,
            _resource(event),
            _outcome(event),
            what_changed(event),
        )
    return table
