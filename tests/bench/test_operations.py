"""bench.operations: every frontend operation answers with data through the whole app."""

from pathlib import Path

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
