"""The app factory: one Starlette process serving SCIM, GraphQL and health probes."""

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp

from app.activity_retention import retention
from app.auth import Rejection, RequireToken, TokenVerifier
from app.body_timeout import BodyTimeout
from app.graphql_api.conditional import ConditionalGraphQL
from app.graphql_api.graphiql import STATIC_PATH, graphiql_assets
from app.graphql_api.http import (
    DirectoryGraphQL,
    graphql_auth_error,
    graphql_error_response,
    is_ide_page,
)
from app.graphql_api.live.listener import listen
from app.graphql_api.live.websocket import CloseCodes, LiveGraphQL
from app.graphql_api.live_feeds import LiveFeeds
from app.graphql_api.persisted import frontend_queries
from app.graphql_api.schema import build_schema
from app.health import healthz, readyz
from app.logging_setup import resolve_format
from app.metrics import Metrics
from app.metrics_exposure import app_metrics
from app.oauth_token import token_endpoint
from app.rate_limit import RateLimit, TokenBuckets
from app.request_limits import RequestLimits
from app.request_lines import request_lines
from app.request_log import RequestLog
from app.route_templates import RouteTemplates
from app.security_headers import SecurityHeaders
from app.settings import Settings
from app.statistics import statistics
from app.web.pages import web_routes
from db.activity_sequencer import Sequencer
from db.database import Database
from db.errors import Unavailable
from db.tokens import TokenScope
from db.types import utcnow
from scim.app import create_scim_app
from scim.config import ScimConfig
from scim.errors import scim_error_response, scim_limit_error
from scim.openapi import is_openapi_document


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] = utcnow
) -> Starlette:
    """The app; ``clock`` (UTC) decides when OAuth secrets and access tokens expire."""
    settings = settings or Settings()
    database = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        statement_timeout_ms=settings.db_statement_timeout_ms or None,
        large_statement_timeout_ms=settings.db_large_statement_timeout_ms or None,
        async_driver=settings.db_async_driver,
        # Only large work runs in worker threads now: a few connections serve it.
        thread_pool_size=(2, 8),
    )
    metrics = Metrics(CollectorRegistry(), tenant_labels=settings.metrics_tenant_labels)
    verifier = TokenVerifier(database, settings.token_cache_seconds, metrics=metrics, clock=clock)
    buckets = (
        TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
        if settings.rate_limit_per_second > 0 and settings.rate_limit_burst > 0
        else None
    )

    def limited(app: ASGIApp, reject: Rejection, front_end: str) -> ASGIApp:
        if buckets is None:
            return app
        return RateLimit(app, buckets=buckets, reject=reject, front_end=front_end, metrics=metrics)

    scim_config = ScimConfig(
        base_url=settings.base_url,
        max_body_bytes=settings.max_body_bytes,
        activity_log=settings.activity_log,
    )
    # Live subscribers of this process wake when its own numbering passes commit (on SQLite,
    # where events commit numbered, when its own writes do).
    feeds = LiveFeeds(database)
    sequencer = Sequencer(database, on_numbered=feeds.wake)
    scim_reject: Rejection = lambda status, detail: scim_error_response(status, detail)  # noqa: E731
    # The one body-size and nesting limit, the same for every front-end.
    limits = {"max_body_bytes": settings.max_body_bytes, "max_json_depth": settings.max_json_depth}

    def bounded(app: ASGIApp, reject: Rejection) -> ASGIApp:
        return RequestLimits(app, **limits, reject=reject)

    # Inside the SCIM app, under its activity log: a write the limits refuse is recorded.
    scim_limits = [Middleware(RequestLimits, **limits, reject=scim_limit_error)]
    scim_app = create_scim_app(database, scim_config, sequencer, limits=scim_limits)
    scim = RequireToken(
        limited(scim_app, scim_reject, "scim"),
        verifier=verifier,
        required=TokenScope.SCIM,
        reject=scim_reject,
        is_public=is_openapi_document,
    )
    schema = build_schema(debug=settings.debug)
    graphql_app = DirectoryGraphQL(schema, database, max_json_depth=settings.max_json_depth)
    # WebSocket connections authenticate in the protocol's connection_init (browsers cannot
    # set headers on a WebSocket), so they do not pass RequireToken.
    graphql_live = CloseCodes(
        LiveGraphQL(schema, database, graphql_app.org_cache, feeds, verifier.verify)
    )
    # Persisted queries and conditional answers (ETag, 304) in front of the one GraphQL view.
    conditional = ConditionalGraphQL(graphql_app, database, frontend_queries(), schema.as_str())
    graphql = RequireToken(
        limited(bounded(conditional, graphql_auth_error), graphql_auth_error, "graphql"),
        verifier=verifier,
        required=TokenScope.GRAPHQL,
        reject=graphql_auth_error,
        is_public=is_ide_page,
    )

    log_format = resolve_format(settings.log_format)
    lines = request_lines(log_format, settings.log_level) if settings.request_log else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # What exists once the app is built lives as long as the process: out of the garbage
        # collector's way. A full collection stops every thread, the event loop's too, and
        # would otherwise walk all of it each time work in a thread allocates enough.
        # The test suite, which starts hundreds of apps in one process, turns it off: each
        # full collection there walks everything every earlier test left.
        if settings.gc_freeze:
            gc.collect()
            gc.freeze()
        try:
            async with (
                app_metrics(metrics, database, settings.metrics_host_port),
                retention(database, settings.activity_retention_days),
                statistics(database, settings.db_analyze_seconds),
            ):
                # Other processes' changes: LISTEN on PostgreSQL, a poll of the log on SQLite.
                follow = listen(database.url, feeds) if not database.is_sqlite else feeds.poll()
                follower = asyncio.get_running_loop().create_task(follow)
                try:
                    yield
                finally:
                    follower.cancel()
                    feeds.close()
            await sequencer.drain()  # number what the last writes recorded, while the store is up
        finally:
            if lines is not None:
                lines.flush()  # request lines still waiting in their batch
        if settings.gc_freeze:
            gc.unfreeze()
        await database.aclose()

    routes = [
        # Every SCIM request, Entra's look-up included, goes through these mounts and the
        # SCIM app's own router, so middleware on either app sees all of them. Routes are
        # tried in order: /scim/v2 before /scim, which would take it too, and the SCIM
        # mounts ahead of the rest because a provisioning cycle is most of the traffic.
        Mount("/scim/v2", scim, name="scim-v2"),
        Mount("/scim", scim, name="scim"),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_live),
        Route(
            "/oauth/token",
            token_endpoint(database, settings.access_token_seconds, clock, buckets),
            methods=["POST"],
        ),
        Mount(STATIC_PATH, graphiql_assets(), name="graphiql-assets"),
        *web_routes(),  # /, /orgchart, /favicon.ico and /static
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            # Outermost: sees every request and every answer, errors included.
            Middleware(
                RequestLog,
                templates=RouteTemplates(routes),
                log=lines,
                metrics=metrics,
            ),
            # HTTP hardening (issue 16): headers on every answer, CORS only for the origins
            # BLINK_CORS_ORIGINS names, and a deadline for the request body.
            Middleware(SecurityHeaders),
            *cors(settings),
            Middleware(BodyTimeout, seconds=settings.body_timeout_seconds),
        ],
        lifespan=lifespan,
        exception_handlers={Unavailable: store_unavailable},
    )
    app.state.settings = settings
    app.state.database = database
    app.state.token_verifier = verifier
    app.state.metrics = metrics
    app.state.request_lines = lines
    app.state.scim_app = scim_app
    app.state.sequencer = sequencer
    app.state.live_feeds = feeds
    return app


async def store_unavailable(request: Request, error: Exception) -> Response:
    """The database was out of reach outside a front-end's own error handling (the token
    check, the OAuth token endpoint, GraphQL's ETag layer): a 503 in the format of the path's
    front-end, never a plain-text 500. The SCIM app answers its own routes' the same way."""
    detail = str(error)
    path = request.url.path
    if path.startswith("/scim"):
        return scim_error_response(503, detail)
    if path.startswith("/graphql"):
        return graphql_error_response(503, detail)
    if path.startswith("/oauth"):  # RFC 6749's code for a server that cannot answer for now
        body = {"error": "temporarily_unavailable", "error_description": detail}
        return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-store"})
    return JSONResponse({"status": "unavailable", "detail": detail}, status_code=503)


def cors(settings: Settings) -> list[Middleware]:
    """Cross-origin calls from the origins configured, with a bearer token; none otherwise."""
    if not settings.cors_origin_list:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Location"],
            max_age=600,
        )
    ]
