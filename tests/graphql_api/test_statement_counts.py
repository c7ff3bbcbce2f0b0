"""No N+1: a page of users with their managers, counts and chains costs a fixed number of
SQL statements, whatever the page size."""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from db.database import Database
from tests.conftest import TenantTokens
from tests.graphql_api.org_model import Org, generate_org
from tests.graphql_api.seeding import seeder_for

PAGE = """query($first: Int!) {
  users(first: $first) {
    totalCount
    edges { node {
      displayName
      manager { displayName }
      directReportCount
      reportCount
      managementChain { id displayName }
    } }
  }
}"""

REPORTS = """query($id: ID!) {
  user(id: $id) {
    reports(first: 100, maxDepth: 3) {
      totalCount
      edges { depth node { displayName title manager { displayName } } }
    }
  }
}"""


def shapes(statements: list[str]) -> list[str]:
    """The statements with their IN lists collapsed, sorted: what was asked, not for whom."""
    in_list = re.compile(r"IN \((?:[^()]|\([^()]*\))*\)")
    return sorted(in_list.sub("IN (...)", statement) for statement in statements)


@contextmanager
def counting(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statement: str = args[2]
        # SQLite's engine opens transactions itself with BEGIN: not a query.
        if statement.strip().upper() != "BEGIN":
            statements.append(statement)

    engines = database.engines
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def statements_for(
    client: TestClient, tokens: TenantTokens, query: str, variables: dict[str, Any]
) -> list[str]:
    app_database: Database = client.app.state.database  # type: ignore[attr-defined]

    def run() -> None:
        response = client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers=tokens.graphql_headers(),
        )
        assert "errors" not in response.json(), response.json()

    run()  # warms the token cache and the org metrics of this org version
    with counting(app_database) as statements:
        run()
    return statements


@pytest.fixture
def seeded_client(
    client: TestClient, make_tenant: Callable[[str], TenantTokens]
) -> Callable[[int], tuple[TenantTokens, Org]]:
    def seed(size: int) -> tuple[TenantTokens, Org]:
        tokens = make_tenant(f"org{size}")
        return tokens, seeder_for(client, tokens).add_people(generate_org(size, seed=size))

    return seed


def test_a_page_of_users_costs_the_same_statements_for_10_and_100(
    client: TestClient, seeded_client: Callable[[int], tuple[TenantTokens, Org]]
) -> None:
    (small, _), (large, _) = seeded_client(10), seeded_client(100)
    for_small = statements_for(client, small, PAGE, {"first": 100})
    for_large = statements_for(client, large, PAGE, {"first": 100})
    # page (with each user's manager), the tenant's versions (ETag and org figures,
    # app.graphql_api.conditional; the direct-report counts come from those figures),
    # management chains; the total count was counted by the warm-up at this data version
    # and is kept (app.graphql_api.search_count_cache)
    assert len(for_small) == len(for_large) == 3
    assert shapes(for_small) == shapes(for_large)


def test_pages_of_10_and_100_users_cost_the_same_statements(
    client: TestClient, seeded_client: Callable[[int], tuple[TenantTokens, Org]]
) -> None:
    tokens, _ = seeded_client(400)
    page_of_10 = statements_for(client, tokens, PAGE, {"first": 10})
    page_of_100 = statements_for(client, tokens, PAGE, {"first": 100})
    assert len(page_of_10) == len(page_of_100) == 3  # the count is kept, as above
    assert shapes(page_of_10) == shapes(page_of_100)


def test_a_page_of_transitive_reports_takes_three_statements(
    client: TestClient, seeded_client: Callable[[int], tuple[TenantTokens, Org]]
) -> None:
    tokens, org = seeded_client(300)
    top = next(p.id for p in org.people.values() if p.manager_id is None)
    statements = statements_for(client, tokens, REPORTS, {"id": top})
    # the tenant's versions (the ETag), the user, then the subtree page with its total and
    # each report's manager
    assert len(statements) == 3
    assert sum("RECURSIVE" in statement for statement in statements) == 1


TEAMS = """query($first: Int!) {
  users(first: $first) {
    edges { node { directReports(first: 3) { totalCount edges { node { displayName } } } } }
  }
}"""


def test_teams_of_a_page_of_users_come_in_one_statement(
    client: TestClient, seeded_client: Callable[[int], tuple[TenantTokens, Org]]
) -> None:
    tokens, _ = seeded_client(400)
    page_of_10 = statements_for(client, tokens, TEAMS, {"first": 10})
    page_of_100 = statements_for(client, tokens, TEAMS, {"first": 100})
    # the tenant's versions, the page, the direct reports of all its users (their counts come
    # from the org figures)
    assert len(page_of_10) == len(page_of_100) == 3
    assert shapes(page_of_10) == shapes(page_of_100)


PEERS = """query($first: Int!) {
  users(first: $first) {
    edges { node { peers(first: 3) { totalCount edges { node { displayName } } } } }
  }
}"""


def test_peers_of_a_page_of_users_come_in_one_statement(
    client: TestClient, seeded_client: Callable[[int], tuple[TenantTokens, Org]]
) -> None:
    tokens, _ = seeded_client(400)
    page_of_10 = statements_for(client, tokens, PEERS, {"first": 10})
    page_of_100 = statements_for(client, tokens, PEERS, {"first": 100})
    # the tenant's versions, the page, the teams of all their managers (the teams' sizes come
    # from the org figures)
    assert len(page_of_10) == len(page_of_100) == 3
    assert shapes(page_of_10) == shapes(page_of_100)


SUBTREES = """query($first: Int!) {
  users(first: $first) {
    edges { node { reports(first: 3, maxDepth: 2) {
      totalCount edges { depth node { displayName manager { displayName } } } } } }
  }
}"""


def test_subtrees_of_a_page_of_users_come_in_one_statement(
    client: TestClient, seeded_client: Callable[[int], tuple[TenantTokens, Org]]
) -> None:
    tokens, _ = seeded_client(400)
    page_of_10 = statements_for(client, tokens, SUBTREES, {"first": 10})
    page_of_100 = statements_for(client, tokens, SUBTREES, {"first": 100})
    # the tenant's versions, the page, then one recursive walk from all its users with totals
    # and managers
    assert len(page_of_10) == len(page_of_100) == 3
    assert shapes(page_of_10) == shapes(page_of_100)
