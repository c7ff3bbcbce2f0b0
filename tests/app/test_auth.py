"""Every /scim and /graphql request needs a valid token of the right scope."""

from collections.abc import Callable, Iterator

import anyio
import pytest
from sqlalchemy import event
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.auth import TokenVerifier
from db.database import Database
from db.tokens import revoke_token
from tests.conftest import TenantTokens

SCIM_URL = "/scim/v2/ServiceProviderConfig"
GRAPHQL_QUERY = {"query": "{ tenant { slug } }"}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a b", "Bearer bdir_unknown"],
)
def test_scim_without_a_valid_token_is_401_with_scim_error(
    scim: TestClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    scim.headers.pop("Authorization")
    response = scim.get(SCIM_URL, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/scim+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == "401"


def test_graphql_without_a_valid_token_is_401_with_graphql_errors(
    client: TestClient, tenant: TenantTokens
) -> None:
    response = client.post("/graphql", json=GRAPHQL_QUERY)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    response = client.post(
        "/graphql", json=GRAPHQL_QUERY, headers={"Authorization": "Bearer bdir_nope"}
    )
    assert response.status_code == 401


def test_wrong_scope_is_403(client: TestClient, tenant: TenantTokens) -> None:
    response = client.get(SCIM_URL, headers=tenant.graphql_headers())
    assert response.status_code == 403
    assert response.json()["status"] == "403"
    response = client.post("/graphql", json=GRAPHQL_QUERY, headers=tenant.scim_headers())
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_bearer_scheme_is_case_insensitive(client: TestClient, tenant: TenantTokens) -> None:
    response = client.get(SCIM_URL, headers={"Authorization": f"bearer {tenant.scim}"})
    assert response.status_code == 200


@pytest.fixture
def statements(app: Starlette) -> Iterator[list[str]]:
    """Every SQL statement the app's engines run, in order."""
    seen: list[str] = []
    database: Database = app.state.database
    engines = database.engines

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    yield seen
    for engine in engines:
        event.remove(engine, "before_cursor_execute", record)


def test_a_warm_token_costs_no_database_round_trip(scim: TestClient, statements: list[str]) -> None:
    assert scim.get(SCIM_URL).status_code == 200
    assert any("api_token" in statement for statement in statements)
    statements.clear()
    for _ in range(5):
        assert scim.get(SCIM_URL).status_code == 200
    assert not [statement for statement in statements if "api_token" in statement]


def test_revoked_token_stops_working(
    app: Starlette, scim: TestClient, tenant: TenantTokens, database: Database
) -> None:
    assert scim.get(SCIM_URL).status_code == 200
    [token_id] = [
        row.id
        for row in database.read_sync(
            lambda connection: connection.exec_driver_sql(
                "SELECT id FROM api_token WHERE scope = 'scim'"
            ).all()
        )
    ]
    database.write_sync(lambda connection: revoke_token(connection, token_id))
    verifier: TokenVerifier = app.state.token_verifier
    verifier.forget(token_id)  # what the cache TTL does within seconds in other processes
    assert scim.get(SCIM_URL).status_code == 401


def test_revocation_elsewhere_takes_effect_when_the_cache_entry_expires(
    make_tenant: Callable[[str], TenantTokens],
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = make_tenant("globex")
    clock = [1000.0]
    monkeypatch.setattr("app.auth.monotonic", lambda: clock[0])
    verifier = TokenVerifier(database, ttl_seconds=5.0)

    assert anyio.run(verifier.verify, tokens.scim) is not None
    database.write_sync(
        lambda connection: connection.exec_driver_sql("UPDATE api_token SET revoked = created")
    )
    assert anyio.run(verifier.verify, tokens.scim) is not None  # still trusted from the cache
    clock[0] += 5.1
    assert anyio.run(verifier.verify, tokens.scim) is None


@pytest.mark.parametrize("placeholder", ["<your graphql token>", "<token>"])
def test_a_placeholder_left_in_is_named(
    client: TestClient, tenant: TenantTokens, placeholder: str
) -> None:
    headers = {"Authorization": f"Bearer {placeholder}"}
    response = client.post("/graphql", json=GRAPHQL_QUERY, headers=headers)
    assert response.status_code == 401
    (error,) = response.json()["errors"]
    assert placeholder in error["message"]
    assert "replace it with a token of scope 'graphql'" in error["message"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    scim = client.get(SCIM_URL, headers=headers)
    assert scim.status_code == 401
    assert placeholder in scim.json()["detail"]
