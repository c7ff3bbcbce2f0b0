"""The blink-directory command: tenants, tokens, first run, and one-line errors."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import SQLITE_ONE_WORKER, cli
from db.database import Database
from db.tokens import find_grant

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def captured_serve(monkeypatch: pytest.MonkeyPatch, url: str) -> list[dict[str, object]]:
    """``serve`` against ``url`` (exported as its workers get it), with uvicorn replaced: the
    options of each ``uvicorn.run`` it makes are appended to the list returned."""
    monkeypatch.setenv("BLINK_DATABASE_URL", url)
    calls: list[dict[str, object]] = []
    monkeypatch.setattr("app.cli.uvicorn.run", lambda *args, **kwargs: calls.append(kwargs))
    return calls


def test_tenant_create_and_list(database_url: str) -> None:
    code, out, _ = run(
        "tenant", "create", "acme", "--name", "Acme Corp", "--database-url", database_url
    )
    assert code == 0
    assert "acme" in out
    code, out, _ = run("tenant", "list", "--database-url", database_url)
    assert code == 0
    assert "acme" in out
    assert "Acme Corp" in out


def test_token_create_prints_the_secret_last_and_only_there(
    database_url: str, database: Database
) -> None:
    run("tenant", "create", "acme", "--database-url", database_url)
    code, out, err = run(
        "token", "create", "--tenant", "acme", "--scope", "scim", "--database-url", database_url
    )
    assert code == 0
    *preamble, secret = out.strip().splitlines()
    assert secret.startswith("bdir_")
    assert secret not in "\n".join(preamble) + err
    grant = database.read_sync(lambda connection: find_grant(connection, secret))
    assert grant is not None
    assert grant.tenant_slug == "acme"

    code, listing, _ = run("token", "list", "--database-url", database_url)
    assert code == 0
    assert "scim" in listing
    assert secret not in listing
    assert secret[:12] not in listing


def test_token_revoke(database_url: str, database: Database) -> None:
    run("tenant", "create", "acme", "--database-url", database_url)
    _, out, _ = run(
        "token", "create", "--tenant", "acme", "--scope", "graphql", "--database-url", database_url
    )
    secret = out.strip().splitlines()[-1]
    grant = database.read_sync(lambda connection: find_grant(connection, secret))
    assert grant is not None
    code, out, _ = run("token", "revoke", str(grant.token_id), "--database-url", database_url)
    assert code == 0
    assert database.read_sync(lambda connection: find_grant(connection, secret)) is None
    code, _, err = run("token", "revoke", "999", "--database-url", database_url)
    assert code == 1
    assert err == "error: no token with id 999\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("token", "create", "--tenant", "nope", "--scope", "scim"), "error: no tenant 'nope'"),
        (("tenant", "create", "Bad Slug"), "error: invalid tenant slug 'Bad Slug'"),
    ],
)
def test_store_errors_are_one_line(database_url: str, args: tuple[str, ...], expected: str) -> None:
    code, _, err = run(*args, "--database-url", database_url)
    assert code == 1
    assert err.startswith(expected)
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_duplicate_tenant_is_one_line(database_url: str) -> None:
    run("tenant", "create", "acme", "--database-url", database_url)
    code, _, err = run("tenant", "create", "acme", "--database-url", database_url)
    assert (code, err) == (1, "error: tenant 'acme' already exists\n")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://nobody@127.0.0.1:1/nothing", "error: database unreachable:"),
        ("mysql://x@y/z", "error: invalid configuration: BLINK_DATABASE_URL"),
        ("::nonsense::", "error: invalid configuration: BLINK_DATABASE_URL"),
    ],
)
def test_bad_database_urls_are_one_line(url: str, expected: str) -> None:
    code, _, err = run("tenant", "list", "--database-url", url)
    assert code == 1
    assert err.startswith(expected)
    assert err.count("\n") == 1


def test_migrate(database_url: str) -> None:
    code, out, _ = run("migrate", "--database-url", database_url)
    assert code == 0
    assert "up to date" in out


def test_serve_first_run_prints_urls_and_secrets_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/fresh/directory.db"
    # serve exports BLINK_DATABASE_URL for its workers; monkeypatch removes it afterwards.
    calls = captured_serve(monkeypatch, url)

    code, first, _ = run("serve", "--port", "8123", "--database-url", url)
    assert code == 0
    assert "http://127.0.0.1:8123/scim" in first
    assert "http://127.0.0.1:8123/graphql" in first
    assert "http://127.0.0.1:8123/orgchart" in first
    assert "blink-directory demo" in first  # an empty directory: how to see an org chart
    secrets = [line.split()[-1] for line in first.splitlines() if "bdir_" in line]
    assert len(secrets) == 2
    assert calls[0]["port"] == 8123
    assert calls[0]["factory"] is True

    database = Database(url)
    try:
        grants = [database.read_sync(lambda c, s=s: find_grant(c, s)) for s in secrets]
    finally:
        database.dispose()
    assert {grant.scope.value for grant in grants if grant} == {"scim", "graphql"}
    assert {grant.tenant_slug for grant in grants if grant} == {"default"}

    code, second, _ = run("serve", "--port", "8123", "--database-url", url)
    assert code == 0
    assert "http://127.0.0.1:8123/scim" in second
    assert "bdir_" not in second

    assert run("demo", "--users", "20", "--database-url", url)[0] == 0
    code, third, _ = run("serve", "--port", "8123", "--database-url", url)
    assert code == 0
    assert "blink-directory demo" not in third  # people are there now


@pytest.mark.parametrize("how", [("--workers", "2"), ()])
def test_serve_refuses_several_workers_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: tuple[str, ...]
) -> None:
    calls = captured_serve(monkeypatch, f"sqlite:///{tmp_path}/directory.db")
    monkeypatch.setenv("BLINK_WORKERS", "3")  # as the container sets it; --workers wins
    code, out, err = run("serve", *how)
    assert code == 1
    assert err.strip() == f"error: {SQLITE_ONE_WORKER}"
    assert "\n" not in err.strip()
    assert calls == []
    code, out, _ = run("serve", "--workers", "1")
    assert code == 0, out
    assert calls[0]["workers"] == 1
