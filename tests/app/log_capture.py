"""Build the app with its request log written to memory, and read the lines back."""

import io
import sys
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette

from app.main import create_app
from app.settings import Settings


class CapturedLog:
    def __init__(self) -> None:
        self.raw = io.BytesIO()
        self.stream = io.TextIOWrapper(self.raw, write_through=True)
        #: Writes the request lines still waiting in their batch (``app.request_lines``).
        self.flush: Callable[[], None] = lambda: None

    def text(self) -> str:
        self.flush()
        return self.raw.getvalue().decode()

    def lines(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.text().splitlines()]

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == "request"]


def app_logging_to(
    captured: CapturedLog, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> Starlette:
    """``create_app`` writes its request log to stdout: point stdout at ``captured``."""
    monkeypatch.setattr(sys, "stdout", captured.stream)
    app = create_app(settings.model_copy(update={"log_format": "json"}))
    monkeypatch.undo()
    lines = app.state.request_lines  # None with the request log off
    if lines is not None:
        captured.flush = lines.flush
    return app
