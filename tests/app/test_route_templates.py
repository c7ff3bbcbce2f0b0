"""Route templates come from Starlette's routing, for the app as built and for plain mounts."""

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.route_templates import UNMATCHED, RouteTemplates


def scope(method: str, path: str, root_path: str = "") -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": root_path + path,
        "root_path": root_path,
        "headers": [],
        "query_string": b"",
    }


def templates_of(app: Starlette) -> RouteTemplates:
    for middleware in app.user_middleware:
        templates = middleware.kwargs.get("templates")
        if isinstance(templates, RouteTemplates):
            return templates
    raise AssertionError("no RouteTemplates in the app's middleware")


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("GET", "/scim/Users", "/scim/Users"),
        ("POST", "/scim/Users", "/scim/Users"),
        ("GET", "/scim/v2/Users", "/scim/v2/Users"),
        ("PATCH", "/scim/v2/Users/2819c223-7f76", "/scim/v2/Users/{user_id}"),
        ("DELETE", "/scim/Groups/g1", "/scim/Groups/{group_id}"),
        ("POST", "/scim/Users/.search", "/scim/Users/.search"),
        ("GET", "/scim/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", None),
        ("POST", "/graphql", "/graphql"),
        ("GET", "/readyz", "/readyz"),
        ("PUT", "/healthz", "/healthz"),  # 405: the route is still known
        ("GET", "/scim/Nothing", UNMATCHED),
        ("GET", "/scimx/Users", UNMATCHED),
        ("GET", "/", "/"),  # the landing page
        ("GET", "/nothing-here", UNMATCHED),
    ],
)
def test_templates_of_the_app_as_built(
    app: Starlette, method: str, path: str, template: str | None
) -> None:
    found = templates_of(app).of(scope(method, path))
    if template is None:
        assert found.startswith("/scim/Schemas/{")
    else:
        assert found == template


def test_templates_under_a_root_path(app: Starlette) -> None:
    templates = templates_of(app)
    assert templates.of(scope("GET", "/scim/Users/abc", "/directory")) == "/scim/Users/{user_id}"


class Wrapper:
    """An ASGI middleware around a mounted app, as the token check is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def test_an_ordinary_mount_of_a_wrapped_app_is_walked_into() -> None:
    async def ok(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    inner = Starlette(routes=[Route("/Users/{user_id}", ok), Route("/Users", ok)])
    outer = Starlette(
        routes=[Mount("/scim/v2", app=Wrapper(Wrapper(inner))), Mount("/scim", app=Wrapper(inner))]
    )
    templates = RouteTemplates(outer.routes)
    assert templates.of(scope("GET", "/scim/v2/Users/42")) == "/scim/v2/Users/{user_id}"
    assert templates.of(scope("GET", "/scim/Users")) == "/scim/Users"
    assert templates.of(scope("GET", "/scim/Other")) == UNMATCHED


def test_the_remembered_paths_stay_bounded() -> None:
    async def ok(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    templates = RouteTemplates([Route("/Users/{user_id}", ok)], max_paths=10)
    for number in range(100):
        assert templates.of(scope("GET", f"/Users/{number}")) == "/Users/{user_id}"
    assert len(templates._known) <= 10
