"""Security headers on every answer, and a bare 500 when anything inside fails.

Every response gets ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer``,
and a ``Content-Security-Policy``: HTML pages (``/``, ``/orgchart``, GraphiQL at ``/graphql``)
may load scripts, styles and images from this origin only and talk to it only, which is all
their own assets need (they hold no inline script or style); any other answer (JSON, SCIM)
may load nothing at all.

An exception that escapes the app is answered here with a plain 500 that names nothing of the
error (no stack trace, no SQL), with these headers, and then raised on so that the server logs
it; Starlette's own error middleware sits outside every user middleware and would answer
without them.
"""

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    # GraphiQL's stylesheet embeds its fonts as data: URLs.
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if "content-security-policy" not in headers:
                    html = headers.get("content-type", "").startswith("text/html")
                    headers["Content-Security-Policy"] = PAGE_POLICY if html else API_POLICY
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                internal = PlainTextResponse("Internal Server Error", status_code=500)
                await internal(scope, receive, send_with_headers)
            raise
