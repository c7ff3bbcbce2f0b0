"""The activity log's middleware on the SCIM app: refused writes, and numbering after writes.

Every POST, PUT, PATCH or DELETE on ``/Users`` or ``/Groups`` (``.search`` is a read) that is
answered with an error — any 4xx but 401, and any 5xx — records one ``FAILURE`` event once
the answer has gone out: the status, ``scimType`` and detail of the SCIM Error body, the method,
the route template, the resource id when the path names one, and the request's ids. The write
itself was rolled back by then, so the failure is stored in a transaction of its own, and a
failure to store it is logged, never answered: the client already has its answer.

Not recorded: 401 (no tenant can be trusted) and whatever is answered before the SCIM app —
the token check's 401/403 and the rate limiter's 429. A flood of refused requests must not
become a flood of inserts; those are counted in the metrics (``blink_rate_limited_requests_total``)
and the request log. Failed reads are not recorded either (a 404 on GET is ordinary Entra
traffic).

After a successful write (its events committed with it) and after a recorded failure, the
tenant's events are numbered by a pass of ``db.activity_sequencer``, off the request path (on
PostgreSQL; SQLite numbers them as it inserts them, and the sequencer only wakes the live
subscribers).
"""

import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

import orjson
from sqlalchemy import Connection
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.activity import Event, Operation, Origin, Outcome, ResourceType, record_events
from db.activity_sequencer import Sequencer
from db.database import Database
from db.org_changes import note_data_change
from db.tokens import TokenGrant
from scim.activity import origin_of

log = logging.getLogger(__name__)

_OPERATIONS = {
    "POST": Operation.CREATE,
    "PUT": Operation.REPLACE,
    "PATCH": Operation.UPDATE,
    "DELETE": Operation.DELETE,
}
_RESOURCE_TYPES = {"Users": ResourceType.USER, "Groups": ResourceType.GROUP}
#: How much of an error body is kept to read its scimType and detail.
_MAX_ERROR_BODY = 16 * 1024
MAX_DETAIL = 1000
_UNEXPECTED = orjson.dumps({"detail": "internal server error"})


def is_recorded_failure(status: int) -> bool:
    return status >= 400 and status != 401


class ActivityLog:
    """ASGI middleware around the SCIM app's routes (see the module docstring)."""

    def __init__(
        self, app: ASGIApp, *, database: Database, sequencer: Sequencer, routes: Sequence[BaseRoute]
    ) -> None:
        self.app = app
        self.database = database
        self.sequencer = sequencer
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = _OPERATIONS.get(scope["method"]) if scope["type"] == "http" else None
        if operation is None:
            await self.app(scope, receive, send)
            return
        status = 0
        body = bytearray()

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status >= 400:
                body.extend(message.get("body", b"")[: _MAX_ERROR_BODY - len(body)])
            await send(message)

        try:
            await self.app(scope, receive, observe)
        except Exception:  # answered 500 by the app's outermost error handler
            await self._after(scope, operation, status or 500, _UNEXPECTED)
            raise
        await self._after(scope, operation, status, bytes(body))

    async def _after(self, scope: Scope, operation: Operation, status: int, body: bytes) -> None:
        grant: TokenGrant | None = (scope.get("state") or {}).get("grant")
        if grant is None:
            return
        if status < 400:
            self.sequencer.schedule(grant.tenant_id)
            return
        if not is_recorded_failure(status):
            return
        event = self._failure(scope, operation, status, body)
        if event is None:
            return
        try:
            who = origin_of(scope)
            await self.database.write(partial(_record, grant.tenant_id, who, event))
        except Exception:  # the client has its answer; the log must not change it
            log.exception("recording a refused SCIM write in the activity log failed")
            return
        self.sequencer.schedule(grant.tenant_id)

    def _failure(
        self, scope: Scope, operation: Operation, status: int, body: bytes
    ) -> Event | None:
        template, parameters = self._route(scope)
        if template is None:
            return None
        parts = template.strip("/").split("/")
        resource_type = _RESOURCE_TYPES.get(parts[0])
        if resource_type is None or parts[-1] == ".search":
            return None  # not a write of a resource (a search is a read)
        named = str(next(iter(parameters.values()))) if parameters else None
        # An id of this service is a UUID: anything longer, or with a NUL (which PostgreSQL
        # cannot store), names no resource and is left out rather than failing the insert.
        resource_id = named if named and len(named) <= 36 and "\x00" not in named else None
        scim_type, detail = _error_fields(body)
        return Event(
            operation,
            resource_type,
            resource_id,
            outcome=Outcome.FAILURE,
            status=status,
            scim_type=scim_type,
            detail=detail,
            method=scope["method"],
            path=template,
        )

    def _route(self, scope: Scope) -> tuple[str | None, dict[str, Any]]:
        """The template of the route the request is for, and its path parameters."""
        partial_match: str | None = None
        parameters: dict[str, Any] = {}
        for route in self.routes:
            match, child = route.matches(scope)
            if match == Match.FULL and isinstance(route, Route):
                return route.path, dict(child.get("path_params", {}))
            if match == Match.PARTIAL and isinstance(route, Route) and partial_match is None:
                partial_match = route.path  # the path exists, the method does not (405)
                parameters = dict(child.get("path_params", {}))
        if partial_match is not None:
            return partial_match, parameters
        return None, {}


def _error_fields(body: bytes) -> tuple[str | None, str | None]:
    """scimType and detail of a SCIM Error body."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(document, dict):
        return None, None
    scim_type = document.get("scimType")
    detail = document.get("detail")
    return (
        scim_type if isinstance(scim_type, str) else None,
        detail.replace("\x00", "")[:MAX_DETAIL] if isinstance(detail, str) else None,
    )


def _record(tenant_id: int, who: Origin, event: Event, connection: Connection) -> None:
    record_events(connection, tenant_id, who, [event])
    # The log is read through GraphQL too: its answers' ETags must move with it.
    note_data_change(connection, tenant_id)
