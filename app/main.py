"""The app factory: one Starlette process serving SCIM, GraphQL and health probes."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from app.activity_retention import retention
from app.auth import Rejection, RequireToken, TokenVerifier
from app.graphql_api.conditional import ConditionalGraphQL
from app.graphql_api.graphiql import STATIC_PATH, graphiql_assets
from app.graphql_api.http import DirectoryGraphQL, graphql_auth_error, is_ide_page
from app.graphql_api.persisted import frontend_queries
from app.graphql_api.schema import build_schema
from app.health import healthz, readyz
from app.logging_setup import resolve_format
from app.metrics import Metrics
from app.metrics_exposure import app_metrics
from app.rate_limit import RateLimit, TokenBuckets
from app.request_lines import request_lines
from app.request_log import RequestLog
from app.route_templates import RouteTemplates
from app.settings import Settings
from app.web.pages import web_routes
from db.activity_sequencer import Sequencer
from db.database import Database
from db.tokens import TokenScope
from scim.app import create_scim_app
from scim.config import ScimConfig
from scim.errors import scim_error_response


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    database = Database(settings.database_url)
    metrics = Metrics(CollectorRegistry(), tenant_labels=settings.metrics_tenant_labels)
    verifier = TokenVerifier(database, settings.token_cache_seconds, metrics=metrics)
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
    sequencer = Sequencer(database)
    scim_app = create_scim_app(database, scim_config, sequencer)
    scim_reject: Rejection = lambda status, detail: scim_error_response(status, detail)  # noqa: E731
    scim = RequireToken(
        limited(scim_app, scim_reject, "scim"),
        verifier=verifier,
        required=TokenScope.SCIM,
        reject=scim_reject,
    )
    schema = build_schema(debug=settings.debug)
    graphql = RequireToken(
        limited(
            ConditionalGraphQL(
                DirectoryGraphQL(schema, database), database, frontend_queries(), schema.as_str()
            ),
            graphql_auth_error,
            "graphql",
        ),
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
        async with (
            app_metrics(metrics, database, settings.metrics_host_port),
            retention(database, settings.activity_retention_days),
        ):
            yield
        await sequencer.drain()  # number what the last writes recorded, while the store is up
        gc.unfreeze()
        database.dispose()

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
        Mount(STATIC_PATH, graphiql_assets(), name="graphiql-assets"),
        *web_routes(),  # /, /orgchart, /favicon.ico and /static
    ]
    log_format = resolve_format(settings.log_format)
    app = Starlette(
        routes=routes,
        middleware=[
            # Outermost: sees every request and every answer, errors included.
            Middleware(
                RequestLog,
                templates=RouteTemplates(routes),
                log=request_lines(log_format, settings.log_level) if settings.request_log else None,
                metrics=metrics,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.token_verifier = verifier
    app.state.metrics = metrics
    app.state.scim_app = scim_app
    app.state.sequencer = sequencer
    return app
