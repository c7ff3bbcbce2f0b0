"""Query.tenant answers from the caller's token, never another tenant's."""

from collections.abc import Callable

from starlette.testclient import TestClient

from tests.conftest import TenantTokens


def test_tenant_is_the_tokens_tenant(
    client: TestClient, make_tenant: Callable[[str], TenantTokens]
) -> None:
    acme, globex = make_tenant("acme"), make_tenant("globex")
    for tokens in (acme, globex):
        response = client.post(
            "/graphql",
            json={"query": "{ tenant { slug name } }"},
            headers=tokens.graphql_headers(),
        )
        assert response.status_code == 200
        assert response.json() == {
            "data": {"tenant": {"slug": tokens.slug, "name": tokens.slug.title()}}
        }


def test_graphiql_page_loads_without_a_token(client: TestClient) -> None:
    response = client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_queries_over_get_still_need_a_token(client: TestClient) -> None:
    response = client.get(
        "/graphql", params={"query": "{ tenant { slug } }"}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 401
