"""Where request log lines go: JSON lines written in batches, or readable text on a terminal.

Every request pays for its line, so the JSON writer does the least that makes a correct line:
one dict, one ``orjson`` encoding, and no system call of its own. Encoded lines are held in
memory and written together, the way nginx's ``access_log ... buffer= flush=`` does:

* at most ``FLUSH_SECONDS`` after the first line of a batch (a timer on the event loop), or
  when a batch reaches ``MAX_BATCH_BYTES``;
* at once for a ``warning`` or ``error`` line, together with the lines waiting before it, so a
  failure is never held back;
* when the app shuts down (the lifespan calls ``flush``) and when the interpreter exits, so a
  normal stop loses nothing. Only a process killed outright loses the lines of its last
  ``FLUSH_SECONDS``.

Lines wait encoded (bytes, which the garbage collector does not track), not as their fields.
Lines of other loggers (uvicorn, tracebacks) are written as they come, so in the output they
may precede request lines that were still waiting in a batch; every line carries its time.

Text is for people at a terminal, where cost does not matter: structlog's console renderer lays
it out, and each line is written at once.
"""

import asyncio
import atexit
import logging
import sys
import time
import traceback
import weakref
from typing import Any, Protocol, TextIO

import orjson
import structlog

from app.logging_setup import Format, UtcTime, resolve_format, text_renderer

LEVELS = logging.getLevelNamesMapping()
#: The longest a request line waits in memory before it is written.
FLUSH_SECONDS = 0.5
#: A batch this large is written at once (a few hundred lines).
MAX_BATCH_BYTES = 64 * 1024


class RequestLines(Protocol):
    def write(self, level: str, fields: dict[str, Any], error: BaseException | None) -> None:
        """Write one line at ``level`` ("info", "warning", "error"), with ``error``'s traceback."""

    def flush(self) -> None:
        """Write every line still waiting."""


def _traceback(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


#: Writers with lines that may still wait, flushed when the interpreter exits.
_open_writers: "weakref.WeakSet[JsonLines]" = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for writer in list(_open_writers):
        writer.flush()


class JsonLines:
    def __init__(
        self,
        stream: TextIO,
        level: str,
        *,
        flush_seconds: float = FLUSH_SECONDS,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        self.minimum = LEVELS[level.upper()]
        self.stream = stream
        self.buffer = getattr(stream, "buffer", None)  # None: a text-only stream
        self.stamp = UtcTime()
        self.flush_seconds = flush_seconds
        self.max_batch_bytes = max_batch_bytes
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        #: When the waiting batch is due (time.monotonic), or None when nothing waits.
        self._due: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        _open_writers.add(self)

    def write(self, level: str, fields: dict[str, Any], error: BaseException | None) -> None:
        if LEVELS[level.upper()] < self.minimum:
            return
        line: dict[str, Any] = {
            "level": level,
            "event": "request",
            "time": self.stamp.format(time.time_ns()),
            **fields,
        }
        if error is not None:
            line["exception"] = _traceback(error)
        data = orjson.dumps(line, default=str, option=orjson.OPT_APPEND_NEWLINE)
        self._batch.append(data)
        self._batch_bytes += len(data)
        if level != "info" or self._batch_bytes >= self.max_batch_bytes:
            self.flush()
        elif self._due is None:
            self._start_batch()
        elif time.monotonic() >= self._due:
            # The timer is late: its event loop is blocked or gone (a test client's loop
            # that ended without a shutdown). Write now instead of waiting for it.
            self.flush()

    def _start_batch(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop to write the batch later: write it now
            self.flush()
            return
        self._due = time.monotonic() + self.flush_seconds
        self._timer = loop.call_later(self.flush_seconds, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._due = None
        if not self._batch:
            return
        data = b"".join(self._batch)
        self._batch.clear()
        self._batch_bytes = 0
        if self.buffer is not None:
            self.buffer.write(data)
            self.buffer.flush()
        else:
            self.stream.write(data.decode())
            self.stream.flush()


class TextLines:
    def __init__(self, stream: TextIO, level: str) -> None:
        self.log = structlog.wrap_logger(
            structlog.PrintLogger(stream),
            processors=[
                structlog.processors.add_log_level,
                UtcTime(),
                text_renderer(colors=resolve_format("auto", stream) == "text"),
            ],
            wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level.upper()]),
        )

    def write(self, level: str, fields: dict[str, Any], error: BaseException | None) -> None:
        if error is not None:
            fields = {**fields, "exc_info": error}
        getattr(self.log, level)("request", **fields)

    def flush(self) -> None:
        """Nothing waits: each text line is written as it comes."""


def request_lines(log_format: Format, level: str, stream: TextIO | None = None) -> RequestLines:
    stream = stream or sys.stdout
    if log_format == "json":
        return JsonLines(stream, level)
    return TextLines(stream, level)
