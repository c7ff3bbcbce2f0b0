"""The instruction-count driver: every phase it counts answers Entra's look-up (no valgrind)."""

import asyncio
from pathlib import Path

import pytest

from bench import instructions


def test_every_phase_answers_the_look_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instructions, "WORK", tmp_path)
    monkeypatch.setattr(instructions, "WARM_UP", 2)
    monkeypatch.setattr(instructions, "_marker", lambda: None)
    # serve's logging configuration would replace the test run's own handlers
    monkeypatch.setattr(instructions.logging.config, "dictConfig", lambda config: None)
    bench = instructions._database(60)
    app = instructions._app(bench.url)
    paths = instructions._paths(bench.org, 10)
    names: list[str] = []

    async def run() -> None:
        # Each phase checks its answers (200 and one match) and stops the driver otherwise.
        await instructions._lookups(app, paths, bench.scim_token, 3, breakdown=True, wait=False)

    capture = _Names(names)
    monkeypatch.setattr(instructions.sys, "stderr", capture)
    asyncio.run(run())
    assert names[:2] == ["the whole app", "the whole app, again"]
    # Every layer between the server and the endpoint is entered on its own.
    for layer in (
        "app: RequestLog",
        "app: Router",
        "mount: RequireToken",
        "SCIM app: ActivityLog",
        "GET /Users endpoint: ListUsersEndpoint",
        "store: list_users through Database.read",
        "store: the same SELECT on the sqlite3 driver alone",
        "the whole app, request log off",
    ):
        assert layer in names


class _Names:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def write(self, text: str) -> int:
        if text.startswith("phase: "):
            self.names.append(text.removeprefix("phase: ").strip())
        return len(text)

    def flush(self) -> None:
        pass
