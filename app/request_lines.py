"""Where request log lines go: JSON lines written directly, or readable text on a terminal.

Every request pays for its line, so the JSON writer does the least that makes a correct line:
one dict, one ``orjson`` encoding, one write of the whole line. Measured per line, that costs a
fraction of structlog's processor pipeline or the standard library's ``LogRecord`` path, which
kept the look-up below its target. Text is for people at a terminal, where cost does not
matter: structlog's console renderer lays it out.
"""

import logging
import sys
import traceback
from typing import Any, Protocol, TextIO

import orjson
import structlog

from app.logging_setup import Format, UtcTime, resolve_format, text_renderer

LEVELS = logging.getLevelNamesMapping()


class RequestLines(Protocol):
    def write(self, level: str, fields: dict[str, Any], error: BaseException | None) -> None:
        """Write one line at ``level`` ("info", "warning", "error"), with ``error``'s traceback."""


def _traceback(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


class JsonLines:
    def __init__(self, stream: TextIO, level: str) -> None:
        self.minimum = LEVELS[level.upper()]
        self.stream = stream
        self.buffer = getattr(stream, "buffer", None)  # None: a text-only stream
        self.stamp = UtcTime()

    def write(self, level: str, fields: dict[str, Any], error: BaseException | None) -> None:
        if LEVELS[level.upper()] < self.minimum:
            return
        line: dict[str, Any] = {"level": level, "event": "request"}
        self.stamp(None, level, line)
        line.update(fields)
        if error is not None:
            line["exception"] = _traceback(error)
        data = orjson.dumps(line, default=str) + b"\n"
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


def request_lines(log_format: Format, level: str, stream: TextIO | None = None) -> RequestLines:
    stream = stream or sys.stdout
    if log_format == "json":
        return JsonLines(stream, level)
    return TextLines(stream, level)
