"""CPU per bearer-token look-up: Secret Token, opaque OAuth access token, signed token.

``python -m bench.token_lookup`` (seconds, SQLite in a temp dir). It measures the process CPU
time of ``TokenVerifier.verify`` — what every /scim and /graphql request pays before its
handler — warm (cached) and cold (each token seen once: the database look-up). The signed
variant is a prototype of the alternative not taken (HMAC-SHA256 over base64url JSON claims,
the shape of an HS256 JWT): it is verified on every request, and still needs the revocation
state of its client and secret, which it reads from a per-process cache the same way.
See docs/oauth.md for the numbers and the choice.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from app.auth import TokenVerifier
from db.database import Database
from db.migrate import upgrade
from db.oauth_clients import authenticate_client, create_client, issue_access_token
from db.tenants import create_tenant
from db.tokens import TokenScope, issue_token
from db.types import utcnow

WARM = 200_000
COLD = 2_000
KEY = secrets.token_bytes(32)


def sign(claims: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    mac = base64.urlsafe_b64encode(hmac.digest(KEY, body, hashlib.sha256)).rstrip(b"=")
    return (body + b"." + mac).decode()


class SignedVerifier:
    """Verify the signature and expiry each time; revocation state cached like grants."""

    def __init__(self) -> None:
        self.revoked: dict[int, tuple[float, bool]] = {}

    async def verify(self, token: str) -> object | None:
        body, _, mac = token.encode().partition(b".")
        expected = base64.urlsafe_b64encode(hmac.digest(KEY, body, hashlib.sha256)).rstrip(b"=")
        if not hmac.compare_digest(mac, expected):
            return None
        claims: dict[str, Any] = json.loads(
            base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
        )
        if claims["exp"] <= time.time():
            return None
        cached = self.revoked.get(claims["sid"])
        if cached is None or cached[0] <= time.monotonic():
            self.revoked[claims["sid"]] = (time.monotonic() + 5.0, False)
        return claims


async def cpu_per_call(verify: Callable[[str], Awaitable[object]], tokens: list[str]) -> float:
    start = time.process_time()
    for token in tokens:
        assert await verify(token) is not None
    return (time.process_time() - start) / len(tokens) * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite:///{directory}/bench.db")
        upgrade(database.engine)

        def setup(connection):  # type: ignore[no-untyped-def]
            create_tenant(connection, "acme")
            secret_tokens = [
                issue_token(connection, "acme", TokenScope.SCIM).secret for _ in range(COLD)
            ]
            _, issued = create_client(connection, "acme", TokenScope.SCIM, utcnow())
            client = authenticate_client(connection, issued.client_id, issued.secret, utcnow())
            assert client is not None
            access = [
                issue_access_token(connection, client, utcnow(), timedelta(hours=1)).token
                for _ in range(COLD)
            ]
            return secret_tokens, access

        secret_tokens, access = database.write_sync(setup)
        claims = {"sub": "bdc_x", "tid": 1, "scope": "scim", "sid": 1}
        signed = [sign({**claims, "exp": time.time() + 3600, "jti": i}) for i in range(COLD)]

        async def run() -> None:
            verifier = TokenVerifier(database, ttl_seconds=3600, max_entries=COLD * 4)
            signed_verifier = SignedVerifier()
            rows = [
                ("Secret Token", verifier.verify, secret_tokens),
                ("OAuth access token (opaque, hashed)", verifier.verify, access),
                ("signed token (HMAC, prototype)", signed_verifier.verify, signed),
            ]
            print(f"{'token':40} {'cold µs':>9} {'warm µs':>9}")
            for name, verify, tokens in rows:
                cold = await cpu_per_call(verify, tokens)
                warm = await cpu_per_call(verify, (tokens[:100] * (WARM // 100)))
                print(f"{name:40} {cold:9.1f} {warm:9.2f}")

        asyncio.run(run())
        database.dispose()


if __name__ == "__main__":
    main()
