"""Server CPU per request with and without the request-head deadline (app/header_timeout.py).

uvicorn serves a trivial ASGI app in a child process, once with its own HTTP protocol
(``--http auto``) and once under ``HeaderTimeoutProtocol``; one client sends Entra-style look-ups
(a GET with a filter and a bearer token) over keep-alive connections, and the child's CPU time
(user + system, from /proc) is divided by the requests. CPU time rather than wall time, so that
other load on the machine changes the figure less. Run: ``python -m bench.head_deadline``.
"""

import argparse
import asyncio
import multiprocessing
import os
import socket
import time
from typing import Any

import uvicorn

from app.header_timeout import HeaderTimeoutProtocol, Phase

HEAD = (
    b"GET /scim/v2/Users?filter=userName+eq+%22ada.lovelace%40contoso.example%22 HTTP/1.1\r\n"
    b"Host: directory.example\r\nAuthorization: Bearer bdt_" + b"x" * 43 + b"\r\n"
    b"Accept: application/scim+json\r\nUser-Agent: Azure-AD-SCIM-Bench\r\n\r\n"
)
BODY = b'{"Resources":[],"totalResults":0}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/scim+json"),
                (b"content-length", str(len(BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


def serve(wrapped: bool, sock: socket.socket) -> None:
    http: Any = HeaderTimeoutProtocol.with_timeouts(10.0, 30.0) if wrapped else "auto"
    config = uvicorn.Config(
        app, http=http, log_level="warning", access_log=False, lifespan="off", loop="auto"
    )
    uvicorn.Server(config).run(sockets=[sock])


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(port: int, requests: int, per_connection: int) -> None:
    done = 0
    while done < requests:
        with socket.create_connection(("127.0.0.1", port)) as client:
            for _ in range(min(per_connection, requests - done)):
                client.sendall(HEAD)
                received = b""
                while not received.endswith(BODY):
                    chunk = client.recv(65536)
                    if not chunk:
                        raise ConnectionError("the server closed the connection")
                    received += chunk
                done += 1


def measure(wrapped: bool, requests: int, per_connection: int) -> float:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    child = multiprocessing.get_context("spawn").Process(target=serve, args=(wrapped, sock))
    child.start()
    assert child.pid is not None
    deadline = time.monotonic() + 30
    while True:
        try:
            drive(port, 50, 50)  # warm-up, and the server is up
            break
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    before = cpu_seconds(child.pid)
    drive(port, requests, per_connection)
    spent = cpu_seconds(child.pid) - before
    child.terminate()
    child.join()
    sock.close()
    return spent / requests * 1e6


def watch_micros(requests: int) -> float:
    """CPU per request of the deadline's own work (scanning a head, timers), without a server."""

    async def run() -> float:
        protocol = HeaderTimeoutProtocol.__new__(HeaderTimeoutProtocol.with_timeouts(10.0, 30.0))
        protocol.__dict__.update(
            head_seconds=10.0,
            body_deadline_seconds=40.0,
            phase=Phase.HEAD,
            pending=bytearray(),
            remaining=0,
            timer=None,
            transport=None,
        )
        start = time.process_time()
        for _ in range(requests):
            protocol._watch(HEAD)
        return (time.process_time() - start) / requests * 1e6

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--per-connection", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    for run in range(options.runs):
        micros = watch_micros(options.requests * 10)
        print(f"run {run + 1}: the deadline's own work: {micros:.2f} µs CPU per request")
    for run in range(options.runs):
        for wrapped in (False, True):
            micros = measure(wrapped, options.requests, options.per_connection)
            label = "HeaderTimeoutProtocol" if wrapped else "uvicorn's own"
            print(f"run {run + 1}: {label:>22}: {micros:6.1f} µs server CPU per request")


if __name__ == "__main__":
    main()
