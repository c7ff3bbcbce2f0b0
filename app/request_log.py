"""The request log: one structured line per HTTP request, and the request's metrics.

Wraps the whole app. Each request gets an id — the client's ``X-Request-ID`` when it is a
plain token of at most 128 characters, otherwise a new random one — echoed on the response and
written on every log line of the request. The line names the route *template*, never the path
or query string (a SCIM filter carries a person's email), and no header or body; for a failure
it adds the SCIM ``scimType`` and detail (quoted values and addresses blanked out) or the
GraphQL error codes. Client errors are one line at ``warning``; an exception that escapes the
app is one line at ``error`` with its traceback, unless a traceback was already logged for
this request (the SCIM app logs its own).
"""

import os
import re
from time import perf_counter
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import Metrics
from app.request_context import RequestFacts, end_request, start_request
from app.request_lines import RequestLines
from app.route_templates import RouteTemplates
from db.tokens import TokenGrant
from scim.context import REQUEST_ID_STATE

REQUEST_ID_HEADER = b"x-request-id"
_ACCEPTED_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
#: How much of a failed response's body is kept to read its error details.
MAX_FAILURE_BODY = 16 * 1024
MAX_DETAIL = 300
_PERSONAL = re.compile(r"'[^']*'|\"[^\"]*\"|\S+@\S+")
_INTERNAL_ERROR = (
    b'{"detail":"internal server error"}',
    [(b"content-type", b"application/json"), (b"content-length", b"34")],
)


def new_request_id() -> str:
    return os.urandom(16).hex()


def request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            if _ACCEPTED_REQUEST_ID.fullmatch(value):
                return str(value.decode("ascii"))
            break
    return new_request_id()


def redact(detail: str) -> str:
    """A detail without the values it quotes: they may be a person's name or address."""
    return _PERSONAL.sub("…", detail)[:MAX_DETAIL]


def failure_fields(body: bytes) -> dict[str, Any]:
    """scimType and detail of a SCIM Error body, or the codes of a GraphQL error body."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(document, dict):
        return {}
    fields: dict[str, Any] = {}
    if isinstance(document.get("scimType"), str):
        fields["scim_type"] = document["scimType"]
    if isinstance(document.get("detail"), str):
        fields["detail"] = redact(document["detail"])
    errors = document.get("errors")
    if isinstance(errors, list):
        codes = [
            error["extensions"]["code"]
            for error in errors
            if isinstance(error, dict)
            and isinstance(error.get("extensions"), dict)
            and isinstance(error["extensions"].get("code"), str)
        ]
        if codes:
            fields["errors"] = codes
    return fields


def level_of(status: int, facts: RequestFacts, failed: bool) -> str:
    if failed or status >= 500 or "INTERNAL_SERVER_ERROR" in facts.graphql_error_codes:
        return "error"
    if status >= 400 or facts.graphql_error_codes:
        return "warning"
    return "info"


class RequestLog:
    """ASGI middleware around the whole app: request id, request log line, request metrics."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        templates: RouteTemplates,
        log: RequestLines | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.app = app
        self.templates = templates
        self.log = log
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        request_id = request_id_of(scope)
        facts, context = start_request(request_id)
        # Routing may rewrite the scope's paths: find the template first.
        route = self.templates.of(scope)
        state: dict[str, Any] = scope.setdefault("state", {})  # shared with mounted apps
        state[REQUEST_ID_STATE] = request_id  # the SCIM app's activity log records it
        id_header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 0
        size = 0
        failure = bytearray()

        async def send_observed(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            elif message["type"] == "http.response.body":
                body: bytes = message.get("body", b"")
                size += len(body)
                if status >= 400 and len(failure) < MAX_FAILURE_BODY:
                    failure.extend(body)
            await send(message)

        error: Exception | None = None
        try:
            await self.app(scope, receive, send_observed)
        except Exception as exc:  # logged below with the request's id; uvicorn need not
            error = exc
            if status == 0:
                body, headers = _INTERNAL_ERROR
                await send_observed(
                    {"type": "http.response.start", "status": 500, "headers": headers}
                )
                await send_observed({"type": "http.response.body", "body": body})
        finally:
            end_request(context)
        seconds = perf_counter() - started
        grant: TokenGrant | None = state.get("grant")
        if self.metrics is not None:
            tenant = grant.tenant_slug if grant is not None else None
            self.metrics.request(route, scope["method"], status, seconds, tenant)
            if facts.graphql:
                self.metrics.graphql_operation(
                    facts.graphql_operation,
                    status,
                    bool(facts.graphql_error_codes),
                    facts.graphql_cost,
                )
        if self.log is not None:
            self._write(self.log, scope, route, status, seconds, size, grant, facts, failure, error)

    def _write(
        self,
        log: RequestLines,
        scope: Scope,
        route: str,
        status: int,
        seconds: float,
        size: int,
        grant: TokenGrant | None,
        facts: RequestFacts,
        failure: bytearray,
        error: Exception | None,
    ) -> None:
        fields: dict[str, Any] = {
            "request_id": facts.request_id,
            "method": scope["method"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "bytes": size,
        }
        if grant is not None:
            fields["tenant"] = grant.tenant_slug
            fields["token_id"] = grant.token_id
            fields["token"] = grant.token_name
        if facts.graphql:
            fields["operation"] = facts.graphql_operation
            if facts.graphql_error_codes:
                fields["errors"] = facts.graphql_error_codes
        if failure:
            fields.update(failure_fields(bytes(failure)))
        level = level_of(status, facts, error is not None)
        log.write(level, fields, None if facts.traceback_logged else error)
