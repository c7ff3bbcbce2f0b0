"""The SCIM ASGI app, mounted by ``app.main`` at /scim and /scim/v2."""

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.database import Database
from db.errors import Conflict, InvalidReference, NotFound
from scim.config import ScimConfig
from scim.discovery import get_service_provider_config
from scim.errors import ScimError, ScimType, scim_error_response
from scim.groups import routes as group_routes

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
    if isinstance(error, NotFound):
        return scim_error_response(404, str(error))
    if isinstance(error, Conflict):
        return scim_error_response(409, str(error), ScimType.UNIQUENESS)
    return scim_error_response(400, str(error), ScimType.INVALID_VALUE)


async def _unexpected_error(request: Request, error: Exception) -> Response:
    logger.exception("unhandled error in %s %s", request.method, request.url.path)
    return scim_error_response(500, "internal server error")


def create_scim_app(database: Database, config: ScimConfig) -> Starlette:
    routes = [
        Route("/ServiceProviderConfig", get_service_provider_config, methods=["GET"]),
        *group_routes,
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            ScimError: _scim_error,
            HTTPException: _http_error,
            NotFound: _store_error,
            Conflict: _store_error,
            InvalidReference: _store_error,
            Exception: _unexpected_error,
        },
    )
    app.state.database = database
    app.state.config = config
    return app
