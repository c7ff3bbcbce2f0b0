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

from collections.abc import Iterable

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    # GraphiQL's stylesheet embeds its fonts as data: URLs.
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


_NOSNIFF = (b"x-content-type-options", b"nosniff")
_REFERRER = (b"referrer-policy", b"no-referrer")
_PAGE = (b"content-security-policy", PAGE_POLICY.encode())
_API = (b"content-security-policy", API_POLICY.encode())


def _with_security_headers(
    headers: Iterable[tuple[bytes, bytes]],
) -> list[tuple[bytes, bytes]]:
    """The response's headers plus ours, where the response did not set its own."""
    result = list(headers)
    nosniff = referrer = policy = True
    html = False
    # One pass over the response's own headers (every answer pays for this).
    for name, value in result:
        name = name.lower()
        if name == b"content-type":
            html = html or value.startswith(b"text/html")
        elif name == b"x-content-type-options":
            nosniff = False
        elif name == b"referrer-policy":
            referrer = False
        elif name == b"content-security-policy":
            policy = False
    if nosniff:
        result.append(_NOSNIFF)
    if referrer:
        result.append(_REFERRER)
    if policy:
        result.append(_PAGE if html else _API)
    return result


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
                message["headers"] = _with_security_headers(message.get("headers", ()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                internal = PlainTextResponse("Internal Server Error", status_code=500)
                await internal(scope, receive, send_with_headers)
            raise
