"""HTTP hardening: security headers on every answer, CORS closed unless configured, a deadline
for request bodies (with a real server and a slow client), and no internals in any 500."""

import socket
from collections.abc import Iterator

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.main import create_app
from app.security_headers import API_POLICY, PAGE_POLICY
from app.settings import Settings
from db.database import Database
from db.oauth_clients import create_client
from db.tokens import TokenScope
from db.types import utcnow
from tests.conftest import TenantTokens
from tests.live_server import live_server

HTML = {"Accept": "text/html"}


def assert_hardened(response: object, policy: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-security-policy"] == policy


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/scim/v2/ServiceProviderConfig", "scim", 200),
        ("GET", "/scim/Users", None, 401),
        ("GET", "/scim/v2/Users/nobody", "scim", 404),
        ("POST", "/graphql", "graphql", 200),
        ("POST", "/graphql", "scim", 403),
        ("POST", "/oauth/token", None, 400),
        ("GET", "/healthz", None, 200),
        ("GET", "/nowhere", None, 404),
        ("GET", "/static/site.css", None, 200),
    ],
)
def test_every_api_answer_carries_the_headers_and_loads_nothing(
    client: TestClient,
    tenant: TenantTokens,
    method: str,
    path: str,
    headers: str | None,
    status: int,
) -> None:
    auth = {"scim": tenant.scim_headers(), "graphql": tenant.graphql_headers(), None: {}}
    response = client.request(
        method,
        path,
        headers=auth[headers],
        json={"query": "{ tenant { slug } }"} if path == "/graphql" else None,
    )
    assert response.status_code == status
    assert_hardened(response, API_POLICY)


@pytest.mark.parametrize(("path", "headers"), [("/", {}), ("/orgchart", {}), ("/graphql", HTML)])
def test_html_pages_get_the_page_policy(
    client: TestClient, path: str, headers: dict[str, str]
) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_hardened(response, PAGE_POLICY)
    assert "'unsafe-inline'" not in PAGE_POLICY
    assert "'unsafe-eval'" not in PAGE_POLICY


PREFLIGHT = {
    "Origin": "https://blink.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


def test_cors_is_closed_by_default(client: TestClient, tenant: TenantTokens) -> None:
    preflight = client.options("/graphql", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in preflight.headers
    answer = client.post(
        "/graphql",
        json={"query": "{ tenant { slug } }"},
        headers={"Origin": "https://blink.example", **tenant.graphql_headers()},
    )
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers


def test_cors_opens_to_the_origins_named_only(database_url: str, tenant: TenantTokens) -> None:
    settings = Settings(
        database_url=database_url, cors_origins="https://blink.example, http://localhost:3000"
    )
    with TestClient(create_app(settings)) as client:
        preflight = client.options("/graphql", headers=PREFLIGHT)
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://blink.example"
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        answer = client.post(
            "/graphql",
            json={"query": "{ tenant { slug } }"},
            headers={"Origin": "http://localhost:3000", **tenant.graphql_headers()},
        )
        assert answer.headers["access-control-allow-origin"] == "http://localhost:3000"
        other = client.options("/graphql", headers={**PREFLIGHT, "Origin": "https://evil.example"})
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("origins", ["*", "https://blink.example/app", "blink.example", "ftp://x"])
def test_cors_origins_must_be_origins(origins: str) -> None:
    with pytest.raises(ValidationError, match="cors_origins"):
        Settings(cors_origins=origins)


# --- no internals in a 500 ---------------------------------------------------------------

LEAK = "SELECT secret_column FROM api_token"


def broken(*args: object, **kwargs: object) -> object:
    raise OperationalError(LEAK, {}, RuntimeError("disk I/O error at /var/lib/blink"))


@pytest.fixture
def fragile(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def assert_reveals_nothing(text: str) -> None:
    for secret in (
        "secret_column",
        "SELECT",
        "Traceback",
        "OperationalError",
        'File "',
        "/var/lib",
    ):
        assert secret not in text


def test_scim_hides_an_internal_error(
    app: Starlette, fragile: TestClient, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.database, "read", broken)
    response = fragile.get("/scim/v2/Users/some-id", headers=tenant.scim_headers())
    assert response.status_code == 500
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert_reveals_nothing(response.text)
    assert_hardened(response, API_POLICY)


def test_graphql_hides_an_internal_error(
    app: Starlette, fragile: TestClient, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.database, "read", broken)
    response = fragile.post(
        "/graphql",
        json={"query": "{ users(first: 1) { totalCount } }"},
        headers=tenant.graphql_headers(),
    )
    # GraphQL over HTTP: the field fails, masked; the request itself was well formed.
    assert response.status_code == 200
    assert [error["message"] for error in response.json()["errors"]] == ["Unexpected error."]
    assert_reveals_nothing(response.text)
    assert_hardened(response, API_POLICY)


def test_the_token_endpoint_hides_an_internal_error(
    app: Starlette, fragile: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.database, "write", broken)
    response = fragile.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
    )
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert_reveals_nothing(response.text)
    assert_hardened(response, API_POLICY)


def test_a_web_page_hides_an_internal_error(
    fragile: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.web.pages.escape", broken)
    response = fragile.get("/")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert_hardened(response, API_POLICY)


# --- timeouts, over real HTTP -------------------------------------------------------------


def exchange(base_url: str, head: bytes, body_parts: list[bytes]) -> bytes:
    """Send a request head and then part of a body, and read until the server hangs up."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def slow_form(
    path: str, extra: str = "", content_type: str = "application/x-www-form-urlencoded"
) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\n{extra}"
        f"Content-Type: {content_type}\r\nContent-Length: 100\r\n\r\n"
    ).encode()


@pytest.fixture
def slow_server(settings: Settings) -> Iterator[str]:
    with live_server(settings.model_copy(update={"body_timeout_seconds": 0.5})) as url:
        yield url


@pytest.mark.parametrize("front_end", ["oauth", "scim", "graphql"])
def test_a_body_sent_too_slowly_gets_408_and_the_connection_closes(
    slow_server: str, tenant: TenantTokens, front_end: str
) -> None:
    if front_end == "oauth":
        head = slow_form("/oauth/token")
    elif front_end == "scim":
        head = slow_form(
            "/scim/v2/Users", f"Authorization: Bearer {tenant.scim}\r\n", "application/scim+json"
        )
    else:
        head = slow_form(
            "/graphql", f"Authorization: Bearer {tenant.graphql}\r\n", "application/json"
        )
    # Ten bytes of the hundred announced, then nothing: the server must not wait forever
    # (recv returns b"" once it closes the connection; the socket timeout fails the test).
    received = exchange(slow_server, head, [b"grant_type"])
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    assert b"connection: close" in rest.lower()
    assert b"x-content-type-options: nosniff" in rest.lower()


def test_a_body_in_time_is_read(slow_server: str, database: Database, tenant: TenantTokens) -> None:
    issued = database.write_sync(
        lambda connection: create_client(connection, "acme", TokenScope.SCIM, utcnow())[1]
    )
    form = (
        f"grant_type=client_credentials&client_id={issued.client_id}&client_secret={issued.secret}"
    )
    head = (
        "POST /oauth/token HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(form)}\r\n\r\n"
    ).encode()
    received = exchange(slow_server, head, [form.encode()[:10], form.encode()[10:]])
    assert received.startswith(b"HTTP/1.1 200 OK")
    assert b'"access_token":"bdat_' in received
