"""A deadline for receiving each request head, below uvicorn's HTTP protocol.

uvicorn reads a request head for as long as the client takes: its keep-alive timer is cancelled
by every byte received and only armed again after a response, and a new connection that sends
nothing has no timer at all. A client that trickles a head one byte every few seconds (or opens
connections and sends nothing) holds them for ever, and the app cannot help: it is called only
once the head is complete. So the HTTP protocol that ``serve`` gives uvicorn (its ``http``
setting, which takes an ``asyncio.Protocol`` class) is :class:`HeaderTimeoutProtocol`: it makes
the protocol uvicorn would have used with the same arguments, passes every event on to it
unchanged, and only watches the bytes received:

* a connection's first head, and every later head from its first byte, must end (a blank line)
  within ``BLINK_HEADER_TIMEOUT_SECONDS``; a head also may not grow past ``MAX_HEAD_BYTES``
  (httptools, which uvicorn prefers, sets no bound of its own). Past either, the connection is
  closed, as nginx does for ``client_header_timeout``: a 408 could land in the middle of the
  answer to an earlier, pipelined request.
* after a head, its body is counted out by its framing (``Content-Length``, or chunked), so the
  next head on a keep-alive connection is recognised wherever it starts (pipelined or not) and
  a blank line inside a body is never taken for the end of a head. A body must be complete
  within the body timeout plus the head timeout: the app's own deadline (``BodyTimeout``, 408)
  answers first for a body it reads; this one closes connections whose body nobody reads
  (uvicorn keeps reading the body of a request that was already answered, without a deadline).
* a WebSocket upgrade hands the transport to uvicorn's WebSocket protocol, so this one sees no
  more bytes and sets no more deadlines.

Where uvicorn's own protocol class comes from: its ``HTTP_PROTOCOLS`` table, the one that
resolves the documented ``--http auto`` (see docs/security.md for why, and what else was
weighed). No uvicorn internals are subclassed and no private attribute is used: the wrapped
protocol is driven only through ``asyncio.Protocol``'s interface.
"""

import asyncio
import logging
import re
from enum import Enum, auto
from functools import cache
from typing import Any, ClassVar, cast

from uvicorn.config import HTTP_PROTOCOLS
from uvicorn.importer import import_from_string

from app.settings import Settings

log = logging.getLogger(__name__)

# Twice h11's bound (16 KiB, what uvicorn answers 400 past on the h11 path); real heads (a
# bearer token, a few headers) are well under 4 KiB.
MAX_HEAD_BYTES = 32 * 1024
# A chunk-size or trailer line longer than this is not HTTP; the connection is closed.
MAX_LINE_BYTES = 4 * 1024

# The end of a head: an empty line, with or without its carriage return (h11 accepts both).
HEAD_END = re.compile(rb"\n\r?\n")


class Phase(Enum):
    HEAD = auto()  # before or in a head
    BODY = auto()  # counting out a Content-Length body
    CHUNK_SIZE = auto()  # chunked body: reading a chunk-size line
    CHUNK_DATA = auto()  # chunked body: counting out a chunk and its CRLF
    TRAILERS = auto()  # chunked body: trailer lines up to an empty one


CHUNKED = -1


def body_framing(head: bytes) -> int | None:
    """The body length a head announces, ``CHUNKED``, or None when it cannot be told (uvicorn
    answers such a head 400 and closes the connection)."""
    lower = head.lower()
    if b"\nupgrade:" in lower:
        # Counted as bodiless: after a WebSocket upgrade uvicorn hands the connection to its
        # WebSocket protocol and no body deadline of this one may be left running.
        return 0
    if b"\ntransfer-encoding:" in lower:
        return CHUNKED
    at = lower.find(b"\ncontent-length:")
    if at < 0:
        return 0
    start = at + len(b"\ncontent-length:")
    end = lower.find(b"\n", start)
    try:
        length = int(lower[start:end])
    except ValueError:
        return None
    return length if length >= 0 else None


#: The class uvicorn's documented ``--http auto`` stands for (httptools, else h11), resolved
#: when this module is imported: a uvicorn that no longer resolves it stops ``serve`` at start.
UVICORN_HTTP_PROTOCOL: type[asyncio.Protocol] = import_from_string(HTTP_PROTOCOLS["auto"])


@cache
def configured_timeouts() -> tuple[float, float]:
    """(head seconds, body seconds) from the environment, read once per worker process."""
    settings = Settings()
    return settings.header_timeout_seconds, settings.body_timeout_seconds


class HeaderTimeoutProtocol(asyncio.Protocol):
    """uvicorn's HTTP protocol, with a deadline for each request head (see the module doc).

    The timeouts come from the environment (``BLINK_HEADER_TIMEOUT_SECONDS``,
    ``BLINK_BODY_TIMEOUT_SECONDS``), which every worker process of ``serve`` shares; a server
    in this process may pass its own with :meth:`with_timeouts`.
    """

    header_seconds: ClassVar[float | None] = None
    body_seconds: ClassVar[float | None] = None

    @classmethod
    def with_timeouts(
        cls, header_seconds: float, body_seconds: float
    ) -> type["HeaderTimeoutProtocol"]:
        attributes = {"header_seconds": header_seconds, "body_seconds": body_seconds}
        return cast(type[HeaderTimeoutProtocol], type(cls.__name__, (cls,), attributes))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Whatever uvicorn passes (its config and server state) goes to its own protocol as is.
        self.inner = UVICORN_HTTP_PROTOCOL(*args, **kwargs)
        if self.header_seconds is None or self.body_seconds is None:
            header, body = configured_timeouts()
        else:
            header, body = self.header_seconds, self.body_seconds
        self.head_seconds = header
        # The app's body deadline runs from its first read, a moment after the head: give it
        # the head timeout's length to answer its 408 before this one closes the connection.
        self.body_deadline_seconds = body + self.head_seconds
        self.phase = Phase.HEAD
        self.pending = bytearray()  # the head, or the line, received so far
        self.remaining = 0  # bytes left of a body or of a chunk
        self.timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.BaseTransport | None = None

    # --- asyncio.Protocol, passed on ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        # A connection that sends nothing must not be held either: its first head is due too.
        self._arm(self.head_seconds)
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._watch(data):
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    # --- the deadlines ----------------------------------------------------------------------

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self.timer = asyncio.get_running_loop().call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _expire(self) -> None:
        self.timer = None
        self._refuse("request head or body not received in time")

    def _refuse(self, reason: str) -> None:
        """Close the connection, and say so: an operator sees slow or oversized heads (a
        slowloris, a misbehaving proxy) that never reach the request log."""
        if self.transport is not None and not self.transport.is_closing():
            peer = self.transport.get_extra_info("peername")
            client = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "unknown"
            log.warning("connection from %s closed: %s", client, reason)
        self._close()

    def _close(self) -> None:
        self._disarm()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def _watch(self, data: bytes) -> bool:
        """Follow the request framing through ``data``; False when the connection was closed."""
        position, size = 0, len(data)
        while position < size:
            phase = self.phase
            if phase is Phase.HEAD:
                position = self._head(data, position)
                if position < 0:
                    return False
            elif phase is Phase.BODY or phase is Phase.CHUNK_DATA:
                taken = min(self.remaining, size - position)
                self.remaining -= taken
                position += taken
                if self.remaining == 0:
                    if phase is Phase.BODY:
                        self._body_done()
                    else:
                        self.phase = Phase.CHUNK_SIZE
            else:
                position = self._line(data, position)
                if position < 0:
                    return False
        return True

    def _head(self, data: bytes, position: int) -> int:
        before = len(self.pending)
        if before == 0:
            # The usual case, a whole head in one read: no copy and no timer.
            match = HEAD_END.search(data, position)
            if match is None:
                self._start_head()
                self.pending += data[position:]
                return self._bounded(len(data))
            end = match.end()
            head = data[position:end]
        else:
            self.pending += data[position:]
            # An end of head may straddle two reads: look again from its longest length back.
            match = HEAD_END.search(self.pending, max(0, before - 2))
            if match is None:
                return self._bounded(len(data))
            head = bytes(self.pending[: match.end()])
            end = position + match.end() - before
            self.pending.clear()
        if len(head) > MAX_HEAD_BYTES:
            self._refuse("request head too large")
            return -1
        self._head_done(head)
        return end

    def _start_head(self) -> None:
        if self.timer is None:
            self._arm(self.head_seconds)  # the first byte of a head starts its deadline

    def _bounded(self, consumed: int) -> int:
        if len(self.pending) > MAX_HEAD_BYTES:
            self._refuse("request head too large")
            return -1
        return consumed

    def _head_done(self, head: bytes) -> None:
        framing = body_framing(head)
        if framing == 0:
            self._disarm()  # the next head's deadline starts with its first byte
            return
        if framing is None:
            return  # uvicorn refuses this head and closes; the deadline stays until then
        self._arm(self.body_deadline_seconds)
        if framing == CHUNKED:
            self.phase = Phase.CHUNK_SIZE
        else:
            self.phase = Phase.BODY
            self.remaining = framing

    def _body_done(self) -> None:
        self._disarm()
        self.phase = Phase.HEAD

    def _line(self, data: bytes, position: int) -> int:
        """A chunk-size or trailer line of a chunked body."""
        newline = data.find(b"\n", position)
        end = len(data) if newline < 0 else newline
        self.pending += data[position:end]
        if len(self.pending) > MAX_LINE_BYTES:
            self._refuse("chunk line too large")
            return -1
        if newline < 0:
            return len(data)
        line = bytes(self.pending).strip()
        self.pending.clear()
        if self.phase is Phase.TRAILERS:
            if not line:
                self._body_done()
            return newline + 1
        try:
            chunk = int(line.split(b";", 1)[0], 16)
        except ValueError:
            return newline + 1  # uvicorn refuses the body and closes; the deadline stays
        if chunk == 0:
            self.phase = Phase.TRAILERS
        else:
            self.phase = Phase.CHUNK_DATA
            self.remaining = chunk + 2  # the chunk and the CRLF after it
        return newline + 1
