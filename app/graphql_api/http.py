"""The GraphQL ASGI app: strawberry over HTTP, with the caller's tenant in the context.

Every answer is JSON (GraphQL over HTTP), failures included: strawberry answers a request it
cannot take (unsupported content type, no query, malformed JSON, a batch) with a plain-text
400; here those become ``{"errors": [{"message", "extensions": {"code"}}]}`` with the same
status, and every error of an executed operation carries an ``extensions.code`` too. The body
is decoded by orjson, which refuses lone surrogates (PostgreSQL and the UTF-8 encoder cannot
take them), and must be a JSON object: strawberry would fail on ``null`` or ``123`` with an
AttributeError. Size and nesting are limited before this app by ``app.request_limits``.
"""

from typing import Any, cast

import orjson
import strawberry
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from app.graphql_api.conditional import VERSIONS_STATE, parsed_get
from app.graphql_api.context import Context
from app.graphql_api.errors import unavailable_code
from app.graphql_api.graphiql import graphiql_page
from app.graphql_api.observability import error_code
from app.graphql_api.org_cache import OrgMetricsCache
from app.graphql_api.search_count_cache import SearchCountCache
from app.request_limits import json_depth_exceeds
from db.database import Database
from db.org_changes import TenantVersions
from db.tokens import TokenGrant

#: ``extensions.code`` of a request refused before any operation ran, by HTTP status.
_REQUEST_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}
#: The request state key set when an error of the answer is the store being out of reach.
_UNAVAILABLE_STATE = "store_unavailable"
#: The request state key of the request's GraphQL context, released once it is answered.
_CONTEXT_STATE = "graphql_context"


class DirectoryGraphQL(GraphQL[Context, None]):
    def __init__(
        self, schema: strawberry.Schema, database: Database, *, max_json_depth: int = 32
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.database = database
        self.org_cache = OrgMetricsCache(database)
        self.count_cache = SearchCountCache(database)
        self.page = graphiql_page()
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = parsed_get(scope, receive)
        try:
            try:
                response = await self.run(request)
            except HTTPException as error:
                response = graphql_error_response(error.status_code, error.reason)
            if getattr(request.state, _UNAVAILABLE_STATE, False) and response.status_code == 200:
                # The store was out of reach: the answer is not the query's, and a client or
                # a proxy should retry it, as it would any 503.
                response.status_code = 503
            await response(scope, receive, send)
        finally:
            # Answered (a streamed answer too, once sent): what the request loaded goes now.
            # graphql-core's execution context, which holds the request's context, lives in a
            # reference cycle, so without this the records would wait for the garbage
            # collector.
            context = getattr(request.state, _CONTEXT_STATE, None)
            if isinstance(context, Context):
                context.release()

    async def get_context(self, request: Any, response: Any) -> Context:
        state = cast(Request, request).state
        versions = getattr(state, VERSIONS_STATE, None)
        known = versions if isinstance(versions, TenantVersions) else None
        context = Context(
            database=self.database,
            maybe_grant=cast(TokenGrant | None, getattr(state, "grant", None)),
            org_cache=self.org_cache,
            known_org_version=None if known is None else known.org,
            count_cache=self.count_cache,
            known_data_version=None if known is None else known.data,
            known_unnumbered_events=None if known is None else known.unnumbered_events,
        )
        setattr(state, _CONTEXT_STATE, context)
        return context

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our own GraphiQL page: every script and style comes from this app."""
        return HTMLResponse(self.page)

    def decode_json(self, data: str | bytes) -> object:
        """A request body (or a GET's ``variables``): a JSON object, or a list (a batch,
        which strawberry refuses), nested at most ``max_json_depth`` deep."""
        text = data.encode() if isinstance(data, str) else data
        if json_depth_exceeds(text, self.max_json_depth):
            raise HTTPException(400, f"JSON nested more than {self.max_json_depth} levels deep")
        document = orjson.loads(text)  # a JSONDecodeError is strawberry's 400
        if not isinstance(document, dict | list):
            raise HTTPException(400, "the request body must be a JSON object")
        return document

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        for formatted, error in zip(
            processed.get("errors") or (), result.errors or (), strict=True
        ):
            entry = cast(dict[str, Any], formatted)
            entry.setdefault("extensions", {}).setdefault("code", error_code(error))
            if unavailable_code(error) is not None:
                setattr(request.state, _UNAVAILABLE_STATE, True)
        return processed


def graphql_error_response(status: int, detail: str) -> Response:
    """A request-level GraphQL error: no operation ran, so ``data`` is null."""
    code = _REQUEST_CODES.get(status, "FORBIDDEN" if status == 403 else "BAD_REQUEST")
    return JSONResponse(
        {"data": None, "errors": [{"message": detail, "extensions": {"code": code}}]},
        status_code=status,
    )


def is_ide_page(scope: Scope) -> bool:
    """GET of the GraphiQL page itself: static, served without a token."""
    if scope.get("method") != "GET":
        return False
    if scope.get("query_string"):
        return False
    for name, value in scope["headers"]:
        if name == b"accept":
            return b"text/html" in value
    return False


def graphql_auth_error(status: int, detail: str) -> Response:
    """The rejection of ``app.auth.RequireToken``, the rate limit and the request limits."""
    return graphql_error_response(status, detail)
