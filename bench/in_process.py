"""The service called in process, as uvicorn calls it: an HTTP scope, ``receive`` and ``send``,
and the lifespan around the requests. Shared by the in-process drivers (``bench.instructions``,
``bench.operations``, ``bench.sync_cost``), which measure the app without a socket or a client.
"""

import asyncio
from typing import Any


def request_scope(method: str, path: str, token: str, body: bytes = b"") -> dict[str, Any]:
    """The scope uvicorn gives a request (httptools), ``path`` with its query string."""
    raw_path, _, query = path.partition("?")
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"Microsoft.Identity.Provisioning"),
        (b"accept", b"application/scim+json"),
        (b"authorization", b"Bearer " + token.encode()),
    ]
    if body:
        headers += [
            (b"content-type", b"application/scim+json"),
            (b"content-length", str(len(body)).encode()),
        ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "headers": headers,
        "state": {},
    }


async def call(app: Any, scope: dict[str, Any], body: bytes = b"") -> tuple[int, bytes]:
    """One request: its status and its whole body."""
    sent = False
    status = 0
    out = bytearray()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # no disconnect while the request runs
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            out.extend(message.get("body", b""))

    await app(scope, receive, send)
    return status, bytes(out)


class Lifespan:
    """The ASGI lifespan protocol, as a server runs it around the requests."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def __aenter__(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.get_running_loop().create_task(
            self.app(scope, self.inbox.get, self.outbox.put)
        )
        await self.inbox.put({"type": "lifespan.startup"})
        message = await self.outbox.get()
        assert message["type"] == "lifespan.startup.complete", message

    async def __aexit__(self, *_: object) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        message = await self.outbox.get()
        assert message["type"] == "lifespan.shutdown.complete", message
        await self.task
