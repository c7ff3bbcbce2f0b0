"""The container files: multi-stage, non-root, health-checked, and commands the CLI accepts.

No Docker engine runs here, so the files are checked as text, and every command line in them
is run through the real ``blink-directory`` command (uvicorn itself replaced by a recorder),
with the environment the container sets.
"""

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from app import cli as cli_module
from app.cli import SQLITE_ONE_WORKER
from app.metrics_exposure import MULTIPROCESS_DIR_VARIABLE

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def run_command_line(
    argv: list[str],
    environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str | None = None,
) -> tuple[int, str, dict[str, Any]]:
    """Run ``argv`` as the container would (on ``database_url``, a fresh SQLite file by
    default); returns exit code, output and uvicorn's arguments."""
    assert argv[0] == "blink-directory"
    served: dict[str, Any] = {}
    monkeypatch.setattr(cli_module.uvicorn, "run", lambda app, **options: served.update(options))
    # serve sets these for its workers: let the test's teardown restore them.
    monkeypatch.setenv(MULTIPROCESS_DIR_VARIABLE, str(tmp_path / "metrics"))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(
        "BLINK_DATABASE_URL", database_url or f"sqlite:///{tmp_path / 'directory.db'}"
    )
    monkeypatch.delenv("BLINK_METRICS_ADDRESS", raising=False)
    result = CliRunner().invoke(cli_module.cli, argv[1:])
    return result.exit_code, result.output, served


def instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage(text: str) -> list[tuple[str, str]]:
    steps = instructions(text)
    starts = [index for index, (keyword, _) in enumerate(steps) if keyword == "FROM"]
    assert len(starts) >= 2, "the Dockerfile is multi-stage"
    return steps[starts[-1] :]


def environment_of(steps: list[tuple[str, str]]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for keyword, rest in steps:
        if keyword == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                variables[name] = value
    return variables


def test_the_dockerfile_serves_as_a_user_with_a_health_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stage = final_stage((DOCKER / "Dockerfile").read_text())
    users = [rest for keyword, rest in stage if keyword == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    (health,) = [rest for keyword, rest in stage if keyword == "HEALTHCHECK"]
    assert "/readyz" in health
    assert "BLINK_PORT" in health  # probes the port the server listens on
    (command,) = [json.loads(rest) for keyword, rest in stage if keyword == "CMD"]
    variables = {
        name: value for name, value in environment_of(stage).items() if name.startswith("BLINK_")
    }
    code, output, served = run_command_line(command, variables, monkeypatch, tmp_path)
    assert code == 0, output
    # Workers, address and port come from the environment the image sets: one worker for
    # its embedded SQLite, which admits one writer.
    assert served["workers"] == int(variables["BLINK_WORKERS"]) == 1
    assert served["host"] == variables["BLINK_HOST"] == "0.0.0.0"  # noqa: S104 - in a container
    assert served["port"] == int(variables["BLINK_PORT"])
    assert served["access_log"] is False
    assert served["log_config"]["formatters"]["blink"]["log_format"] == "json"
    exposed = [rest for keyword, rest in stage if keyword == "EXPOSE"]
    assert exposed == [variables["BLINK_PORT"]]


def test_the_cli_refuses_what_it_does_not_know(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, output, served = run_command_line(
        ["blink-directory", "serve", "--threads", "4"], {}, monkeypatch, tmp_path
    )
    assert code == 2
    assert "--threads" in output
    assert served == {}
    code, _, served = run_command_line(
        ["blink-directory", "serve"], {"BLINK_WORKERS": "0"}, monkeypatch, tmp_path
    )
    assert code == 2
    assert served == {}


def test_compose_migrates_before_the_app_serves_on_postgresql_16(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    """Run on each backend: the compose file's several workers are served on PostgreSQL, and
    the same command line on SQLite is refused."""
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert services["postgres"]["image"] == "postgres:16"
    (volume,) = services["postgres"]["volumes"]
    assert volume.split(":")[0] in compose["volumes"]
    migrate, app = services["migrate"], services["app"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    url = app["environment"]["BLINK_DATABASE_URL"]
    assert url == migrate["environment"]["BLINK_DATABASE_URL"]
    assert url.startswith("postgresql://")
    assert "@postgres:5432/" in url

    code, output, _ = run_command_line(migrate["command"], {}, monkeypatch, tmp_path, database_url)
    assert code == 0, output
    assert "up to date" in output
    assert migrate["command"][1] == "migrate"
    assert app["command"][1:] == ["serve", "--no-migrate"]
    settings = {k: v for k, v in app["environment"].items() if k != "BLINK_DATABASE_URL"}
    code, output, served = run_command_line(
        app["command"], settings, monkeypatch, tmp_path, database_url
    )
    if database_url.startswith("sqlite"):
        assert code == 1
        assert SQLITE_ONE_WORKER in output
        assert served == {}
        return
    assert code == 0, output
    assert served["workers"] == int(app["environment"]["BLINK_WORKERS"]) == 2
