"""Log configuration: formats, one shape for every logger, no client-error tracebacks."""

import io
import logging
import subprocess
import sys
import time

import orjson
import pytest

from app.graphql_api.errors import ApiError
from app.logging_setup import (
    DropGraphQLClientErrors,
    TracebackMarker,
    UtcTime,
    formatter,
    logging_config,
    resolve_format,
)
from app.request_context import end_request, start_request
from app.request_lines import request_lines
from graphql import GraphQLError


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_text_on_a_terminal_and_json_elsewhere() -> None:
    assert resolve_format("auto", Terminal()) == "text"
    assert resolve_format("auto", io.StringIO()) == "json"
    assert resolve_format("json", Terminal()) == "json"
    assert resolve_format("text", io.StringIO()) == "text"


def test_text_request_lines_are_readable() -> None:
    stream = io.StringIO()
    log = request_lines("text", "info", stream)
    log.write("info", {"method": "GET", "route": "/scim/Users", "status": 200}, None)
    line = stream.getvalue()
    assert "request" in line
    assert "route=/scim/Users" in line
    assert "status=200" in line
    assert not line.startswith("{")


def test_json_request_lines_below_the_level_are_dropped() -> None:
    stream = io.TextIOWrapper(io.BytesIO(), write_through=True)
    log = request_lines("json", "warning", stream)
    log.write("info", {"status": 200}, None)
    log.write("warning", {"status": 404}, None)
    lines = stream.buffer.getvalue().splitlines()  # type: ignore[attr-defined]
    assert [orjson.loads(line)["status"] for line in lines] == [404]


def record(message: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("scim.app", logging.ERROR, __file__, 1, message, (), exc_info)  # type: ignore[arg-type]


def test_standard_library_records_share_the_shape_and_carry_the_request_id() -> None:
    facts, context = start_request("req-123")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        line = formatter("json").format(record("unhandled error", sys.exc_info()))
    finally:
        end_request(context)
    data = orjson.loads(line)
    assert data["event"] == "unhandled error"
    assert (data["level"], data["logger"], data["request_id"]) == ("error", "scim.app", "req-123")
    assert "RuntimeError: boom" in data["exception"]
    assert data["time"].endswith("Z")
    assert facts.request_id == "req-123"


def test_a_traceback_is_noted_on_the_request() -> None:
    facts, context = start_request("req-1")
    try:
        TracebackMarker().filter(record("no traceback"))
        assert not facts.traceback_logged
        TracebackMarker().filter(record("with", (RuntimeError, RuntimeError(), None)))
        assert facts.traceback_logged
    finally:
        end_request(context)


@pytest.mark.parametrize(
    ("error", "kept"),
    [
        (GraphQLError("Cannot query field 'x'"), False),
        (GraphQLError("invalid cursor", original_error=ApiError("invalid cursor")), False),
        (GraphQLError("boom", original_error=RuntimeError("boom")), True),
    ],
)
def test_graphql_client_errors_are_not_logged_by_strawberry(
    error: GraphQLError, kept: bool
) -> None:
    assert DropGraphQLClientErrors().filter(record(error)) is kept
    assert DropGraphQLClientErrors().filter(record("any other message")) is True


def test_the_configuration_as_uvicorn_applies_it() -> None:
    config = logging_config("info", "json")
    assert config["loggers"]["uvicorn.access"] == {"handlers": [], "propagate": False}
    script = (
        "import logging, logging.config, sys\n"
        "from app.logging_setup import logging_config\n"
        "logging.config.dictConfig(logging_config('info', 'json'))\n"
        "logging.getLogger('sqlalchemy.engine.Engine').info('SELECT secret')\n"
        "logging.getLogger('uvicorn.access').info('GET /scim/Users?filter=x 200')\n"
        "logging.getLogger('uvicorn.error').info('Started server process')\n"
        "logging.getLogger('strawberry.execution').error('x')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    lines = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert [line["event"] for line in lines] == ["Started server process", "x"]
    assert lines[0]["logger"] == "uvicorn.error"
    assert "SELECT" not in done.stdout + done.stderr


def test_times_are_utc_iso_with_microseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    stamp = UtcTime()
    monkeypatch.setattr(time, "time_ns", lambda: 1764440305_250000000)
    assert stamp(None, "info", {})["time"] == "2025-11-29T18:18:25.250000Z"
    monkeypatch.setattr(time, "time_ns", lambda: 1764440306_000001999)
    assert stamp(None, "info", {})["time"] == "2025-11-29T18:18:26.000001Z"


def test_json_lines_reach_a_text_only_stream() -> None:
    stream = io.StringIO()
    request_lines("json", "info", stream).write("error", {"status": 500}, RuntimeError("x"))
    line = orjson.loads(stream.getvalue())
    assert (line["status"], line["level"], line["event"]) == (500, "error", "request")
    assert "RuntimeError: x" in line["exception"]
