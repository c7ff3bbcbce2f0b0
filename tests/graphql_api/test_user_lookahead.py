"""``user`` fetches the person with the managers its own fields show, in one statement."""

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import TenantTokens
from tests.graphql_api.org_model import Org, generate_org
from tests.graphql_api.seeding import seeder_for
from tests.graphql_api.test_operation_statements import statements

MANAGER = "query($id: ID!) { user(id: $id) { id manager { id } } }"
CHAIN_IN_FRAGMENTS = """query($id: ID!) {
  user(id: $id) { id ... on User { managementChain { id } } ...Above }
}
fragment Above on User { near: managementChain(maxDepth: 1) { id } }"""
PLAIN = "query($id: ID!) { user(id: $id) { id displayName } }"
SKIPPED = """query($id: ID!, $skip: Boolean!) {
  user(id: $id) { id managementChain @skip(if: $skip) { id } }
}"""
BY_NAME = "query($name: String!) { user(userName: $name) { id manager { id } } }"
NESTED = """query($id: ID!) {
  user(id: $id) { manager { managementChain(includeInactive: true) { id } } }
}"""


@pytest.fixture
def seeded(client: TestClient, make_tenant: Callable[[str], TenantTokens]) -> tuple[Any, Org]:
    tokens = make_tenant("acme")
    return tokens, seeder_for(client, tokens).add_people(generate_org(60, 60))


def deep_person(org: Org) -> str:
    return max(sorted(org.people), key=lambda u: len(org.chain(u, include_inactive=True)))


def answer(client: TestClient, tokens: Any, query: str, variables: dict[str, Any]) -> Any:
    body = {"query": query, "variables": variables}
    response = client.post("/graphql", json=body, headers=tokens.graphql_headers())
    assert "errors" not in response.json(), response.json()
    return response.json()["data"]


def test_the_user_comes_with_its_manager_in_one_statement(
    client: TestClient, seeded: tuple[Any, Org]
) -> None:
    tokens, org = seeded
    person = deep_person(org)
    counted = statements(client, tokens, MANAGER, {"id": person})
    assert len(counted) == 2, counted  # the tenant's versions, the user with its manager
    assert "RECURSIVE" in counted[1]
    data = answer(client, tokens, MANAGER, {"id": person})
    assert data["user"]["manager"]["id"] == org.people[person].manager_id


def test_a_chain_asked_for_in_fragments_comes_with_the_user(
    client: TestClient, seeded: tuple[Any, Org]
) -> None:
    tokens, org = seeded
    person = deep_person(org)
    assert len(org.chain(person)) >= 2
    counted = statements(client, tokens, CHAIN_IN_FRAGMENTS, {"id": person})
    assert len(counted) == 2, counted
    user = answer(client, tokens, CHAIN_IN_FRAGMENTS, {"id": person})["user"]
    assert [m["id"] for m in user["managementChain"]] == org.chain(person)
    assert [m["id"] for m in user["near"]] == org.chain(person, max_depth=1)


def test_a_user_without_such_fields_is_read_alone(
    client: TestClient, seeded: tuple[Any, Org]
) -> None:
    tokens, org = seeded
    person = deep_person(org)
    answer(client, tokens, MANAGER, {"id": person})  # another document of the same shape first
    counted = statements(client, tokens, PLAIN, {"id": person})
    assert len(counted) == 2, counted
    assert "RECURSIVE" not in counted[1]


def test_a_skipped_chain_is_not_shown(client: TestClient, seeded: tuple[Any, Org]) -> None:
    tokens, org = seeded
    person = deep_person(org)
    shown = answer(client, tokens, SKIPPED, {"id": person, "skip": False})["user"]
    assert [m["id"] for m in shown["managementChain"]] == org.chain(person)
    assert answer(client, tokens, SKIPPED, {"id": person, "skip": True})["user"] == {"id": person}


def test_by_user_name_and_for_no_such_user(client: TestClient, seeded: tuple[Any, Org]) -> None:
    tokens, org = seeded
    person = deep_person(org)
    name = org.people[person].user_name.upper()
    assert len(statements(client, tokens, BY_NAME, {"name": name})) == 2
    user = answer(client, tokens, BY_NAME, {"name": name})["user"]
    assert user == {"id": person, "manager": {"id": org.people[person].manager_id}}
    assert answer(client, tokens, BY_NAME, {"name": "nobody@example.com"}) == {"user": None}
    assert answer(client, tokens, MANAGER, {"id": "no-such-id"}) == {"user": None}


def test_a_chain_below_the_user_is_fetched_for_its_own_user(
    client: TestClient, seeded: tuple[Any, Org]
) -> None:
    tokens, org = seeded
    person = deep_person(org)
    manager = org.people[person].manager_id
    assert manager is not None
    data = answer(client, tokens, NESTED, {"id": person})
    chain = [m["id"] for m in data["user"]["manager"]["managementChain"]]
    assert chain == org.chain(manager, include_inactive=True)
