"""The request-head deadline (``app/header_timeout.py``) against a real uvicorn server: slow
heads and silent connections are closed, normal keep-alive, pipelined, chunked and WebSocket
traffic is not disturbed. Deadlines are short here (a second); the tests assert what the
server does (answers, closes), never how long it took."""

import http.client
import select
import socket
import time
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from app.header_timeout import CHUNKED, MAX_HEAD_BYTES, body_framing, configured_timeouts
from app.settings import Settings
from tests.conftest import TenantTokens
from tests.graphql_api.live_client import Subscription, create_user, scim_client
from tests.live_server import live_server

HEALTH = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, int]]:
    quick = settings.model_copy(
        update={"header_timeout_seconds": 1.0, "body_timeout_seconds": 1.0, "request_log": False}
    )
    with live_server(quick, ws="auto") as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def closed_while_trickling(sock: socket.socket, parts: list[bytes], pause: float) -> bytes | None:
    """Send ``parts`` one at a time, ``pause`` apart. Whatever the server sent once it closed
    the connection, or None when it was still open after the last part."""
    received = b""
    for part in parts:
        try:
            sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            return received
        readable, _, _ = select.select([sock], [], [], pause)
        while readable:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return received
            if not chunk:
                return received
            received += chunk
            readable, _, _ = select.select([sock], [], [], 0)
    return None


def read_responses(sock: socket.socket, count: int) -> list[bytes]:
    """Read ``count`` responses (status line and body, Content-Length framed) from ``sock``."""
    reader = sock.makefile("rb")
    responses = []
    for _ in range(count):
        status = reader.readline()
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        responses.append(status.strip() + b" " + reader.read(length))
    return responses


def test_a_head_trickled_a_byte_a_second_is_cut_off(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        # One byte of a header a second, for longer than the deadline and then some.
        received = closed_while_trickling(sock, [bytes([byte]) for byte in b"X-Slow: 1234"], 1.0)
    assert received == b""  # closed, and nothing answered


def test_a_connection_that_sends_nothing_is_closed(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=10) as sock:
        readable, _, _ = select.select([sock], [], [], 8)
        assert readable
        assert sock.recv(1) == b""


def test_a_slow_head_within_the_deadline_is_answered(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=10) as sock:
        for part in (b"GET /heal", b"thz HTTP/1.1\r", b"\nHost: test\r\n", b"\r\n"):
            sock.sendall(part)
            time.sleep(0.1)
        [answer] = read_responses(sock, 1)
    assert answer.startswith(b"HTTP/1.1 200")


def test_keep_alive_requests_with_pauses_longer_than_the_deadline(
    server: tuple[str, int],
) -> None:
    """The deadline runs from a head's first byte, not between requests (uvicorn's keep-alive
    timeout, 5 s, bounds those pauses)."""
    connection = http.client.HTTPConnection(*server, timeout=10)
    try:
        statuses = []
        sockets = set()
        for _ in range(3):
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            sockets.add(id(connection.sock))
            time.sleep(1.5)
    finally:
        connection.close()
    assert statuses == [200, 200, 200]
    assert len(sockets) == 1  # one connection served all three


def test_pipelined_requests_with_bodies_are_each_answered(server: tuple[str, int]) -> None:
    """Bodies are counted out by their framing: a blank line inside one is not a head's end."""
    form = b"grant_type=password\r\n\r\nGET / HTTP/1.1"
    post = (
        b"POST /oauth/token HTTP/1.1\r\nHost: test\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: " + str(len(form)).encode() + b"\r\n\r\n" + form
    )
    chunked = (
        b"POST /oauth/token HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        b"4\r\nab\r\n\r\n5;ext=1\r\ncdefg\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(HEALTH + post + chunked + HEALTH)
        answers = read_responses(sock, 4)
        # No client credentials: each POST gets the token endpoint's own 401, not a 400 for a
        # request cut in the wrong place.
        assert [answer.split(b" ")[1] for answer in answers] == [b"200", b"401", b"401", b"200"]
        assert b"invalid_client" in answers[1]
        assert b"invalid_client" in answers[2]
        # The connection is still in step: a fifth head trickled slowly is still cut off.
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        received = closed_while_trickling(sock, [b"X", b"-", b"Y", b":", b" ", b"1"], 1.0)
    assert received == b""


def test_a_body_nobody_reads_is_cut_off_too(server: tuple[str, int]) -> None:
    """uvicorn keeps reading the body of an answered request without a deadline."""
    head = b"POST /healthz HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n"
    with socket.create_connection(server, timeout=10) as sock:
        received = closed_while_trickling(sock, [head, *([b"x"] * 8)], 1.0)
    assert received is not None  # closed before the last byte
    assert received.startswith(b"HTTP/1.1 405")  # answered first, without the body


def test_an_oversized_head_is_refused(server: tuple[str, int]) -> None:
    filler = b"X-Big: " + b"a" * (MAX_HEAD_BYTES + 1) + b"\r\n"
    with socket.create_connection(server, timeout=10) as sock:
        received = closed_while_trickling(sock, [b"GET /healthz HTTP/1.1\r\n" + filler], 5)
    assert received is not None
    assert b"200 OK" not in received


def test_a_websocket_outlives_the_head_deadline(
    server: tuple[str, int], tenant: TenantTokens
) -> None:
    base = f"http://{server[0]}:{server[1]}"
    with Subscription(base, tenant.graphql) as live, scim_client(base, tenant.scim) as scim:
        assert live.ack["type"] == "connection_ack"
        time.sleep(2.5)  # the head deadline (1 s) twice over
        created = create_user(scim)
        [event] = live.events(1)
    assert event["resourceId"] == created


@pytest.mark.parametrize(
    ("head", "framing"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0),
        (b"POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n", 12),
        (b"POST / HTTP/1.1\r\ncontent-length:7\n\n", 7),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", CHUNKED),
        (b"POST / HTTP/1.1\r\nContent-Length: ten\r\n\r\n", None),
        (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\n", 0),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", None),
    ],
)
def test_body_framing(head: bytes, framing: int | None) -> None:
    assert body_framing(head) == framing


def test_serve_takes_the_deadline_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().header_timeout_seconds == 10.0
    with pytest.raises(ValidationError):
        Settings(header_timeout_seconds=0)
    monkeypatch.setenv("BLINK_HEADER_TIMEOUT_SECONDS", "7")
    monkeypatch.setenv("BLINK_BODY_TIMEOUT_SECONDS", "20")
    configured_timeouts.cache_clear()
    try:
        assert configured_timeouts() == (7.0, 20.0)
    finally:
        configured_timeouts.cache_clear()
