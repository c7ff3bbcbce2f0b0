"""OAuth 2.0 client credentials (RFC 6749 §4.4): clients, rotating secrets, access tokens.

A client belongs to one tenant and has one scope, like a Secret Token (``db.tokens``). It has
any number of secrets, each with its own expiry, so a new one can be added and deployed before
the old one is revoked. A secret buys short-lived access tokens at ``POST /oauth/token``; an
access token stops working when it expires, or when its client or the secret that minted it is
revoked.

Secrets and access tokens are 32 random bytes, stored only as their SHA-256 hash. A slow key
derivation (bcrypt, scrypt, argon2) protects *guessable* passwords from a brute force of a
stolen table; 256 random bits cannot be guessed whatever the hash costs, so a fast hash loses
nothing and keeps the look-up an indexed equality. Access tokens are opaque rows rather than
signed tokens: see docs/oauth.md.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, String, delete, insert, literal, select, update

from db.errors import NotFound
from db.tables import oauth_access_tokens, oauth_client_secrets, oauth_clients, tenants
from db.tenants import get_tenant
from db.tokens import GRANT_TENANT_COLUMNS, TokenGrant, TokenScope, grant_from_row, hash_secret

CLIENT_ID_PREFIX = "bdc_"
CLIENT_SECRET_PREFIX = "bdcs_"  # noqa: S105 - a public marker, not a secret
ACCESS_TOKEN_PREFIX = "bdat_"  # noqa: S105 - a public marker, not a secret
DEFAULT_SECRET_DAYS = 365
#: Entra's gallery requirements: client secrets expire after one to three years at most.
MAX_SECRET_DAYS = 3 * 365


@dataclass(frozen=True, slots=True)
class SecretInfo:
    id: int
    created: datetime
    expires: datetime
    last_used: datetime | None
    revoked: datetime | None


@dataclass(frozen=True, slots=True)
class ClientInfo:
    client_id: str
    tenant_slug: str
    scope: TokenScope
    name: str
    created: datetime
    revoked: datetime | None
    secrets: tuple[SecretInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A new secret: ``secret`` is shown once and never stored."""

    client_id: str
    info: SecretInfo
    secret: str


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    """A client whose secret was just verified, and which secret it was."""

    id: int
    client_id: str
    secret_id: int
    scope: TokenScope


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    token: str
    expires: datetime


def create_client(
    connection: Connection,
    tenant_slug: str,
    scope: TokenScope,
    now: datetime,
    name: str | None = None,
    secret_days: int = DEFAULT_SECRET_DAYS,
) -> tuple[ClientInfo, IssuedSecret]:
    """A new client and its first secret."""
    tenant = get_tenant(connection, tenant_slug)
    client_id = CLIENT_ID_PREFIX + secrets.token_urlsafe(16)
    client_name = name or f"{scope.value} client"
    connection.execute(
        insert(oauth_clients).values(
            client_id=client_id,
            tenant_id=tenant.id,
            scope=scope.value,
            name=client_name,
            created=now,
        )
    )
    info = ClientInfo(client_id, tenant.slug, scope, client_name, now, None)
    return info, add_secret(connection, client_id, now, secret_days)


def _client_pk(connection: Connection, client_id: str, *, active: bool) -> int:
    query = select(oauth_clients.c.id).where(oauth_clients.c.client_id == client_id)
    if active:
        query = query.where(oauth_clients.c.revoked.is_(None))
    found = connection.execute(query).scalar()
    if found is None:
        state = "active " if active else ""
        raise NotFound(f"no {state}OAuth client with id {client_id!r}")
    return int(found)


def add_secret(
    connection: Connection, client_id: str, now: datetime, days: int = DEFAULT_SECRET_DAYS
) -> IssuedSecret:
    """Another active secret for the client: rotation without a moment with none."""
    if not 1 <= days <= MAX_SECRET_DAYS:
        raise ValueError(f"a secret must be valid for 1 to {MAX_SECRET_DAYS} days")
    pk = _client_pk(connection, client_id, active=True)
    secret = CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)
    expires = now + timedelta(days=days)
    secret_id = connection.execute(
        insert(oauth_client_secrets)
        .values(oauth_client_id=pk, secret_hash=hash_secret(secret), created=now, expires=expires)
        .returning(oauth_client_secrets.c.id)
    ).scalar_one()
    return IssuedSecret(client_id, SecretInfo(secret_id, now, expires, None, None), secret)


def revoke_secret(connection: Connection, client_id: str, secret_id: int, now: datetime) -> None:
    """Revoke one secret; the access tokens it minted stop working with it."""
    pk = _client_pk(connection, client_id, active=False)
    found = connection.execute(
        select(oauth_client_secrets.c.revoked).where(
            oauth_client_secrets.c.id == secret_id, oauth_client_secrets.c.oauth_client_id == pk
        )
    ).first()
    if found is None:
        raise NotFound(f"client {client_id!r} has no secret {secret_id}")
    if found.revoked is None:
        connection.execute(
            update(oauth_client_secrets)
            .where(oauth_client_secrets.c.id == secret_id)
            .values(revoked=now)
        )


def revoke_client(connection: Connection, client_id: str, now: datetime) -> None:
    """Revoke a client: its secrets and access tokens stop working."""
    pk = _client_pk(connection, client_id, active=False)
    connection.execute(
        update(oauth_clients)
        .where(oauth_clients.c.id == pk, oauth_clients.c.revoked.is_(None))
        .values(revoked=now)
    )


def list_clients(connection: Connection, tenant_slug: str | None = None) -> list[ClientInfo]:
    query = (
        select(oauth_clients, tenants.c.slug)
        .join(tenants, tenants.c.id == oauth_clients.c.tenant_id)
        .order_by(oauth_clients.c.id)
    )
    if tenant_slug is not None:
        query = query.where(tenants.c.id == get_tenant(connection, tenant_slug).id)
    clients = connection.execute(query).all()
    by_client: dict[int, list[SecretInfo]] = {client.id: [] for client in clients}
    if clients:
        for row in connection.execute(
            select(oauth_client_secrets)
            .where(oauth_client_secrets.c.oauth_client_id.in_(list(by_client)))
            .order_by(oauth_client_secrets.c.id)
        ):
            by_client[row.oauth_client_id].append(
                SecretInfo(row.id, row.created, row.expires, row.last_used, row.revoked)
            )
    return [
        ClientInfo(
            row.client_id,
            row.slug,
            TokenScope(row.scope),
            row.name,
            row.created,
            row.revoked,
            tuple(by_client[row.id]),
        )
        for row in clients
    ]


def authenticate_client(
    connection: Connection, client_id: str, secret: str, now: datetime
) -> AuthenticatedClient | None:
    """The client, if ``secret`` is one of its unexpired, unrevoked secrets; else None."""
    digest = hash_secret(secret)
    row = connection.execute(
        select(
            oauth_clients.c.id,
            oauth_clients.c.client_id,
            oauth_clients.c.scope,
            oauth_client_secrets.c.id.label("secret_id"),
            oauth_client_secrets.c.secret_hash,
        )
        .join(oauth_clients, oauth_clients.c.id == oauth_client_secrets.c.oauth_client_id)
        .where(
            oauth_client_secrets.c.secret_hash == digest,
            oauth_client_secrets.c.revoked.is_(None),
            oauth_client_secrets.c.expires > now,
            oauth_clients.c.revoked.is_(None),
        )
    ).first()
    if (
        row is None
        or not hmac.compare_digest(row.secret_hash, digest)
        or not hmac.compare_digest(row.client_id.encode(), client_id.encode())
    ):
        return None
    return AuthenticatedClient(row.id, row.client_id, row.secret_id, TokenScope(row.scope))


def issue_access_token(
    connection: Connection, client: AuthenticatedClient, now: datetime, lifetime: timedelta
) -> IssuedAccessToken:
    """A new access token for an authenticated client; expired ones are deleted on the way."""
    connection.execute(delete(oauth_access_tokens).where(oauth_access_tokens.c.expires <= now))
    connection.execute(
        update(oauth_client_secrets)
        .where(oauth_client_secrets.c.id == client.secret_id)
        .values(last_used=now)
    )
    token = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = now + lifetime
    connection.execute(
        insert(oauth_access_tokens).values(
            secret_id=client.secret_id, token_hash=hash_secret(token), issued=now, expires=expires
        )
    )
    return IssuedAccessToken(token, expires)


def find_access_grant(connection: Connection, token: str, now: datetime) -> TokenGrant | None:
    """The grant of an unexpired access token whose client and secret are not revoked."""
    digest = hash_secret(token)
    row = connection.execute(
        select(
            oauth_access_tokens.c.id,
            oauth_access_tokens.c.token_hash,
            oauth_clients.c.scope,
            (
                literal("OAuth client ", String)
                + oauth_clients.c.client_id
                + literal(" (", String)
                + oauth_clients.c.name
                + literal(")", String)
            ).label("token_name"),
            oauth_clients.c.client_id,
            oauth_access_tokens.c.expires,
            *GRANT_TENANT_COLUMNS,
        )
        .join(
            oauth_client_secrets,
            oauth_client_secrets.c.id == oauth_access_tokens.c.secret_id,
        )
        .join(oauth_clients, oauth_clients.c.id == oauth_client_secrets.c.oauth_client_id)
        .join(tenants, tenants.c.id == oauth_clients.c.tenant_id)
        .where(
            oauth_access_tokens.c.token_hash == digest,
            oauth_access_tokens.c.expires > now,
            oauth_client_secrets.c.revoked.is_(None),
            oauth_clients.c.revoked.is_(None),
        )
    ).first()
    return grant_from_row(row, digest)
