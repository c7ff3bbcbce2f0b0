"""bench.operations: every frontend operation answers with data through the whole app."""

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bench import instructions, operations
from bench.frontend import operations as frontend_operations


def test_every_operation_is_timed_and_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(operations, "WORK", tmp_path)
    monkeypatch.setattr(operations, "WARM_UP", 2)
    monkeypatch.setattr(instructions.logging.config, "dictConfig", lambda config: None)
    # A wrong answer (an error, no data, a status other than 200) ends the run: SystemExit.
    operations.main(["--size", "60", "--runs", "3", "--rounds", "1"])
    timed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if "µs" in line]
    assert timed == [operation.name for operation in frontend_operations()]


def test_postgres_runs_on_a_database_of_its_own_per_size() -> None:
    url = operations._database_url(20_000, "postgresql+psycopg://postgres@127.0.0.1:5432/x_bench")
    assert url == "postgresql+psycopg://postgres@127.0.0.1:5432/x_bench_operations_20000"


@pytest.mark.parametrize("concurrency", [1, 16])
def test_requests_are_sent_once_each_with_as_many_in_flight_as_asked(concurrency: int) -> None:
    answered: list[str] = []
    in_flight = most = 0

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0)  # let the other senders in
        in_flight -= 1
        answered.append(scope["query_string"].decode())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"data": {"n": 1}}'})

    scopes = [instructions._scope(f"/graphql?n={n}", "token") for n in range(40)]
    asyncio.run(operations._send(app, scopes, concurrency))
    assert sorted(answered) == sorted(f"n={n}" for n in range(40))
    assert most == concurrency
