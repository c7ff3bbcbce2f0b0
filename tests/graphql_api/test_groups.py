"""Groups: look-ups, pages of groups and of members, and a user's groups."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from db.database import Database
from tests.conftest import TenantTokens
from tests.directory_rows import count_statements
from tests.graphql_api.conftest import GraphQLClient
from tests.graphql_api.org_model import Org, generate_org
from tests.graphql_api.seeding import seeder_for


@dataclass(frozen=True)
class Teams:
    org: Org
    group_ids: list[str]  # of "Team L", "Team K", … "Team A", as SCIM assigned them


@pytest.fixture
def teams(client: TestClient, tenant: TenantTokens) -> Teams:
    seeder = seeder_for(client, tenant)
    org = seeder.add_people(generate_org(60))
    people = sorted(org.people)
    group_ids = [
        seeder.add_group(f"Team {chr(ord('L') - n)}", people[n : n + 5 * (n % 3)])
        for n in range(12)
    ]
    return Teams(org, group_ids)


def test_group_lookups_and_member_pages(
    client: TestClient, tenant: TenantTokens, teams: Teams
) -> None:
    gql = GraphQLClient(client, tenant)
    org, group_ids = teams.org, teams.group_ids
    data = gql.data(
        """query($id: ID!) { byName: group(displayName: "team k") { id displayName }
                             byId: group(id: $id) { displayName }
                             node(id: $id) { id ... on Group { displayName } } }""",
        {"id": group_ids[2]},
    )
    assert data == {
        "byName": {"id": group_ids[1], "displayName": "Team K"},
        "byId": {"displayName": "Team J"},
        "node": {"id": group_ids[2], "displayName": "Team J"},
    }
    members_query = """query($id: ID!, $after: String) { group(id: $id) {
        members(first: 3, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }"""
    seen: list[str] = []
    after = None
    while True:
        members = gql.data(members_query, {"id": group_ids[2], "after": after})["group"]["members"]
        assert members["totalCount"] == 10
        seen += [edge["node"]["id"] for edge in members["edges"]]
        if not members["pageInfo"]["hasNextPage"]:
            break
        after = members["pageInfo"]["endCursor"]
    assert seen == sorted(sorted(org.people)[2:12], key=org.sort_key)


def test_group_pages_and_search(client: TestClient, tenant: TenantTokens, teams: Teams) -> None:
    gql = GraphQLClient(client, tenant)
    query = """query($after: String, $search: String) {
        groups(first: 5, after: $after, filter: { search: $search }) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { displayName } } } }"""
    names: list[str] = []
    after = None
    while True:
        page = gql.data(query, {"after": after})["groups"]
        names += [edge["node"]["displayName"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert names == sorted(f"Team {chr(ord('L') - n)}" for n in range(12))
    found = gql.data(query, {"search": "AM K"})["groups"]
    assert found["totalCount"] == 1
    assert found["edges"] == [{"node": {"displayName": "Team K"}}]


def test_a_users_groups(client: TestClient, tenant: TenantTokens, teams: Teams) -> None:
    gql = GraphQLClient(client, tenant)
    user_id = sorted(teams.org.people)[7]  # in groups 2, 4, 5, 7 (see the fixture's slices)
    query = """query($after: String) { users(first: 100) { edges { node { id
        groups(first: 2, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { displayName } } } } } } }"""
    expected = sorted(f"Team {chr(ord('L') - n)}" for n in range(12) if n <= 7 < n + 5 * (n % 3))
    names: list[str] = []
    after = None
    while True:
        edges = gql.data(query, {"after": after})["users"]["edges"]
        groups = next(edge["node"]["groups"] for edge in edges if edge["node"]["id"] == user_id)
        assert groups["totalCount"] == len(expected)
        names += [edge["node"]["displayName"] for edge in groups["edges"]]
        if not groups["pageInfo"]["hasNextPage"]:
            break
        after = groups["pageInfo"]["endCursor"]
    assert names == expected


def test_one_users_groups_page_as_a_profile_card_asks(
    client: TestClient, tenant: TenantTokens, teams: Teams
) -> None:
    """One user alone (its first page has a statement of its own): the same pages."""
    gql = GraphQLClient(client, tenant)
    user_id = sorted(teams.org.people)[7]
    query = """query($id: ID!, $after: String) { user(id: $id) { groups(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { displayName } } } } }"""
    expected = sorted(f"Team {chr(ord('L') - n)}" for n in range(12) if n <= 7 < n + 5 * (n % 3))
    first = gql.data(query, {"id": user_id})["user"]["groups"]
    assert first["totalCount"] == len(expected) > 2
    assert first["pageInfo"]["hasNextPage"] is True
    names = [edge["node"]["displayName"] for edge in first["edges"]]
    after = first["pageInfo"]["endCursor"]
    while after is not None:
        page = gql.data(query, {"id": user_id, "after": after})["user"]["groups"]
        names += [edge["node"]["displayName"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert names == expected


#: A profile card's groups with its manager, read with the person (one statement) ...
CARD = """query($id: ID!, $first: Int, $after: String) { user(id: $id) {
    id manager { id displayName } groups(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id displayName } } } } }"""
#: ... and the same selection in a named fragment, which the person's read does not look into.
CARD_APART = """query($id: ID!, $first: Int, $after: String) { user(id: $id) { ...Card } }
fragment Card on User { id manager { id displayName } groups(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id displayName } } } }"""


def _statements(
    client: TestClient, gql: GraphQLClient, query: str, variables: dict[str, Any]
) -> int:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    gql.data(query, variables)  # the token is cached after the first request
    with count_statements(*database.engines) as counted:
        gql.data(query, variables)
    return len([s for s in counted.statements if s.strip().upper() != "BEGIN"])


@pytest.mark.parametrize("first", [None, 1, 2, 3])
def test_a_users_groups_read_with_the_user_answer_as_read_apart(
    client: TestClient, tenant: TenantTokens, teams: Teams, first: int | None
) -> None:
    """Every person's groups, page by page: the same answer whether the first page comes in
    the person's own statement or from the groups' read; later pages are read apart."""
    gql = GraphQLClient(client, tenant)
    for user_id in [*sorted(teams.org.people)[:16], "no-such-user"]:
        after = None
        while True:
            variables = {"id": user_id, "first": first, "after": after}
            together = gql.data(CARD, variables)
            assert together == gql.data(CARD_APART, variables)
            if together["user"] is None:
                break
            groups = together["user"]["groups"]
            if not groups["pageInfo"]["hasNextPage"]:
                break
            after = groups["pageInfo"]["endCursor"]
    people = sorted(teams.org.people)
    # in more groups than a page of 2 (see the fixture's slices), with a manager
    person = next(
        p
        for i, p in enumerate(people)
        if sum(n <= i < n + 5 * (n % 3) for n in range(12)) > 2
        and teams.org.people[p].manager_id is not None
    )
    variables = {"id": person, "first": 2, "after": None}
    card = gql.data(CARD, variables)["user"]
    assert card["manager"] is not None
    assert card["groups"]["pageInfo"]["hasNextPage"] is True
    assert _statements(client, gql, CARD, variables) == 2  # the versions, the person
    assert _statements(client, gql, CARD_APART, variables) == 3  # ... and the groups apart


@pytest.mark.parametrize(
    "arguments", [{"first": -1}, {"first": 1001}, {"after": "not-a-cursor"}, {"first": "2"}]
)
def test_bad_group_page_arguments_are_refused_by_the_field_as_before(
    client: TestClient, tenant: TenantTokens, teams: Teams, arguments: dict[str, Any]
) -> None:
    gql = GraphQLClient(client, tenant)
    variables = {"id": sorted(teams.org.people)[7], "first": 2, "after": None, **arguments}
    together = gql.client.post(
        "/graphql", json={"query": CARD, "variables": variables}, headers=tenant.graphql_headers()
    )
    apart = gql.client.post(
        "/graphql",
        json={"query": CARD_APART, "variables": variables},
        headers=tenant.graphql_headers(),
    )
    assert together.status_code == apart.status_code

    def errors(response: Any) -> list[tuple[str, Any, Any]]:
        # where in the document differs (the fragment), what the error says must not
        found = response.json()["errors"]
        return [(error["message"], error.get("path"), error.get("extensions")) for error in found]

    assert errors(together) == errors(apart)
    assert together.json().get("data") == apart.json().get("data")


def test_another_tenants_group_is_null(
    client: TestClient, make_tenant: Callable[[str], TenantTokens], teams: Teams
) -> None:
    globex = make_tenant("globex")
    data = GraphQLClient(client, globex).data(
        """query($id: ID!) { group(id: $id) { id } node(id: $id) { id }
                             groups { totalCount } }""",
        {"id": teams.group_ids[0]},
    )
    assert data == {"group": None, "node": None, "groups": {"totalCount": 0}}
