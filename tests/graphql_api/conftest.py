"""A seeded org per test module and backend, and helpers to query it over HTTP."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection
from starlette.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from db.database import Database
from db.tenants import create_tenant
from db.tokens import TokenScope, issue_token
from tests.conftest import BACKENDS, TenantTokens, empty_database_url
from tests.graphql_api.org_model import Org, generate_org
from tests.graphql_api.seeding import ScimSeeder, seeder_for


@dataclass
class GraphQLClient:
    client: TestClient
    tokens: TenantTokens

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=self.tokens.graphql_headers(),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.post(query, variables)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    def errors(self, query: str, variables: dict[str, Any] | None = None) -> list[str]:
        body = self.post(query, variables)
        assert body.get("errors"), body
        return [error["message"] for error in body["errors"]]


@dataclass
class SeededOrg:
    org: Org
    database: Database
    acme: GraphQLClient
    globex: GraphQLClient
    globex_org: Org
    seeder: ScimSeeder  # of tenant acme


def make_tokens(database: Database, slug: str) -> TenantTokens:
    def work(connection: Connection) -> TenantTokens:
        create_tenant(connection, slug, slug.title())
        scim = issue_token(connection, slug, TokenScope.SCIM)
        graphql = issue_token(connection, slug, TokenScope.GRAPHQL)
        return TenantTokens(slug, scim.secret, graphql.secret)

    return database.write_sync(work)


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SeededOrg]:
    """Tenant acme with a generated org of ``ORG_SIZE`` (module attribute) users, and tenant
    globex with a small org of its own; built through SCIM once per module and backend."""
    url = empty_database_url(request, tmp_path_factory.mktemp("org"), sqlite_template)
    size = getattr(request.module, "ORG_SIZE", 3000)
    app = create_app(Settings(database_url=url, db_analyze_seconds=0))
    database: Database = app.state.database
    acme, globex = make_tokens(database, "acme"), make_tokens(database, "globex")
    with TestClient(app) as client:
        seeder = seeder_for(client, acme)
        org = seeder.add_people(generate_org(size))
        globex_org = seeder_for(client, globex).add_people(generate_org(30, seed=99))
        yield SeededOrg(
            org,
            database,
            GraphQLClient(client, acme),
            GraphQLClient(client, globex),
            globex_org,
            seeder,
        )
