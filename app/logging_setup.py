"""Logging for ``serve``: every line structured, JSON off a terminal and readable text on one.

Two paths share one shape (``time``, ``level``, ``event``, ``request_id``, ...):

* the request log writes its lines itself (``app.request_lines``), straight to the stream;
* everything else (uvicorn, the SCIM app's unexpected errors, strawberry) goes through the
  standard library, configured by ``logging_config`` (handed to uvicorn as its ``log_config``)
  and rendered by structlog's ``ProcessorFormatter`` with the same renderer.

uvicorn's access line is off (``serve`` passes ``access_log=False``): the request log replaces
it, without the query string. Client mistakes in GraphQL (bad arguments, validation errors)
are not logged by strawberry with a traceback: the request line names their codes.
"""

import logging
import sys
import time
from typing import Any, Literal, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from app.graphql_api.errors import should_mask
from app.request_context import current_request
from graphql import GraphQLError

Format = Literal["json", "text"]

#: Loggers that get the configured level; everything else (SQLAlchemy above all, whose
#: engine logs every statement at INFO) stays at WARNING.
APP_LOGGERS = ("app", "scim", "db", "uvicorn", "strawberry", "blink")


def resolve_format(log_format: str, stream: TextIO | None = None) -> Format:
    """``auto`` is text on a terminal and JSON otherwise (files, pipes, containers)."""
    if log_format == "json":
        return "json"
    if log_format == "text":
        return "text"
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def _dumps(value: Any, **_: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def add_request_id(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
    facts = current_request()
    if facts is not None:
        event.setdefault("request_id", facts.request_id)
    return event


class UtcTime:
    """``time``: ISO 8601 in UTC with microseconds, the date and second formatted once a second
    (every request line pays for this processor)."""

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")

    def __call__(self, logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        event["time"] = self.format(time.time_ns())
        return event

    def format(self, time_ns: int) -> str:
        """``time_ns`` (``time.time_ns()``) as the ``time`` field."""
        second, nanoseconds = divmod(time_ns, 1_000_000_000)
        cached = self._second
        if cached[0] != second:
            cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
            self._second = cached
        return f"{cached[1]}.{nanoseconds // 1000:06d}Z"


def _timestamper() -> Processor:
    return UtcTime()


def text_renderer(colors: bool) -> Processor:
    return structlog.dev.ConsoleRenderer(colors=colors, timestamp_key="time")


def formatter(log_format: Format = "json") -> logging.Formatter:
    """The standard library's formatter: same fields and renderer as the request log."""
    renderer: Processor
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_dumps)
        pre: list[Processor] = [structlog.processors.format_exc_info]
    else:
        renderer = text_renderer(colors=resolve_format("auto") == "text")
        pre = []
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            _timestamper(),
            add_request_id,
            *pre,
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


class TracebackMarker(logging.Filter):
    """Notes on the current request that its traceback has been written (write it once)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            facts = current_request()
            if facts is not None:
                facts.traceback_logged = True
        return True


class DropGraphQLClientErrors(logging.Filter):
    """strawberry logs every GraphQL error with its traceback; keep only unexpected ones.

    A bad argument, a validation error or an exceeded limit is the client's mistake: the
    request line carries its error code. Unexpected errors keep their traceback (once).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.msg
        return not isinstance(error, GraphQLError) or should_mask(error)


def logging_config(level: str, log_format: Format) -> dict[str, Any]:
    """``logging.config.dictConfig`` input for uvicorn's ``log_config`` (every worker)."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "traceback_marker": {"()": "app.logging_setup.TracebackMarker"},
            "graphql_client_errors": {"()": "app.logging_setup.DropGraphQLClientErrors"},
        },
        "formatters": {
            "blink": {"()": "app.logging_setup.formatter", "log_format": log_format},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "blink",
                "filters": ["traceback_marker"],
            },
        },
        "loggers": {
            **{name: {"level": level} for name in APP_LOGGERS},
            "uvicorn.access": {"handlers": [], "propagate": False},
            "strawberry.execution": {"level": level, "filters": ["graphql_client_errors"]},
        },
        "root": {"handlers": ["stdout"], "level": "WARNING"},
    }
