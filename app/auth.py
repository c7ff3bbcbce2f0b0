"""Bearer-token authentication and tenancy for /scim and /graphql.

Every request names its tenant through its token. ``RequireToken`` wraps a front-end's ASGI
app: it verifies the ``Authorization: Bearer`` header, checks the token's scope and puts the
``TokenGrant`` on ``request.state.grant``; the front-ends scope every query by it, and the rate
limit, request log and metrics read the tenant and token from it.

Verified tokens are cached by hash for ``BLINK_TOKEN_CACHE_SECONDS``, so a warm token costs no
database round trip. Tokens are revoked by the CLI (``blink-directory token revoke``), a process
of its own that cannot reach this cache: a revocation takes effect in a running server when the
cached entry expires, within that time.

OAuth 2.0 access tokens (``db.oauth_clients``, minted at ``POST /oauth/token``) are verified
and cached the same way; a cached one is refused again once it expires, and a revoked client or
secret takes effect within the same cache time.
"""

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from functools import partial
from time import monotonic

from sqlalchemy import Connection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.metrics import Metrics
from db.database import Database
from db.oauth_clients import ACCESS_TOKEN_PREFIX, find_access_grant
from db.tokens import TokenGrant, TokenScope, find_grant, hash_secret, touch_token
from db.types import utcnow

Rejection = Callable[[int, str], Response]


class TokenVerifier:
    def __init__(
        self,
        database: Database,
        ttl_seconds: float,
        max_entries: int = 10_000,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._database = database
        self._clock = clock
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._cache: OrderedDict[str, tuple[float, TokenGrant | None]] = OrderedDict()
        self._hits = metrics.token_cache_hit if metrics is not None else None
        self._misses = metrics.token_cache_miss if metrics is not None else None

    async def verify(self, secret: str) -> TokenGrant | None:
        digest = hash_secret(secret)
        now = monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            if self._hits is not None:
                self._hits.inc()
            grant = cached[1]
            # Secret Tokens never expire: only an OAuth access token needs the clock.
            if grant is None or grant.expires is None:
                return grant
            return _unexpired(grant, self._clock())
        if self._misses is not None:
            self._misses.inc()
        if secret.startswith(ACCESS_TOKEN_PREFIX):
            grant = await self._database.read(
                partial(find_access_grant, token=secret, now=self._clock())
            )
        else:
            grant = await self._database.write(partial(_find_and_touch, secret))
        self._cache[digest] = (now + self._ttl, grant)
        self._cache.move_to_end(digest)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)
        return grant

    def forget(self, token_id: int) -> None:
        """Drop a token from this process's cache, so its next use is checked in the store.

        Nothing in the server revokes tokens, so nothing here calls it; it is for code that
        revokes a token in the serving process."""
        for digest, (_, grant) in list(self._cache.items()):
            if grant is not None and grant.token_id == token_id:
                del self._cache[digest]


def _unexpired(grant: TokenGrant | None, now: datetime) -> TokenGrant | None:
    if grant is None or grant.expires is None or grant.expires > now:
        return grant
    return None


def _find_and_touch(secret: str, connection: Connection) -> TokenGrant | None:
    grant = find_grant(connection, secret)
    if grant is not None:
        touch_token(connection, grant.token_id)
    return grant


def _authorization(scope: Scope) -> tuple[str, str] | None:
    """The scheme and the credentials of the ``Authorization`` header, or None without one."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").strip().partition(" ")
            return scheme, credentials.strip()
    return None


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    found = _authorization(scope)
    if found is None:
        return None
    scheme, token = found
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def placeholder_token(scope: Scope) -> str | None:
    """The ``<...>`` of an ``Authorization: Bearer <...>`` header: a placeholder left in."""
    found = _authorization(scope)
    if found is None:
        return None
    token = found[1]
    return token if token.startswith("<") and token.endswith(">") else None


class RequireToken:
    """ASGI middleware: let through only requests with a valid token of ``required`` scope."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        required: TokenScope,
        reject: Rejection,
        is_public: Callable[[Scope], bool] = lambda scope: False,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.required = required
        self.reject = reject
        self.is_public = is_public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.is_public(scope):
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope)
        grant = None if token is None else await self.verifier.verify(token)
        if grant is not None and grant.scope == self.required:
            scope.setdefault("state", {})["grant"] = grant
            await self.app(scope, receive, send)
            return
        if grant is not None:
            response = self.reject(
                403,
                f"this token has scope {grant.scope.value!r}; {self.required.value!r} "
                "is required here",
            )
        elif (placeholder := placeholder_token(scope)) is not None:
            response = self._challenge(
                f"the Authorization header still holds the placeholder {placeholder}: replace "
                f"it with a token of scope {self.required.value!r} (blink-directory token "
                f"create --tenant SLUG --scope {self.required.value})"
            )
        elif token is None:
            response = self._challenge("a bearer token is required (Authorization: Bearer ...)")
        else:
            response = self._challenge("the bearer token is unknown or revoked")
        await response(scope, receive, send)

    def _challenge(self, detail: str) -> Response:
        response = self.reject(401, detail)
        response.headers["WWW-Authenticate"] = 'Bearer realm="blink-directory"'
        return response
