"""Where a function runs: on the event loop's thread, or in a worker thread."""

import asyncio
from typing import Any

import pytest


def on_event_loop() -> bool:
    """Whether the caller runs on an event loop's thread (a worker thread has no running loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def record_where(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[bool]:
    """Wrap ``owner.name`` (a module's function, looked up when called) to note, per call,
    whether it ran on the event loop; the returned list fills as it is called."""
    original = getattr(owner, name)
    on_loop: list[bool] = []

    def recorded(*args: Any, **kwargs: Any) -> Any:
        on_loop.append(on_event_loop())
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, recorded)
    return on_loop
