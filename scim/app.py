"""The SCIM ASGI app, mounted by ``app.main`` at /scim and /scim/v2."""

import logging
from collections.abc import Callable
from typing import Any

from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import ASGIApp, ExceptionHandler, Receive, Scope, Send

from db.database import Database
from db.errors import StoreError
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


_EXCEPTION_HANDLERS: dict[Any, ExceptionHandler] = {
    ScimError: _scim_error,
    HTTPException: _http_error,
    StoreError: _store_error,
    Exception: _unexpected_error,
}


class ScimApp:
    """The SCIM ASGI app: its router behind one layer of exception handlers.

    What a ``Starlette`` app builds from the same routes and handlers, less the
    ``ServerErrorMiddleware`` a ``Starlette`` puts outermost: the app that mounts this one has
    its own, and the ``Exception`` handler here already answers anything unexpected with a
    SCIM Error (and logs its traceback). Like a ``Starlette`` app it puts itself in the scope
    as ``app``, so handlers find the store and the settings on ``request.app.state``, and it
    takes middleware (``add_middleware``, outside the handlers) until it first serves.
    """

    def __init__(self, routes: list[BaseRoute], database: Database, config: ScimConfig) -> None:
        self.router = Router(routes)
        self.state = State()
        self.state.database = database
        self.state.config = config
        self.user_middleware: list[Middleware] = []
        self._stack: ASGIApp | None = None

    @property
    def routes(self) -> list[BaseRoute]:
        return self.router.routes

    def add_middleware(
        self, middleware_class: Callable[..., ASGIApp], *args: Any, **kwargs: Any
    ) -> None:
        if self._stack is not None:
            raise RuntimeError("Cannot add middleware after an application has started")
        self.user_middleware.insert(0, Middleware(middleware_class, *args, **kwargs))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if self._stack is None:
            self._stack = self._build_stack()
        await self._stack(scope, receive, send)

    def _build_stack(self) -> ASGIApp:
        app: ASGIApp = ExceptionMiddleware(self.router, handlers=_EXCEPTION_HANDLERS)
        for middleware_class, args, kwargs in reversed(self.user_middleware):
            app = middleware_class(app, *args, **kwargs)
        return app


def create_scim_app(database: Database, config: ScimConfig) -> ScimApp:
    # No two paths overlap, so order only decides how many routes a request is matched
    # against: Entra's hot path (GET /Users?filter=...) comes first.
    routes: list[BaseRoute] = [
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
    ]
    return ScimApp(routes, database, config)
