"""The landing page at ``/``, the org chart at ``/orgchart`` and ``/favicon.ico``.

The pages are static: their scripts and styles are files under ``static/`` served by the app
itself (no CDN, no inline script or style), so they work under the strict
Content-Security-Policy ``app.security_headers`` gives every HTML page; the org chart page reads
the directory from ``/graphql`` in the browser with the token the person enters.
"""

from html import escape
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_PATH = "/static"
_STATIC = files("app.web") / "static"
_FAVICON = (_STATIC / "favicon.ico").read_bytes()
_ORGCHART = (_STATIC / "orgchart.html").read_text(encoding="utf-8")
_LANDING = (_STATIC / "landing.html").read_text(encoding="utf-8")


async def landing(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    return HTMLResponse(_LANDING.replace("{{scim_url}}", escape(f"{base}/scim")))


async def orgchart(request: Request) -> Response:
    return HTMLResponse(_ORGCHART)


async def favicon(request: Request) -> Response:
    return Response(
        _FAVICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"}
    )


def web_routes() -> list[BaseRoute]:
    return [
        Route("/", landing, methods=["GET"]),
        Route("/orgchart", orgchart, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        Mount(STATIC_PATH, StaticFiles(packages=[("app.web", "static")]), name="web-static"),
    ]
