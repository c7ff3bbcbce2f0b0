"""Tokens are stored hashed, scoped to one tenant, and stop working when revoked."""

import hashlib

import pytest
from sqlalchemy import select

from db.database import Database
from db.errors import Conflict, NotFound
from db.tables import api_tokens
from db.tenants import create_tenant, list_tenants
from db.tokens import (
    SECRET_PREFIX,
    TokenScope,
    find_grant,
    issue_token,
    list_tokens,
    revoke_token,
)


def test_secret_is_prefixed_random_and_stored_only_as_sha256(database: Database) -> None:
    def work(connection):  # type: ignore[no-untyped-def]
        create_tenant(connection, "acme")
        first = issue_token(connection, "acme", TokenScope.SCIM)
        second = issue_token(connection, "acme", TokenScope.SCIM)
        stored = connection.execute(select(api_tokens.c.token_hash)).scalars().all()
        return first, second, stored

    first, second, stored = database.write_sync(work)
    assert first.secret.startswith(SECRET_PREFIX)
    assert len(first.secret) >= len(SECRET_PREFIX) + 43  # 32 bytes, urlsafe base64
    assert first.secret != second.secret
    assert set(stored) == {
        hashlib.sha256(first.secret.encode()).hexdigest(),
        hashlib.sha256(second.secret.encode()).hexdigest(),
    }
    assert all(first.secret not in value for value in stored)


def test_grant_names_tenant_and_scope_until_revoked(database: Database) -> None:
    def issue(connection):  # type: ignore[no-untyped-def]
        create_tenant(connection, "acme", "Acme Corp")
        return issue_token(connection, "acme", TokenScope.GRAPHQL, "reader")

    issued = database.write_sync(issue)
    grant = database.read_sync(lambda connection: find_grant(connection, issued.secret))
    assert grant is not None
    assert (grant.tenant_slug, grant.tenant_name, grant.scope) == (
        "acme",
        "Acme Corp",
        TokenScope.GRAPHQL,
    )
    assert (grant.token_id, grant.token_name) == (issued.info.id, "reader")
    assert (grant.client_id, grant.expires, grant.principal) == (
        None,
        None,
        f"token:{grant.token_id}",
    )
    assert (
        database.read_sync(lambda connection: find_grant(connection, issued.secret + "x")) is None
    )

    database.write_sync(lambda connection: revoke_token(connection, issued.info.id))
    assert database.read_sync(lambda connection: find_grant(connection, issued.secret)) is None
    [info] = database.read_sync(list_tokens)
    assert info.revoked is not None


def test_revoking_unknown_token_is_not_found(database: Database) -> None:
    with pytest.raises(NotFound):
        database.write_sync(lambda connection: revoke_token(connection, 999))


def test_tokens_for_unknown_tenant_are_refused(database: Database) -> None:
    with pytest.raises(NotFound):
        database.write_sync(lambda connection: issue_token(connection, "nope", TokenScope.SCIM))


def test_tenant_slugs_are_unique_and_validated(database: Database) -> None:
    database.write_sync(lambda connection: create_tenant(connection, "acme"))
    with pytest.raises(Conflict):
        database.write_sync(lambda connection: create_tenant(connection, "acme"))
    with pytest.raises(ValueError, match="invalid tenant slug"):
        database.write_sync(lambda connection: create_tenant(connection, "Not A Slug"))
    assert [tenant.slug for tenant in database.read_sync(list_tenants)] == ["acme"]
