"""Every operation of graphql/operations costs a fixed, small number of SQL statements,
whatever the size of the org (issue 17): the same statements on a small and a larger org."""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from db.database import Database
from tests.conftest import TenantTokens
from tests.directory_rows import count_statements, is_background
from tests.graphql_api.org_model import Org, generate_org
from tests.graphql_api.seeding import seeder_for
from tests.graphql_api.test_statement_counts import shapes

ROOT = Path(__file__).resolve().parents[2]
#: The operations answered over HTTP (a subscription streams over WebSocket instead).
OPERATIONS = sorted(
    path
    for path in (ROOT / "graphql" / "operations").glob("*.graphql")
    if not re.search(r"^subscription\b", path.read_text(), re.MULTILINE)
)
SIZES = (40, 200)
#: The statements each operation may take, the tenant's versions (the ETag) included. Issue
#: 17 asks for at most 4, independent of the org's size.
MOST = {
    "profile_card": 2,  # versions, the user with the manager and the groups page with its count
    "org_chart": 2,  # versions, the user with the chain and the teams of the manager and the user
    "team_list": 2,  # versions, the manager with the page of the team
    "search": 3,
    "skip_level": 3,
    "reporting_path": 2,  # versions, both people by userName with both chains
    "user_history": 2,  # versions (and whether events wait for their number), user with history
    "provisioning_health": 3,  # versions, the summary, the failures page
}


def _a_manager(org: Org) -> str:
    return next(
        u
        for u in sorted(org.people)
        if org.people[u].active
        and len(org.direct_reports(u)) >= 2
        and org.peers(u)
        and org.reports(u, 2, 2)
        and org.chain(u)
    )


def variables_for(name: str, org: Org) -> dict[str, Any]:
    manager = _a_manager(org)
    person = org.people[manager]
    other = org.people[org.direct_reports(manager)[0]]
    return {
        "profile_card": {"id": manager},
        "org_chart": {"id": manager},
        "team_list": {"managerId": manager},
        "search": {"search": "a"},
        "skip_level": {"id": manager},
        "reporting_path": {"from": person.user_name, "to": other.user_name},
        "user_history": {"userName": person.user_name},
        "provisioning_health": {"since": "2020-01-01T00:00:00Z"},
    }[name]


@pytest.fixture
def orgs(
    client: TestClient, make_tenant: Callable[[str], TenantTokens]
) -> list[tuple[TenantTokens, Org]]:
    seeded = []
    for size in SIZES:
        tokens = make_tenant(f"org{size}")
        seeded.append((tokens, seeder_for(client, tokens).add_people(generate_org(size, size))))
    return seeded


def statements(client: TestClient, tokens: TenantTokens, query: str, variables: Any) -> list[str]:
    database: Database = client.app.state.database  # type: ignore[attr-defined]

    def run() -> None:
        body = {"query": query, "variables": variables}
        response = client.post("/graphql", json=body, headers=tokens.graphql_headers())
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.json()

    run()  # warms the token cache, the org figures and the activity log's numbering
    with count_statements(*database.engines) as log:
        run()
    return [s for s in log.statements if s.strip().upper() != "BEGIN" and not is_background(s)]


def test_every_operation_costs_the_same_few_statements_at_two_org_sizes(
    client: TestClient, orgs: list[tuple[TenantTokens, Org]]
) -> None:
    assert {path.stem for path in OPERATIONS} == set(MOST)
    for path in OPERATIONS:
        counted = [
            statements(client, tokens, path.read_text(), variables_for(path.stem, org))
            for tokens, org in orgs
        ]
        small, large = counted
        assert len(small) == len(large) <= MOST[path.stem], (path.stem, small)
        assert shapes(small) == shapes(large), path.stem
