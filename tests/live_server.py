"""A real uvicorn server on 127.0.0.1 serving the app, for tests that need real HTTP.

The server runs in a thread of the test process on a port the OS picks; requests reach it
over TCP like any client's, through several connections at once.
"""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from app.header_timeout import HeaderTimeoutProtocol
from app.main import create_app
from app.settings import Settings


@contextmanager
def live_server(settings: Settings, ws: str = "none") -> Iterator[str]:
    """Serve ``create_app(settings)``; yields the base URL, e.g. ``http://127.0.0.1:40123``.

    The HTTP protocol is the one ``serve`` uses (uvicorn's, under the request-head deadline),
    with the timeouts of ``settings``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    protocol = HeaderTimeoutProtocol.with_timeouts(
        settings.header_timeout_seconds, settings.body_timeout_seconds
    )
    config = uvicorn.Config(
        create_app(settings),
        http=protocol,
        log_level="warning",
        ws=ws,
        lifespan="on",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
