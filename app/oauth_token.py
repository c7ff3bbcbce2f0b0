"""``POST /oauth/token``: the OAuth 2.0 token endpoint, client credentials grant only.

RFC 6749 §4.4: a client authenticates with its id and one of its secrets, in HTTP Basic
(§2.3.1, each part form-urlencoded) or in the form body, and gets an access token of its one
scope for ``BLINK_ACCESS_TOKEN_SECONDS`` (§5.1); every failure is a §5.2 JSON error. Clients
and secrets are made with ``blink-directory client`` (``db.oauth_clients``).
"""

import base64
import binascii
import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import parse_qsl, unquote_plus

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.rate_limit import TokenBuckets
from db.database import Database
from db.oauth_clients import (
    AuthenticatedClient,
    IssuedAccessToken,
    authenticate_client,
    issue_access_token,
)

GRANT_TYPE = "client_credentials"
#: A token request is a few short fields; anything longer is not one.
MAX_FORM_BYTES = 8 * 1024
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="blink-directory", charset="UTF-8"'}


class TokenError(Exception):
    """A §5.2 error answer."""

    def __init__(
        self, error: str, description: str, status: int = 400, retry_after: int | None = None
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.retry_after = retry_after

    def response(self) -> Response:
        headers = dict(_NO_STORE)
        if self.error == "invalid_client":
            headers.update(_CHALLENGE)
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
            headers=headers,
        )


def _invalid_client(description: str) -> TokenError:
    return TokenError("invalid_client", description, 401)


async def _form(request: Request) -> dict[str, str]:
    """The form's parameters; empty ones count as omitted (RFC 6749 §3.2)."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise TokenError("invalid_request", "the body must be application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise TokenError("invalid_request", "the request body is too large", 413)
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise TokenError("invalid_request", "the body is not a valid form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise TokenError("invalid_request", f"parameter {name!r} is repeated")
        form[name] = value
    return {name: value for name, value in form.items() if value}


def _credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """The client id and secret, from HTTP Basic or from the form, never both (§2.3)."""
    header = request.headers.get("authorization")
    in_form = "client_secret" in form
    if header is None:
        if "client_id" not in form or not in_form:
            raise _invalid_client(
                "client authentication is required: HTTP Basic, or client_id and client_secret"
            )
        return form["client_id"], form["client_secret"]
    if in_form:
        raise TokenError("invalid_request", "use one client authentication method, not two")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise _invalid_client("the Authorization header must use the Basic scheme")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client("the Basic credentials are not valid base64") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _invalid_client("the Basic credentials must be client_id:client_secret")
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if "client_id" in form and form["client_id"] != client_id:
        raise TokenError("invalid_request", "client_id differs from the Basic credentials")
    return client_id, secret


def _grant(
    client_id: str,
    secret: str,
    scope: str | None,
    now: datetime,
    lifetime: timedelta,
    connection: Connection,
) -> AuthenticatedClient | IssuedAccessToken | None:
    """The access token; the client alone when the scope is wrong; None: not authenticated."""
    client = authenticate_client(connection, client_id, secret, now)
    if client is None:
        return None
    if scope is not None and set(scope.split()) != {client.scope.value}:
        return client
    return issue_access_token(connection, client, now, lifetime)


def token_endpoint(
    database: Database,
    lifetime_seconds: int,
    clock: Callable[[], datetime],
    buckets: TokenBuckets | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    lifetime = timedelta(seconds=lifetime_seconds)

    async def token(request: Request) -> Response:
        try:
            form = await _form(request)
            client_id, secret = _credentials(request, form)
            grant_type = form.get("grant_type")
            if grant_type is None:
                raise TokenError("invalid_request", "grant_type is required")
            if grant_type != GRANT_TYPE:
                raise TokenError(
                    "unsupported_grant_type", f"only grant_type={GRANT_TYPE} is supported"
                )
            # Keyed by the client id claimed, so guessing at one client's secrets is slowed
            # like any other client's requests.
            if buckets is not None and (wait := buckets.take(f"oauth:{client_id}")) > 0:
                raise TokenError(
                    "invalid_request",
                    "too many token requests for this client; retry later",
                    429,
                    retry_after=max(1, math.ceil(wait)),
                )
            scope = form.get("scope")
            found = await database.write(
                partial(_grant, client_id, secret, scope, clock(), lifetime)
            )
        except TokenError as error:
            return error.response()
        if found is None:
            refused = _invalid_client("unknown client, or a wrong, expired or revoked secret")
            return refused.response()
        if isinstance(found, AuthenticatedClient):
            return TokenError(
                "invalid_scope", f"this client's scope is {found.scope.value!r}"
            ).response()
        scope_granted = scope.split()[0] if scope else None
        return JSONResponse(
            {
                "access_token": found.token,
                "token_type": "Bearer",
                "expires_in": lifetime_seconds,
                **({"scope": scope_granted} if scope_granted else {}),
            },
            headers=_NO_STORE,
        )

    return token
