"""The events a SCIM write records in the activity log (``db.activity``), and who asked.

A handler takes the request's ``origin`` before its unit of work (None when the log is off)
and, inside it, records the events of what it changed with ``record`` — in the write's own
transaction, so a rolled-back write leaves no event and a committed one always has its
events. The events are built from what the write already has in hand: the row it locked and
the row it wrote (``scim.user_changes``), the member ids the store reports added or removed.
A write that changes nothing stored records nothing (Entra re-sends unchanged PATCHes every
cycle). Refused writes are recorded by ``scim.activity_log``.
"""

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.types import Scope

from db.activity import (
    Event,
    Operation,
    Origin,
    ResourceType,
    attribute_change,
    record_events,
    with_members,
)
from db.group_members import MemberDelta
from db.tokens import TokenGrant
from db.users import DeletedUser
from scim.context import REQUEST_ID_STATE, config
from scim.user_changes import MANAGER_PATH, user_changes

CLIENT_REQUEST_ID_HEADER = b"client-request-id"
#: A client's request id is kept when it is printable ASCII without spaces, as Entra's GUIDs.
_ACCEPTED_CLIENT_REQUEST_ID = re.compile(rb"[\x21-\x7e]{1,128}")


def origin(request: Request) -> Origin | None:
    """Who made this request and its ids; None when the activity log is off."""
    if not config(request).activity_log:
        return None
    return origin_of(request.scope)


def origin_of(scope: Scope) -> Origin:
    state: Mapping[str, Any] = scope.get("state") or {}
    grant: TokenGrant | None = state.get("grant")
    request_id = state.get(REQUEST_ID_STATE) or os.urandom(16).hex()
    client_request_id = None
    for name, value in scope["headers"]:
        if name == CLIENT_REQUEST_ID_HEADER:
            if _ACCEPTED_CLIENT_REQUEST_ID.fullmatch(value):
                client_request_id = value.decode("ascii")
            break
    if grant is None:  # pragma: no cover - RequireToken lets no request through without one
        return Origin(request_id, "anonymous", None, client_request_id)
    name = grant.token_name or f"token {grant.token_id}"
    # An OAuth access token is one of many of its client: the name (which names the client)
    # identifies the actor, and no Secret Token id is recorded.
    token_id = grant.token_id if grant.client_id is None else None
    return Origin(request_id, name, token_id, client_request_id)


def record_activity(
    connection: Connection, tenant_id: int, who: Origin | None, events: Sequence[Event | None]
) -> None:
    """Record the events that are not None, in the caller's transaction (nothing if the log
    is off)."""
    kept = [event for event in events if event is not None]
    if who is not None and kept:
        record_events(connection, tenant_id, who, kept)


def user_event(
    operation: Operation, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> Event | None:
    """The event of a user write from its row before and after (None: did not / no longer
    exists); None when nothing stored changed."""
    changes = user_changes(before, after)
    row = after if after is not None else before
    if not changes or row is None:
        return None
    return Event(operation, ResourceType.USER, str(row["id"]), row["user_name"], changes=changes)


def user_deleted_events(row: Mapping[str, Any], deleted: DeletedUser) -> list[Event | None]:
    """The user's DELETE event and its side effects, each an event of its own: the manager
    cleared on each report, the membership removed from each group."""
    user_id = str(row["id"])
    events: list[Event | None] = [user_event(Operation.DELETE, row, None)]
    events += [
        Event(
            Operation.UPDATE,
            ResourceType.USER,
            report_id,
            user_name,
            changes=[attribute_change(MANAGER_PATH, user_id, None)],
        )
        for report_id, user_name in deleted.reports
    ]
    events += [
        with_members(Event(Operation.UPDATE, ResourceType.GROUP, group_id, name), [], [user_id])
        for group_id, name in deleted.groups
    ]
    return events


def group_event(
    operation: Operation,
    group_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    members: MemberDelta | None = None,
) -> Event | None:
    """The event of a group write from its fields (``displayName``, ``externalId``) before and
    after and the members it added and removed; None when nothing changed."""
    old = before or {}
    new = after or {}
    changes = [
        attribute_change(name, old.get(name), new.get(name))
        for name in dict.fromkeys((*new, *old))
        if old.get(name) != new.get(name)
    ]
    if not changes and not members:
        return None
    name = new.get("displayName", old.get("displayName"))
    event = Event(operation, ResourceType.GROUP, group_id, name, changes=changes or None)
    if members:
        with_members(event, list(members.added), list(members.removed))
    return event
