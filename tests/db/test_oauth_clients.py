"""OAuth clients: secrets and access tokens stored only as hashes; rotation; revocation."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, select

from db.database import Database
from db.errors import NotFound
from db.oauth_clients import (
    ACCESS_TOKEN_PREFIX,
    CLIENT_SECRET_PREFIX,
    add_secret,
    authenticate_client,
    create_client,
    find_access_grant,
    issue_access_token,
    list_clients,
    revoke_client,
    revoke_secret,
)
from db.tables import oauth_access_tokens, oauth_client_secrets
from db.tenants import create_tenant
from db.tokens import TokenScope

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_secrets_and_access_tokens_are_stored_only_as_sha256(database: Database) -> None:
    def work(connection: Connection) -> tuple[str, str, list[str], list[str]]:
        create_tenant(connection, "acme")
        _, issued = create_client(connection, "acme", TokenScope.SCIM, NOW)
        client = authenticate_client(connection, issued.client_id, issued.secret, NOW)
        assert client is not None
        token = issue_access_token(connection, client, NOW, HOUR).token
        secrets = connection.execute(select(oauth_client_secrets.c.secret_hash)).scalars().all()
        tokens = connection.execute(select(oauth_access_tokens.c.token_hash)).scalars().all()
        return issued.secret, token, list(secrets), list(tokens)

    secret, token, stored_secrets, stored_tokens = database.write_sync(work)
    assert secret.startswith(CLIENT_SECRET_PREFIX)
    assert token.startswith(ACCESS_TOKEN_PREFIX)
    assert len(secret) >= len(CLIENT_SECRET_PREFIX) + 43  # 32 random bytes
    assert stored_secrets == [sha256(secret)]
    assert stored_tokens == [sha256(token)]


def test_a_grant_names_tenant_scope_client_and_expiry(database: Database) -> None:
    def work(connection: Connection) -> tuple[str, str]:
        create_tenant(connection, "acme", "Acme Corp")
        _, issued = create_client(connection, "acme", TokenScope.GRAPHQL, NOW, "reader")
        client = authenticate_client(connection, issued.client_id, issued.secret, NOW)
        assert client is not None
        return issued.client_id, issue_access_token(connection, client, NOW, HOUR).token

    client_id, token = database.write_sync(work)
    grant = database.read_sync(lambda connection: find_access_grant(connection, token, NOW))
    assert grant is not None
    assert (grant.tenant_slug, grant.tenant_name, grant.scope) == (
        "acme",
        "Acme Corp",
        TokenScope.GRAPHQL,
    )
    assert (grant.client_id, grant.expires) == (client_id, NOW + HOUR)
    assert grant.token_name == f"OAuth client {client_id} (reader)"
    assert grant.principal == f"client:{client_id}"
    later = NOW + HOUR
    assert (
        database.read_sync(lambda connection: find_access_grant(connection, token, later)) is None
    )
    assert (
        database.read_sync(lambda connection: find_access_grant(connection, token + "x", NOW))
        is None
    )


def test_a_secret_authenticates_its_own_client_only(database: Database) -> None:
    def work(connection: Connection) -> list[object]:
        create_tenant(connection, "acme")
        _, first = create_client(connection, "acme", TokenScope.SCIM, NOW)
        _, second = create_client(connection, "acme", TokenScope.SCIM, NOW)
        return [
            authenticate_client(connection, first.client_id, second.secret, NOW),
            authenticate_client(connection, first.client_id, first.secret, NOW),
        ]

    wrong, right = database.write_sync(work)
    assert wrong is None
    assert right is not None


def test_listing_shows_every_secret_and_its_state_never_the_secret(database: Database) -> None:
    def work(connection: Connection) -> tuple[str, str, int]:
        create_tenant(connection, "acme")
        create_tenant(connection, "globex")
        create_client(connection, "globex", TokenScope.SCIM, NOW)
        _, first = create_client(connection, "acme", TokenScope.SCIM, NOW, "Entra", 30)
        second = add_secret(connection, first.client_id, NOW, 400)
        revoke_secret(connection, first.client_id, first.info.id, NOW)
        return first.client_id, second.secret, second.info.id

    client_id, secret, second_id = database.write_sync(work)
    [client] = database.read_sync(lambda connection: list_clients(connection, "acme"))
    assert (client.client_id, client.name, client.revoked) == (client_id, "Entra", None)
    assert [(s.expires - NOW).days for s in client.secrets] == [30, 400]
    assert [s.revoked is not None for s in client.secrets] == [True, False]
    assert client.secrets[1].id == second_id
    assert secret not in repr(client)
    assert len(database.read_sync(list_clients)) == 2


def test_revoked_clients_take_no_new_secrets_and_unknown_ids_are_not_found(
    database: Database,
) -> None:
    def make(connection: Connection) -> str:
        create_tenant(connection, "acme")
        _, issued = create_client(connection, "acme", TokenScope.SCIM, NOW)
        revoke_client(connection, issued.client_id, NOW)
        return issued.client_id

    client_id = database.write_sync(make)
    [client] = database.read_sync(list_clients)
    assert client.revoked == NOW
    with pytest.raises(NotFound, match="no active OAuth client"):
        database.write_sync(lambda connection: add_secret(connection, client_id, NOW))
    with pytest.raises(NotFound):
        database.write_sync(lambda connection: revoke_client(connection, "bdc_nobody", NOW))
    with pytest.raises(NotFound, match="has no secret 999"):
        database.write_sync(lambda connection: revoke_secret(connection, client_id, 999, NOW))
    with pytest.raises(NotFound, match="no tenant"):
        database.write_sync(
            lambda connection: create_client(connection, "nope", TokenScope.SCIM, NOW)
        )


def test_minting_a_token_deletes_expired_ones(database: Database) -> None:
    def work(connection: Connection) -> int:
        create_tenant(connection, "acme")
        _, issued = create_client(connection, "acme", TokenScope.SCIM, NOW)
        client = authenticate_client(connection, issued.client_id, issued.secret, NOW)
        assert client is not None
        for _ in range(3):
            issue_access_token(connection, client, NOW, HOUR)
        issue_access_token(connection, client, NOW + HOUR, HOUR)
        return len(connection.execute(select(oauth_access_tokens.c.id)).all())

    assert database.write_sync(work) == 1
