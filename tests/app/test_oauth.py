"""OAuth 2.0 client credentials end to end: POST /oauth/token, then SCIM and GraphQL calls."""

import base64
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from app.auth import TokenVerifier
from app.main import create_app
from app.settings import Settings
from db.database import Database
from db.oauth_clients import (
    ACCESS_TOKEN_PREFIX,
    IssuedSecret,
    add_secret,
    authenticate_client,
    create_client,
    issue_access_token,
    revoke_client,
    revoke_secret,
)
from db.tenants import create_tenant
from db.tokens import TokenScope

SCIM_URL = "/scim/v2/Users"
GRAPHQL_QUERY = {"query": "{ tenant { slug } }"}
START = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


class Clock:
    """A UTC clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class OAuthWorld:
    client: TestClient
    database: Database
    clock: Clock

    def new_client(self, scope: TokenScope, secret_days: int = 365) -> IssuedSecret:
        return self.database.write_sync(
            lambda connection: create_client(
                connection, "acme", scope, self.clock(), "Entra", secret_days
            )[1]
        )

    def token_response(self, client_id: str, secret: str, **form: str):  # type: ignore[no-untyped-def]
        return self.client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", **form},
            headers={"Authorization": basic(client_id, secret)},
        )

    def access_token(self, issued: IssuedSecret) -> str:
        response = self.token_response(issued.client_id, issued.secret)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def scim_status(self, token: str) -> int:
        return self.client.get(SCIM_URL, headers={"Authorization": f"Bearer {token}"}).status_code


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@contextmanager
def open_world(database_url: str, database: Database, **settings: object) -> Iterator[OAuthWorld]:
    clock = Clock()
    database.write_sync(lambda connection: create_tenant(connection, "acme", "Acme"))
    app = create_app(
        Settings(database_url=database_url, db_analyze_seconds=0, **settings),  # type: ignore[arg-type]
        clock=clock,
    )
    with TestClient(app) as client:
        yield OAuthWorld(client, database, clock)


@pytest.fixture
def make_world(database_url: str, database: Database) -> Iterator[Callable[..., OAuthWorld]]:
    """An app with a tenant ``acme`` and a hand-moved clock, with these settings."""
    with ExitStack() as stack:
        yield lambda **settings: stack.enter_context(open_world(database_url, database, **settings))


@pytest.fixture
def world(make_world: Callable[..., OAuthWorld]) -> OAuthWorld:
    # No token cache: a revocation shows at once (the cache's own delay is tested below).
    return make_world(token_cache_seconds=0)


@pytest.fixture
def cached_world(make_world: Callable[..., OAuthWorld]) -> OAuthWorld:
    return make_world(token_cache_seconds=300)


def test_a_token_from_basic_credentials_opens_scim(world: OAuthWorld) -> None:
    issued = world.new_client(TokenScope.SCIM)
    response = world.token_response(issued.client_id, issued.secret)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].startswith(ACCESS_TOKEN_PREFIX)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    created = world.client.post(
        SCIM_URL,
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada@acme.example",
        },
        headers=headers,
    )
    assert created.status_code == 201
    listed = world.client.get(SCIM_URL, headers=headers).json()
    assert [user["userName"] for user in listed["Resources"]] == ["ada@acme.example"]
    # The activity log names the client, not a Secret Token.
    actor = world.database.read_sync(
        lambda connection: connection.exec_driver_sql(
            "SELECT actor_name, actor_token_id FROM activity_event"
        ).one()
    )
    assert issued.client_id in actor.actor_name
    assert actor.actor_token_id is None


def test_credentials_in_the_form_and_a_matching_scope(world: OAuthWorld) -> None:
    issued = world.new_client(TokenScope.SCIM)
    response = world.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued.client_id,
            "client_secret": issued.secret,
            "scope": "scim",
        },
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "scim"
    assert world.scim_status(response.json()["access_token"]) == 200


def test_each_scope_opens_its_own_front_end_only(world: OAuthWorld) -> None:
    scim_token = world.access_token(world.new_client(TokenScope.SCIM))
    graphql_token = world.access_token(world.new_client(TokenScope.GRAPHQL))
    graphql = world.client.post(
        "/graphql", json=GRAPHQL_QUERY, headers={"Authorization": f"Bearer {graphql_token}"}
    )
    assert graphql.status_code == 200
    assert graphql.json() == {"data": {"tenant": {"slug": "acme"}}}
    assert world.scim_status(graphql_token) == 403
    refused = world.client.post(
        "/graphql", json=GRAPHQL_QUERY, headers={"Authorization": f"Bearer {scim_token}"}
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_access_tokens_expire(cached_world: OAuthWorld) -> None:
    world = cached_world
    token = world.access_token(world.new_client(TokenScope.SCIM))
    assert world.scim_status(token) == 200  # now cached for 300 s
    world.clock.advance(seconds=3599)
    assert world.scim_status(token) == 200
    world.clock.advance(seconds=1)
    response = world.client.get(SCIM_URL, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_lifetime_is_configurable_within_one_to_six_hours(
    make_world: Callable[..., OAuthWorld],
) -> None:
    world = make_world(access_token_seconds=21600)
    issued = world.new_client(TokenScope.SCIM)
    response = world.token_response(issued.client_id, issued.secret)
    assert response.json()["expires_in"] == 21600
    world.clock.advance(hours=5, minutes=59)
    assert world.scim_status(response.json()["access_token"]) == 200
    world.clock.advance(minutes=1)
    assert world.scim_status(response.json()["access_token"]) == 401
    for seconds in (3599, 21601, 0):
        with pytest.raises(ValidationError, match="access_token_seconds"):
            Settings(access_token_seconds=seconds)


def test_rotation_two_secrets_at_once_then_the_old_one_revoked(world: OAuthWorld) -> None:
    first = world.new_client(TokenScope.SCIM)
    second = world.database.write_sync(
        lambda connection: add_secret(connection, first.client_id, world.clock())
    )
    old_token = world.access_token(first)
    new_token = world.access_token(second)
    assert (world.scim_status(old_token), world.scim_status(new_token)) == (200, 200)

    world.database.write_sync(
        lambda connection: revoke_secret(connection, first.client_id, first.info.id, world.clock())
    )
    assert world.scim_status(old_token) == 401  # minted by the revoked secret
    assert world.scim_status(new_token) == 200
    assert world.token_response(first.client_id, first.secret).status_code == 401
    assert world.scim_status(world.access_token(second)) == 200


def test_a_revoked_client_loses_every_token_and_secret(world: OAuthWorld) -> None:
    first = world.new_client(TokenScope.SCIM)
    second = world.database.write_sync(
        lambda connection: add_secret(connection, first.client_id, world.clock())
    )
    tokens = [world.access_token(first), world.access_token(second)]
    world.database.write_sync(
        lambda connection: revoke_client(connection, first.client_id, world.clock())
    )
    assert [world.scim_status(token) for token in tokens] == [401, 401]
    assert world.token_response(second.client_id, second.secret).json()["error"] == (
        "invalid_client"
    )


def test_secrets_expire(world: OAuthWorld) -> None:
    issued = world.new_client(TokenScope.SCIM, secret_days=1)
    token = world.access_token(issued)
    world.clock.advance(days=1)
    response = world.token_response(issued.client_id, issued.secret)
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    world.clock.advance(days=-1, seconds=-1)
    assert world.scim_status(token) == 200


def test_revocation_reaches_a_cached_token_when_its_entry_expires(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What every worker does: a cached grant is looked up again after the cache time."""
    clock = Clock()
    database.write_sync(lambda connection: create_tenant(connection, "acme"))
    issued = database.write_sync(
        lambda connection: create_client(connection, "acme", TokenScope.SCIM, clock())[1]
    )

    def mint(connection):  # type: ignore[no-untyped-def]
        client = authenticate_client(connection, issued.client_id, issued.secret, clock())
        assert client is not None
        return issue_access_token(connection, client, clock(), timedelta(hours=1)).token

    token = database.write_sync(mint)
    seconds = [1000.0]
    monkeypatch.setattr("app.auth.monotonic", lambda: seconds[0])
    verifier = TokenVerifier(database, ttl_seconds=5.0, clock=clock)
    grant = anyio.run(verifier.verify, token)
    assert grant is not None
    assert (grant.client_id, grant.principal) == (issued.client_id, f"client:{issued.client_id}")
    database.write_sync(lambda connection: revoke_client(connection, issued.client_id, clock()))
    assert anyio.run(verifier.verify, token) is not None  # trusted from the cache
    seconds[0] += 5.1
    assert anyio.run(verifier.verify, token) is None


def form_with(**fields: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", **fields}


ErrorCase = Callable[[OAuthWorld, IssuedSecret], object]


@pytest.mark.parametrize(
    ("send", "status", "error"),
    [
        # invalid_client (401): no, wrong, unknown or malformed credentials
        (lambda w, c: w.client.post("/oauth/token", data=form_with()), 401, "invalid_client"),
        (lambda w, c: w.token_response(c.client_id, c.secret + "x"), 401, "invalid_client"),
        (lambda w, c: w.token_response("bdc_nobody", c.secret), 401, "invalid_client"),
        (
            lambda w, c: w.client.post(
                "/oauth/token", data=form_with(), headers={"Authorization": "Basic ***"}
            ),
            401,
            "invalid_client",
        ),
        (
            lambda w, c: w.client.post(
                "/oauth/token",
                data=form_with(),
                headers={"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
            ),
            401,
            "invalid_client",
        ),
        (
            lambda w, c: w.client.post(
                "/oauth/token",
                data=form_with(client_id=c.client_id),
            ),
            401,
            "invalid_client",
        ),
        # invalid_request (400): missing grant_type, two auth methods, a repeated parameter,
        # not a form
        (
            lambda w, c: w.client.post(
                "/oauth/token", data={}, headers={"Authorization": basic(c.client_id, c.secret)}
            ),
            400,
            "invalid_request",
        ),
        (
            lambda w, c: w.token_response(c.client_id, c.secret, client_secret=c.secret),
            400,
            "invalid_request",
        ),
        (
            lambda w, c: w.client.post(
                "/oauth/token",
                content=b"grant_type=client_credentials&grant_type=client_credentials",
                headers={
                    "Authorization": basic(c.client_id, c.secret),
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            ),
            400,
            "invalid_request",
        ),
        (
            lambda w, c: w.client.post(
                "/oauth/token",
                json={"grant_type": "client_credentials"},
                headers={"Authorization": basic(c.client_id, c.secret)},
            ),
            400,
            "invalid_request",
        ),
        (
            lambda w, c: w.token_response(c.client_id, c.secret, padding="x" * 10_000),
            413,
            "invalid_request",
        ),
        # unsupported_grant_type and invalid_scope (400)
        (
            lambda w, c: w.token_response(c.client_id, c.secret, grant_type="password"),
            400,
            "unsupported_grant_type",
        ),
        (
            lambda w, c: w.token_response(c.client_id, c.secret, scope="graphql"),
            400,
            "invalid_scope",
        ),
        (
            lambda w, c: w.token_response(c.client_id, c.secret, scope="scim graphql"),
            400,
            "invalid_scope",
        ),
    ],
)
def test_every_refusal_is_an_rfc6749_error(
    world: OAuthWorld, send: ErrorCase, status: int, error: str
) -> None:
    issued = world.new_client(TokenScope.SCIM)
    response = send(world, issued)
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    assert response.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"] == error
    assert body["error_description"]
    assert "access_token" not in body
    challenge = response.headers.get("www-authenticate")  # type: ignore[attr-defined]
    if error == "invalid_client":
        assert challenge == 'Basic realm="blink-directory", charset="UTF-8"'
    else:
        assert challenge is None
    # Nothing was minted: the only token rows are those of successful requests.
    count = world.database.read_sync(
        lambda connection: connection.exec_driver_sql(
            "SELECT count(*) FROM oauth_access_token"
        ).scalar_one()
    )
    assert count == 0


def test_only_post(world: OAuthWorld) -> None:
    assert world.client.get("/oauth/token").status_code == 405


def test_the_token_endpoint_is_rate_limited_per_client(
    make_world: Callable[..., OAuthWorld],
) -> None:
    world = make_world(rate_limit_per_second=1, rate_limit_burst=2)
    issued = world.new_client(TokenScope.SCIM)
    statuses = [world.token_response(issued.client_id, "wrong").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    limited = world.token_response(issued.client_id, issued.secret)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    other = world.new_client(TokenScope.SCIM)
    assert world.token_response(other.client_id, other.secret).status_code == 200
