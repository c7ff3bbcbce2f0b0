"""Only a token of scope graphql reads the directory; it reads only its own tenant."""

from starlette.testclient import TestClient

from tests.conftest import TenantTokens

QUERY = {"query": "{ users(first: 1) { totalCount } }"}


def test_no_token_is_401(client: TestClient, tenant: TenantTokens) -> None:
    response = client.post("/graphql", json=QUERY)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.json()["data"] is None


def test_unknown_token_is_401(client: TestClient, tenant: TenantTokens) -> None:
    response = client.post("/graphql", json=QUERY, headers={"Authorization": "Bearer bdir_nope"})
    assert response.status_code == 401


def test_scim_token_is_403(client: TestClient, tenant: TenantTokens) -> None:
    response = client.post("/graphql", json=QUERY, headers=tenant.scim_headers())
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "graphql" in response.json()["errors"][0]["message"]


def test_graphql_token_reads(client: TestClient, tenant: TenantTokens) -> None:
    response = client.post("/graphql", json=QUERY, headers=tenant.graphql_headers())
    assert response.status_code == 200
    assert response.json() == {"data": {"users": {"totalCount": 0}}}


def test_the_api_is_read_only(client: TestClient, tenant: TenantTokens) -> None:
    response = client.post(
        "/graphql",
        json={"query": 'mutation { deleteUser(id: "x") }'},
        headers=tenant.graphql_headers(),
    )
    assert response.status_code in (200, 400)
    assert response.json()["data"] is None
    assert response.json()["errors"]
