"""Conditional GraphQL requests: an ETag on every answer, 304 when nothing changed.

An ASGI middleware in front of the GraphQL view (behind the token check, so a revoked token
is refused before anything here runs). For a query sent over GET or POST it

* resolves a persisted query (``app.graphql_api.persisted``) and hands the view the request
  with the document filled in — the view, and strawberry in it, run as for any request;
* reads the tenant's change counters (``db.org_changes.tenant_versions``: one statement over
  the tenant's stripes, shared by the tenant's requests that ask in the same turn of the event
  loop, ``app.graphql_api.version_reads``) and derives the ETag from the data version, the
  tenant, the document, the variables, the operation name and the schema;
* answers ``If-None-Match`` with that ETag by 304 without executing anything, and otherwise
  adds the ETag and ``Cache-Control: private, no-cache`` to the view's 200 answer.

The data version moves with every committed write of the tenant and with no other tenant's,
so an answer whose ETag still matches would be answered the same again. It is read before
the query runs: a write that lands during the run gives the answer an ETag older than its
data, which only costs the next request a full answer, never a stale 304. The counters read
here are handed to the view on the request's state, so the org metrics check of the same
request needs no statement of its own.

Anything this layer does not understand (bad JSON, a batch, a streamed subscription) goes to
the view untouched, which answers it as before, without an ETag.
"""

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.graphql_api.persisted import PersistedQueries, PersistedQueryError
from app.graphql_api.version_reads import TenantVersionReads
from db.database import Database
from db.org_changes import TenantVersions
from db.tokens import TokenGrant

#: The request state key of the counters read for this request (``TenantVersions``).
VERSIONS_STATE = "tenant_versions"
CACHE_CONTROL = b"private, no-cache"
#: The request state key of a GET's ``Request`` whose query string this layer has parsed:
#: the view answers with that same object (``parsed_get``), whose parse Starlette keeps, so
#: the query string (the whole document, percent-encoded) is decoded once, not twice.
PARSED_GET_STATE = "graphql_parsed_get"
_STREAMED = (b"multipart/mixed", b"text/event-stream")


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return bytes(value)
    return None


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """Weak comparison (RFC 9110 13.1.2) against each listed tag, or ``*``."""
    if if_none_match.strip() == b"*":
        return True
    wanted = etag.removeprefix(b"W/")
    return any(tag.strip().removeprefix(b"W/") == wanted for tag in if_none_match.split(b","))


class ConditionalGraphQL:
    def __init__(
        self, app: ASGIApp, database: Database, persisted: PersistedQueries, schema_sdl: str
    ) -> None:
        self.app = app
        self.versions = TenantVersionReads(database)
        self.persisted = persisted
        # A new schema (a new release) answers differently: its ETags differ too.
        self.schema_tag = hashlib.sha256(schema_sdl.encode()).digest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        grant: TokenGrant | None = (scope.get("state") or {}).get("grant")
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "POST")
            or grant is None  # the GraphiQL page: static, no query
            or any(kind in (_header(scope, b"accept") or b"") for kind in _STREAMED)
        ):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "GET":
            await self._get(scope, receive, send, grant)
        else:
            await self._post(scope, receive, send, grant)

    async def _get(self, scope: Scope, receive: Receive, send: Send, grant: TokenGrant) -> None:
        parsed = Request(scope, receive)
        params = dict(parsed.query_params)
        try:
            request = {
                "query": params.get("query"),
                "operationName": params.get("operationName"),
                "variables": orjson.loads(params["variables"]) if params.get("variables") else None,
                "extensions": orjson.loads(params["extensions"])
                if params.get("extensions")
                else None,
            }
        except orjson.JSONDecodeError:
            await self.app(scope, receive, send)
            return
        forward = scope
        query = await self._resolve(request, scope, receive, send)
        if query is None:
            return
        if query != request["query"]:
            params["query"] = query
            forward = {**scope, "query_string": urlencode(params).encode("latin-1")}
        else:
            scope["state"][PARSED_GET_STATE] = parsed
        await self._answer(forward, receive, send, grant, query, request)

    async def _post(self, scope: Scope, receive: Receive, send: Send, grant: TokenGrant) -> None:
        body = await _read_body(receive)
        replay = _replay(body, receive)
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            request = None
        if not isinstance(request, dict):
            await self.app(scope, replay, send)
            return
        query = await self._resolve(request, scope, replay, send)
        if query is None:
            return
        if query != request.get("query"):
            replay = _replay(orjson.dumps({**request, "query": query}), receive)
        await self._answer(scope, replay, send, grant, query, request)

    async def _resolve(
        self, request: Mapping[str, Any], scope: Scope, receive: Receive, send: Send
    ) -> str | None:
        """The document to run, or None once the request has been answered here."""
        try:
            query = self.persisted.resolve(request.get("query"), request.get("extensions"))
        except PersistedQueryError as error:
            response: Response = JSONResponse(
                {"errors": [{"message": error.message, "extensions": {"code": error.code}}]},
                status_code=error.status,
            )
            await response(scope, receive, send)
            return None
        if query is None:  # no query at all: strawberry's own answer
            await self.app(scope, receive, send)
        return query

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        grant: TokenGrant,
        query: str,
        request: Mapping[str, Any],
    ) -> None:
        try:
            versions = await self.versions.read(grant.tenant_id)
        except Exception:
            # No version, no ETag: the view answers as it would without this layer, and a
            # store that fails fails there too, as a GraphQL error with a code.
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[VERSIONS_STATE] = versions
        etag = self._etag(grant.tenant_id, versions, query, request)
        headers = {"ETag": etag.decode(), "Cache-Control": CACHE_CONTROL.decode()}
        if_none_match = _header(scope, b"if-none-match")
        if if_none_match is not None and etag_matches(if_none_match, etag):
            await Response(status_code=304, headers=headers)(scope, receive, send)
            return

        async def send_with_etag(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", ()),
                        (b"etag", etag),
                        (b"cache-control", CACHE_CONTROL),
                    ],
                }
            await send(message)

        await self.app(scope, receive, send_with_etag)

    def _etag(
        self, tenant_id: int, versions: TenantVersions, query: str, request: Mapping[str, Any]
    ) -> bytes:
        digest = hashlib.blake2b(self.schema_tag, digest_size=16)
        digest.update(b"%d:%d\0" % (tenant_id, versions.data))
        digest.update(query.encode())
        digest.update(b"\0")
        digest.update(orjson.dumps(request.get("variables"), option=orjson.OPT_SORT_KEYS))
        digest.update(b"\0")
        digest.update(str(request.get("operationName")).encode())
        return b'"' + digest.hexdigest().encode() + b'"'


def parsed_get(scope: Scope, receive: Receive) -> Request:
    """The request for the view: the one this layer parsed when it forwarded that very scope
    and ``receive``, else a new one."""
    parsed = (scope.get("state") or {}).pop(PARSED_GET_STATE, None)
    if isinstance(parsed, Request) and parsed.scope is scope and parsed.receive is receive:
        return parsed
    return Request(scope, receive)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then the server's own (which waits for the
    client to go away)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
