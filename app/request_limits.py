"""The one body-size limit and the one JSON nesting limit, for every front-end.

``RequestLimits`` wraps a front-end's ASGI app (SCIM and GraphQL alike, see ``app.main``): it
reads a request's body up to ``max_body_bytes`` (413 beyond, from the declared length before
anything is read), refuses a body nested deeper than ``max_json_depth`` (400) and hands the
body it read on to the app unchanged. The answers are the front-end's own error bodies
(``Rejection``), so a SCIM client gets a SCIM Error and a GraphQL client a GraphQL error.

Why a depth limit at all: the JSON parsers stop at ~1,000 levels, but what comes after them
(graphql-core's variable coercion, the SCIM normaliser) walks values recursively; a 2 KB
body nested 961 levels deep was a RecursionError. No SCIM or GraphQL request Blink knows
nests deeper than ~8 levels.
"""

import re

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import Rejection

#: A JSON string, matched as runs of plain characters between escapes ("unrolled").
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_OPENING = frozenset(b"[{")
#: A body larger than this is scanned in a worker thread: the scan walks every byte, and a
#: large group's body takes longer than the event loop every request shares may stall.
SCAN_IN_THREAD_BYTES = 64 * 1024
#: Methods whose body the front-ends never read.
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyTooLarge(Exception):
    pass


def json_depth_exceeds(text: bytes, limit: int) -> bool:
    """Whether the JSON text ``text`` nests arrays and objects more than ``limit`` deep.

    Counted on the text, without parsing it: brackets inside strings are skipped. A text with
    at most ``limit`` opening brackets cannot be deeper, so every ordinary body is answered by
    two byte counts; only bracket-heavy bodies are scanned.
    """
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b"", text)):
        if match[0][0] in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


async def read_limited(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body of the request; ``BodyTooLarge`` as soon as it passes ``limit``."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class RequestLimits:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, max_json_depth: int, reject: Rejection
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self.reject = reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODILESS:
            await self.app(scope, receive, send)
            return
        try:
            body = await read_limited(scope, receive, self.max_body_bytes)
        except BodyTooLarge:
            response = self.reject(
                413, f"request body exceeds the limit of {self.max_body_bytes} bytes"
            )
            await response(scope, receive, send)
            return
        if len(body) > SCAN_IN_THREAD_BYTES:
            too_deep = await run_in_threadpool(json_depth_exceeds, body, self.max_json_depth)
        else:
            too_deep = json_depth_exceeds(body, self.max_json_depth)
        if too_deep:
            response = self.reject(400, f"JSON nested more than {self.max_json_depth} levels deep")
            await response(scope, receive, send)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as a server does

        await self.app(scope, replay, send)
