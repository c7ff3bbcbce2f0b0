"""blink-directory client: create, list, rotate and revoke OAuth clients and secrets."""

import re

from typer.testing import CliRunner

from app.cli import cli
from db.database import Database
from db.oauth_clients import CLIENT_SECRET_PREFIX, authenticate_client, list_clients
from db.types import utcnow

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def authenticates(database: Database, client_id: str, secret: str) -> bool:
    found = database.read_sync(
        lambda connection: authenticate_client(connection, client_id, secret, utcnow())
    )
    return found is not None


def test_the_client_lifecycle(database_url: str, database: Database) -> None:
    db = ("--database-url", database_url)
    run("tenant", "create", "acme", *db)
    code, out, err = run(
        "client", "create", "--tenant", "acme", "--scope", "scim", "--name", "Entra",
        "--secret-days", "90", *db,
    )  # fmt: skip
    assert code == 0, err
    *preamble, secret = out.strip().splitlines()
    assert secret.startswith(CLIENT_SECRET_PREFIX)
    assert secret not in "\n".join(preamble) + err
    [client_id] = re.findall(r"client id: (\S+)", out)
    assert authenticates(database, client_id, secret)
    [client] = database.read_sync(list_clients)
    assert (client.secrets[0].expires - client.created).days == 90

    code, out, _ = run("client", "secret", "add", client_id, "--days", "30", *db)
    assert code == 0
    second = out.strip().splitlines()[-1]
    assert second.startswith(CLIENT_SECRET_PREFIX)
    assert second != secret
    assert authenticates(database, client_id, secret)
    assert authenticates(database, client_id, second)

    code, listing, _ = run("client", "list", "--tenant", "acme", *db)
    assert code == 0
    assert client_id in listing
    assert "Entra" in listing
    assert secret not in listing
    assert second not in listing
    first_id = database.read_sync(list_clients)[0].secrets[0].id

    code, out, _ = run("client", "secret", "revoke", client_id, str(first_id), *db)
    assert code == 0
    assert not authenticates(database, client_id, secret)
    assert authenticates(database, client_id, second)
    lines = run("client", "list", *db)[1].splitlines()
    assert lines[0].startswith(f"{client_id}  tenant acme  scope scim  active")
    assert lines[1].startswith(f"  secret {first_id}  expires")
    assert "revoked" in lines[1]
    assert "revoked" not in lines[2]

    code, out, _ = run("client", "revoke", client_id, *db)
    assert code == 0
    assert not authenticates(database, client_id, second)


def test_client_errors_are_one_line(database_url: str) -> None:
    db = ("--database-url", database_url)
    code, _, err = run("client", "create", "--tenant", "nope", "--scope", "scim", *db)
    assert (code, err) == (1, "error: no tenant 'nope'\n")
    code, _, err = run("client", "secret", "add", "bdc_nobody", *db)
    assert (code, err) == (1, "error: no active OAuth client with id 'bdc_nobody'\n")
    code, _, err = run("client", "revoke", "bdc_nobody", *db)
    assert code == 1
    assert err.startswith("error: no OAuth client")
    run("tenant", "create", "acme", *db)
    code, _, err = run(
        "client", "create", "--tenant", "acme", "--scope", "scim", "--secret-days", "0", *db
    )
    assert code == 2  # typer refuses a secret valid for less than a day
    code, _, err = run(
        "client", "create", "--tenant", "acme", "--scope", "scim", "--secret-days", "1096", *db
    )
    assert code == 2  # or for more than three years, as Entra's gallery requires
