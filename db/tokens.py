"""API tokens: a secret shown once, stored only as its SHA-256 hash.

A secret is ``bdir_`` followed by 32 random bytes, urlsafe-base64 encoded. The prefix makes
leaked secrets recognisable to secret scanners. Look-ups go by hash; the hash found is then
compared again in constant time so that no timing difference depends on the secret.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, insert, null, select, update

from db.errors import NotFound
from db.tables import api_tokens, tenants
from db.tenants import get_tenant
from db.types import utcnow

SECRET_PREFIX = "bdir_"  # noqa: S105 - a public marker, not a secret


class TokenScope(StrEnum):
    SCIM = "scim"
    GRAPHQL = "graphql"


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a valid token grants: one scope in one tenant."""

    token_id: int
    tenant_id: int
    tenant_slug: str
    tenant_name: str
    scope: TokenScope
    #: The token's label, for request logs (never its secret).
    token_name: str = ""
    #: An OAuth access token's client (``db.oauth_clients``); None for a Secret Token.
    client_id: str | None = None
    #: When an OAuth access token stops being valid; None: a Secret Token, until revoked.
    expires: datetime | None = None

    @property
    def principal(self) -> str:
        """Who holds the grant: one Secret Token, or one OAuth client across all its tokens."""
        return f"token:{self.token_id}" if self.client_id is None else f"client:{self.client_id}"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    tenant_slug: str
    scope: TokenScope
    name: str
    created: datetime
    last_used: datetime | None
    revoked: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    info: TokenInfo
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def issue_token(
    connection: Connection, tenant_slug: str, scope: TokenScope, name: str | None = None
) -> IssuedToken:
    tenant = get_tenant(connection, tenant_slug)
    secret = new_secret()
    created = utcnow()
    token_name = name or f"{scope.value} token"
    token_id = connection.execute(
        insert(api_tokens)
        .values(
            tenant_id=tenant.id,
            scope=scope.value,
            name=token_name,
            token_hash=hash_secret(secret),
            created=created,
        )
        .returning(api_tokens.c.id)
    ).scalar_one()
    info = TokenInfo(token_id, tenant.slug, scope, token_name, created, None, None)
    return IssuedToken(info, secret)


#: The tenant's columns of a grant row (see :func:`grant_from_row`).
GRANT_TENANT_COLUMNS = (tenants.c.id.label("tenant_id"), tenants.c.slug, tenants.c.name)


def grant_from_row(row: Row[Any] | None, digest: str) -> TokenGrant | None:
    """The grant of a token row joined to its tenant, or None when there is no row or its hash
    is not ``digest`` (compared in constant time).

    The row has the token's ``id``, ``token_hash``, ``scope``, ``token_name``, ``client_id``
    and ``expires`` (both null for a Secret Token), then ``GRANT_TENANT_COLUMNS``: the Secret
    Token look-up and the OAuth access token look-up select them under these names.
    """
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return TokenGrant(
        row.id,
        row.tenant_id,
        row.slug,
        row.name,
        TokenScope(row.scope),
        row.token_name,
        client_id=row.client_id,
        expires=row.expires,
    )


def find_grant(connection: Connection, secret: str) -> TokenGrant | None:
    """The grant of an unrevoked token with this secret, or None."""
    digest = hash_secret(secret)
    row = connection.execute(
        select(
            api_tokens.c.id,
            api_tokens.c.token_hash,
            api_tokens.c.scope,
            api_tokens.c.name.label("token_name"),
            null().label("client_id"),
            null().label("expires"),
            *GRANT_TENANT_COLUMNS,
        )
        .join(tenants, tenants.c.id == api_tokens.c.tenant_id)
        .where(api_tokens.c.token_hash == digest, api_tokens.c.revoked.is_(None))
    ).first()
    return grant_from_row(row, digest)


def touch_token(connection: Connection, token_id: int) -> None:
    connection.execute(
        update(api_tokens).where(api_tokens.c.id == token_id).values(last_used=utcnow())
    )


def list_tokens(connection: Connection, tenant_slug: str | None = None) -> list[TokenInfo]:
    query = (
        select(api_tokens, tenants.c.slug)
        .join(tenants, tenants.c.id == api_tokens.c.tenant_id)
        .order_by(api_tokens.c.id)
    )
    if tenant_slug is not None:
        query = query.where(tenants.c.id == get_tenant(connection, tenant_slug).id)
    return [
        TokenInfo(
            row.id,
            row.slug,
            TokenScope(row.scope),
            row.name,
            row.created,
            row.last_used,
            row.revoked,
        )
        for row in connection.execute(query)
    ]


def revoke_token(connection: Connection, token_id: int) -> None:
    result = connection.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked.is_(None))
        .values(revoked=utcnow())
    )
    if result.rowcount == 0:
        exists = connection.execute(
            select(api_tokens.c.id).where(api_tokens.c.id == token_id)
        ).first()
        if exists is None:
            raise NotFound(f"no token with id {token_id}")
