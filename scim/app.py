"""The SCIM ASGI app, mounted by ``app.main`` at /scim and /scim/v2."""

import logging
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.activity_sequencer import Sequencer
from db.database import Database
from db.errors import StoreError
from scim.activity_log import ActivityLog
from scim.config import ScimConfig
from scim.discovery import (
    get_resource_type,
    get_schema,
    get_service_provider_config,
    list_resource_types,
    list_schemas,
)
from scim.errors import ScimError, from_store_error, scim_error_response
from scim.groups import routes as group_routes
from scim.openapi import OPENAPI_PATH, get_openapi_document
from scim.root_search import search_everything
from scim.user_search import list_users_endpoint, search_users_endpoint
from scim.users import create_user, patch_user, read_user, remove_user, replace_user

logger = logging.getLogger(__name__)


async def _scim_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ScimError)
    return scim_error_response(error.status, error.detail, error.scim_type)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    response = scim_error_response(error.status_code, error.detail)
    if error.headers:
        response.headers.update(error.headers)
    return response


async def _store_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StoreError)
    scim_error = from_store_error(error)
    return scim_error_response(scim_error.status, scim_error.detail, scim_error.scim_type)


async def _unexpected_error(request: Request, error: Exception) -> Response:
    logger.exception("unhandled error in %s %s", request.method, request.url.path)
    return scim_error_response(500, "internal server error")


def create_scim_app(
    database: Database,
    config: ScimConfig,
    sequencer: Sequencer | None = None,
    limits: Sequence[Middleware] = (),
) -> Starlette:
    """The SCIM app; ``sequencer`` numbers the activity log's events after writes (the app's
    own when not given). ``limits`` (the request limits every front-end shares) run inside
    the activity log, so a write they refuse is recorded like any other refused write."""
    sequencer = sequencer or Sequencer(database)
    # No two paths overlap, so order only decides how many routes a request is matched
    # against: Entra's hot path (GET /Users?filter=...) comes first (~2 µs per route).
    routes = [
        Route("/Users", list_users_endpoint, methods=["GET"]),
        Route("/Users", create_user, methods=["POST"]),
        Route("/Users/.search", search_users_endpoint, methods=["POST"]),
        Route("/Users/{user_id}", read_user, methods=["GET"]),
        Route("/Users/{user_id}", replace_user, methods=["PUT"]),
        Route("/Users/{user_id}", patch_user, methods=["PATCH"]),
        Route("/Users/{user_id}", remove_user, methods=["DELETE"]),
        *group_routes,
        Route("/.search", search_everything, methods=["POST"]),
        Route("/ServiceProviderConfig", get_service_provider_config, methods=["GET"]),
        Route("/Schemas", list_schemas, methods=["GET"]),
        Route("/Schemas/{schema_id:path}", get_schema, methods=["GET"]),
        Route("/ResourceTypes", list_resource_types, methods=["GET"]),
        Route("/ResourceTypes/{type_id}", get_resource_type, methods=["GET"]),
        Route(OPENAPI_PATH, get_openapi_document, methods=["GET"]),
    ]
    activity = (
        [Middleware(ActivityLog, database=database, sequencer=sequencer, routes=routes)]
        if config.activity_log
        else []
    )
    app = Starlette(
        routes=routes,
        middleware=[*activity, *limits],
        exception_handlers={
            ScimError: _scim_error,
            HTTPException: _http_error,
            StoreError: _store_error,
            Exception: _unexpected_error,
        },
    )
    app.state.database = database
    app.state.config = config
    app.state.sequencer = sequencer
    return app
