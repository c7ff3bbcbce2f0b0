"""A deadline for reading the request body: 408 for a client that sends it too slowly.

uvicorn bounds the size of the request head and the idle time between requests on a
connection, and Starlette reads the body as it comes; neither bounds how long a body may take.
A client that announces a body and then trickles it would hold its connection and the request
for as long as it likes. The deadline runs from the app's first read of the body; when it
passes, the client gets 408 with ``Connection: close`` and the app sees the client as gone
(``http.disconnect``), the way Starlette already handles a client that hung up.
"""

import anyio
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTimeout:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        deadline: float | None = None
        body_done = False
        timed_out = False
        started = False

        async def receive_in_time() -> Message:
            nonlocal deadline, body_done, timed_out, started
            if body_done:
                return await receive()
            if timed_out:
                return {"type": "http.disconnect"}
            if deadline is None:
                deadline = anyio.current_time() + self.seconds
            with anyio.move_on_after(deadline - anyio.current_time()):
                message = await receive()
                body_done = message["type"] != "http.request" or not message.get("more_body")
                return message
            timed_out = True
            if not started:
                started = True
                too_slow = PlainTextResponse(
                    "the request body did not arrive in time",
                    status_code=408,
                    headers={"Connection": "close"},
                )
                await too_slow(scope, receive, send)
            return {"type": "http.disconnect"}

        async def send_in_time(message: Message) -> None:
            nonlocal started
            if timed_out:
                return  # the 408 went out: whatever the app answers after it is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive_in_time, send_in_time)
        except Exception:
            if not timed_out:
                raise


def _has_body(scope: Scope) -> bool:
    """Whether the request announces a body (most GETs, Entra's look-ups among them, do not)."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False
