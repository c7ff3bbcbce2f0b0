"""The GraphQL ASGI app: strawberry over HTTP, with the caller's tenant in the context."""

from typing import Any, cast

import orjson
import strawberry
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Scope
from strawberry.asgi import GraphQL

from app.graphql_api.conditional import VERSIONS_STATE
from app.graphql_api.context import Context
from app.graphql_api.graphiql import graphiql_page
from app.graphql_api.org_cache import OrgMetricsCache
from db.database import Database
from db.org_changes import TenantVersions
from db.tokens import TokenGrant


class DirectoryGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: strawberry.Schema, database: Database) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.database = database
        self.org_cache = OrgMetricsCache(database)
        self.page = graphiql_page()

    async def get_context(self, request: Any, response: Any) -> Context:
        state = cast(Request, request).state
        versions = getattr(state, VERSIONS_STATE, None)
        return Context(
            database=self.database,
            maybe_grant=cast(TokenGrant | None, getattr(state, "grant", None)),
            org_cache=self.org_cache,
            known_org_version=versions.org if isinstance(versions, TenantVersions) else None,
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our own GraphiQL page: every script and style comes from this app."""
        return HTMLResponse(self.page)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


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
    code = {401: "UNAUTHENTICATED", 429: "RATE_LIMITED"}.get(status, "FORBIDDEN")
    return JSONResponse(
        {"data": None, "errors": [{"message": detail, "extensions": {"code": code}}]},
        status_code=status,
    )
