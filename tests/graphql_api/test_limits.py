"""Limits are checked before anything runs, and say which limit and by how much."""

from typing import Any

import pytest
from starlette.testclient import TestClient

from app.graphql_api import cost
from app.graphql_api.cost import document_plans
from app.graphql_api.limits import COST_BUDGET, MAX_ALIASES, MAX_QUERY_DEPTH, MAX_TOKENS
from app.main import create_app
from app.settings import Settings
from tests.conftest import TenantTokens
from tests.graphql_api.conftest import GraphQLClient
from tests.graphql_api.org_model import generate_org
from tests.graphql_api.seeding import seeder_for


@pytest.fixture
def gql(client: TestClient, tenant: TenantTokens) -> GraphQLClient:
    return GraphQLClient(client, tenant)


def rejected(gql: GraphQLClient, query: str, variables: dict[str, object] | None = None) -> str:
    body = gql.post(query, variables)
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    message: str = body["errors"][0]["message"]
    return message


@pytest.mark.parametrize("first", [0, -1, 101, 1000])
def test_first_out_of_range_names_the_limit(gql: GraphQLClient, first: int) -> None:
    expected = f"first must be between 1 and 100 (got {first})"
    assert rejected(gql, f"{{ users(first: {first}) {{ totalCount }} }}") == expected
    query = "query($n: Int) { roots(first: $n) { totalCount } }"
    assert rejected(gql, query, {"n": first}) == expected


def test_first_inside_nested_connections_is_checked_too(gql: GraphQLClient) -> None:
    query = (
        """{ users(first: 5) { edges { node { directReports(first: 500) { totalCount } } } } }"""
    )
    assert rejected(gql, query) == "first must be between 1 and 100 (got 500)"


def test_too_deep(gql: GraphQLClient) -> None:
    nested = "id"
    for _ in range(MAX_QUERY_DEPTH):
        nested = f"manager {{ {nested} }}"
    message = rejected(gql, f'{{ user(id: "x") {{ {nested} }} }}')
    assert f"exceeds maximum operation depth of {MAX_QUERY_DEPTH}" in message


def test_too_costly_states_cost_and_budget(gql: GraphQLClient) -> None:
    query = """{ users(first: 100) { edges { node {
        directReports(first: 100) { edges { node { directReports(first: 100) { totalCount } } } }
    } } } }"""
    assert rejected(gql, query) == (
        f"query cost 1010100 exceeds the budget of {COST_BUDGET} "
        "(each connection counts `first` nodes per parent node)"
    )


def test_cost_counts_fragments_variables_and_chains(gql: GraphQLClient) -> None:
    query = """query($n: Int!) { users(first: $n) { edges { node { ...Deep } } } }
    fragment Deep on User { reports(first: 100) { edges { node { managementChain { id } } } } }"""
    # 100 + 100 * 100 + 100 * 100 * 50 (managementChain's default maxDepth)
    assert rejected(gql, query, {"n": 100}).startswith("query cost 510100 exceeds")
    # within budget: 2 + 2 * 100 + 2 * 100 * 50
    body = gql.post(query, {"n": 2})
    assert body == {"data": {"users": {"edges": []}}}


def test_the_cost_is_planned_once_per_document_and_read_per_request(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned: list[str | None] = []

    def counting(schema: Any, document: Any, operation_name: str | None) -> Any:
        planned.append(operation_name)
        return document_plans(schema, document, operation_name)

    monkeypatch.setattr(cost, "document_plans", counting)
    query = """query Planned($n: Int!) { users(first: $n) { edges { node { ...Deep } } } }
    fragment Deep on User { reports(first: 100) { edges { node { managementChain { id } } } } }"""
    assert gql.post(query, {"n": 2}) == {"data": {"users": {"edges": []}}}
    assert len(planned) == 1
    # the same document again: its plan is reused, and each request's $n is honoured
    assert gql.post(query, {"n": 2}) == {"data": {"users": {"edges": []}}}
    assert rejected(gql, query, {"n": 100}).startswith("query cost 510100 exceeds")
    assert gql.errors(query, {"n": 101})[0] == "first must be between 1 and 100 (got 101)"
    assert len(planned) == 1
    # another document is planned once too
    other = "{ users(first: 3) { totalCount } }"
    gql.post(other)
    gql.post(other)
    assert len(planned) == 2


def test_the_cost_of_repeated_sizes_is_read_from_the_plan(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sizes' variables are coerced once per distinct value (and type), not per request;
    the verdict for each stays the one the first request of that value got."""
    coerced: list[dict[str, Any]] = []
    coerce = cost.get_variable_values

    def counting(schema: Any, definitions: Any, inputs: dict[str, Any]) -> Any:
        coerced.append(dict(inputs))
        return coerce(schema, definitions, inputs)

    monkeypatch.setattr(cost, "get_variable_values", counting)
    query = """query Sized($n: Int = 2, $who: String) {
      users(first: $n, filter: { search: $who }) { edges { node { id } } } }"""
    empty = {"data": {"users": {"edges": []}}}
    for who in ("ada", "grace", None):
        assert gql.post(query, {"n": 2, "who": who}) == empty
    assert len(coerced) == 1  # only $n is a size: $who does not matter
    assert gql.post(query, {"who": "ada"}) == empty  # $n absent: its default
    assert gql.post(query, {"who": "ada"}) == empty
    assert len(coerced) == 2
    for _ in range(2):
        assert gql.errors(query, {"n": 101})[0] == "first must be between 1 and 100 (got 101)"
    assert len(coerced) == 3
    # True equals 1 in Python, but is no Int: it gets a verdict of its own, execution's error
    assert gql.post(query, {"n": 1}) == empty
    assert "Int cannot represent non-integer value: True" in gql.errors(query, {"n": True})[0]
    assert len(coerced) == 5
    # a list is no key: coerced on every request, refused by execution every time
    for _ in range(2):
        assert gql.errors(query, {"n": [1]})
    assert len(coerced) == 7


def test_too_many_aliases(gql: GraphQLClient) -> None:
    fields = " ".join(f"a{i}: tenant {{ slug }}" for i in range(MAX_ALIASES + 1))
    assert rejected(gql, f"{{ {fields} }}") == (
        f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}"
    )


def test_too_many_tokens(gql: GraphQLClient) -> None:
    fields = " ".join("tenant { slug name }" for _ in range(500))
    assert rejected(gql, f"{{ {fields} }}") == (
        f"Syntax Error: Document contains more than {MAX_TOKENS} tokens. Parsing aborted."
    )


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("managementChain(maxDepth: 0) { id }", "maxDepth must be between 1 and 100 (got 0)"),
        ("reports(maxDepth: 51) { totalCount }", "maxDepth must be between 1 and 50 (got 51)"),
        (
            "reports(minDepth: 4, maxDepth: 3) { totalCount }",
            "minDepth must be between 1 and 3 (got 4)",
        ),
        ('directReports(after: "bogus") { totalCount }', "invalid cursor for this list"),
    ],
)
def test_argument_errors_are_shown(
    gql: GraphQLClient, tenant: TenantTokens, field: str, message: str
) -> None:
    org = seeder_for(gql.client, tenant).add_people(generate_org(5))
    body = gql.post(
        f"query($id: ID!) {{ user(id: $id) {{ {field} }} }}", {"id": next(iter(org.people))}
    )
    assert [error["message"] for error in body["errors"]] == [message]
    assert body["data"] == {"user": None}


def test_unexpected_errors_are_masked(gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError('SELECT secret FROM "user" -- internal detail')

    monkeypatch.setattr("app.graphql_api.loaders.users_by_ids", broken)
    body = gql.post('{ user(id: "x") { id } }')
    assert body["errors"][0]["message"] == "Unexpected error."
    assert "secret" not in str(body)
    assert "Traceback" not in str(body)


def test_debug_shows_unexpected_errors(
    settings: Settings, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail")

    monkeypatch.setattr("app.graphql_api.loaders.users_by_ids", broken)
    app = create_app(settings.model_copy(update={"debug": True}))
    with TestClient(app) as client:
        body = GraphQLClient(client, tenant).post('{ user(id: "x") { id } }')
    assert body["errors"][0]["message"] == "internal detail"
