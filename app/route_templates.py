"""The route template of a request (``/scim/Users/{user_id}``), found as Starlette's router would.

Logs and metrics name a request by its template, never by its path: the template is bounded
(one metric series per route) and carries no identifiers or personal data. Matching uses each
route's public ``matches(scope)``, walking into ``Mount``s, so the answer does not depend on
whether the request was then answered by the router, by a middleware ahead of it (the Entra
look-up) or by an app dispatched by prefix.
"""

from typing import Any

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

#: The template of a request no route matches.
UNMATCHED = "<unmatched>"


def _routes_of(app: Any) -> list[BaseRoute] | None:
    """The routes of a mounted app, looking through the ASGI wrappers around it.

    ASGI middleware conventionally keeps the app it wraps as ``.app`` (Starlette's own do, and
    so do this service's token check and Entra look-up).
    """
    for _ in range(8):
        routes = getattr(app, "routes", None)
        if isinstance(routes, list):
            return routes
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


def _match(routes: list[BaseRoute], scope: Scope) -> str | None:
    partial: str | None = None
    for route in routes:
        match, child = route.matches(scope)
        if match == Match.NONE:
            continue
        if isinstance(route, Mount):
            inner_routes = _routes_of(route.app)
            inner = _match(inner_routes, {**scope, **child}) if inner_routes else None
            template = route.path + inner if inner is not None else None
        else:
            template = getattr(route, "path", None)
        if template is None:
            continue
        if match == Match.FULL:
            return template
        partial = partial or template
    return partial


class RouteTemplates:
    """Finds the template of a request among ``routes``; remembers the answer per path."""

    def __init__(self, routes: list[BaseRoute], max_paths: int = 4096) -> None:
        self.routes = routes
        self.max_paths = max_paths
        self._known: dict[tuple[str, str, str], str] = {}

    def of(self, scope: Scope) -> str:
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        template = self._known.get(key)
        if template is None:
            template = _match(self.routes, scope) or UNMATCHED
            if len(self._known) >= self.max_paths:
                self._known.clear()  # paths with ids come and go; keep the memory bounded
            self._known[key] = template
        return template
