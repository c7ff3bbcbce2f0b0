"""The app factory: one Starlette process serving SCIM, GraphQL and health probes."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from app.auth import RequireToken, TokenVerifier
from app.dispatch import PrefixDispatch
from app.graphql_api.graphiql import STATIC_PATH, graphiql_assets
from app.graphql_api.http import DirectoryGraphQL, graphql_auth_error, is_ide_page
from app.graphql_api.schema import build_schema
from app.health import healthz, readyz
from app.settings import Settings
from app.web.pages import web_routes
from db.database import Database
from db.tokens import TokenScope
from scim.app import create_scim_app
from scim.config import ScimConfig
from scim.entra_lookup import EntraLookup
from scim.errors import scim_error_response


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    database = Database(settings.database_url)
    verifier = TokenVerifier(database, settings.token_cache_seconds)

    scim_config = ScimConfig(base_url=settings.base_url, max_body_bytes=settings.max_body_bytes)
    scim_app = create_scim_app(database, scim_config)
    scim = RequireToken(
        EntraLookup(scim_app, database, scim_config),
        verifier=verifier,
        required=TokenScope.SCIM,
        reject=lambda status, detail: scim_error_response(status, detail),
    )
    graphql = RequireToken(
        DirectoryGraphQL(build_schema(debug=settings.debug), database),
        verifier=verifier,
        required=TokenScope.GRAPHQL,
        reject=graphql_auth_error,
        is_public=is_ide_page,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # What exists once the app is built lives as long as the process: out of the garbage
        # collector's way. A full collection stops every thread, the event loop's too, and
        # would otherwise walk all of it each time work in a thread allocates enough.
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()
        database.dispose()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Mount(STATIC_PATH, graphiql_assets(), name="graphiql-assets"),
            *web_routes(),  # /, /orgchart, /favicon.ico and /static
        ],
        # /scim and /scim/v2 are dispatched ahead of the router (see app.dispatch).
        middleware=[Middleware(PrefixDispatch, mounts=[("/scim", scim), ("/scim/v2", scim)])],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.token_verifier = verifier
    app.state.scim_app = scim_app
    return app
