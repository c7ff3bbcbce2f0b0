"""Groups: look-ups, pages of groups and of members, and a user's groups."""

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from db.database import Database
from tests.conftest import TenantTokens
from tests.graphql_api.conftest import GraphQLClient
from tests.graphql_api.org_model import Org, generate_org
from tests.graphql_api.seeding import seeder_for

GROUP_IDS = [f"00000000-0000-4000-9000-{n:012d}" for n in range(12)]


@pytest.fixture
def org(client: TestClient, tenant: TenantTokens, database: Database) -> Org:
    org = generate_org(60)
    seeder = seeder_for(database, client, tenant)
    seeder.add_people(org)
    people = sorted(org.people)
    for n, group_id in enumerate(GROUP_IDS):
        members = people[n : n + 5 * (n % 3)]
        seeder.add_group(group_id, f"Team {chr(ord('L') - n)}", members)
    return org


def test_group_lookups_and_member_pages(client: TestClient, tenant: TenantTokens, org: Org) -> None:
    gql = GraphQLClient(client, tenant)
    data = gql.data(
        """query($id: ID!) { byName: group(displayName: "team k") { id displayName }
                             byId: group(id: $id) { displayName }
                             node(id: $id) { id ... on Group { displayName } } }""",
        {"id": GROUP_IDS[2]},
    )
    assert data == {
        "byName": {"id": GROUP_IDS[1], "displayName": "Team K"},
        "byId": {"displayName": "Team J"},
        "node": {"id": GROUP_IDS[2], "displayName": "Team J"},
    }
    members_query = """query($id: ID!, $after: String) { group(id: $id) {
        members(first: 3, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }"""
    seen: list[str] = []
    after = None
    while True:
        members = gql.data(members_query, {"id": GROUP_IDS[2], "after": after})["group"]["members"]
        assert members["totalCount"] == 10
        seen += [edge["node"]["id"] for edge in members["edges"]]
        if not members["pageInfo"]["hasNextPage"]:
            break
        after = members["pageInfo"]["endCursor"]
    assert seen == sorted(sorted(org.people)[2:12], key=org.sort_key)


def test_group_pages_and_search(client: TestClient, tenant: TenantTokens, org: Org) -> None:
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


def test_a_users_groups(client: TestClient, tenant: TenantTokens, org: Org) -> None:
    gql = GraphQLClient(client, tenant)
    user_id = sorted(org.people)[7]  # in groups 2, 4, 5, 7 (see the fixture's slices)
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


def test_another_tenants_group_is_null(
    client: TestClient, make_tenant: Callable[[str], TenantTokens], org: Org
) -> None:
    globex = make_tenant("globex")
    data = GraphQLClient(client, globex).data(
        """query($id: ID!) { group(id: $id) { id } node(id: $id) { id }
                             groups { totalCount } }""",
        {"id": GROUP_IDS[0]},
    )
    assert data == {"group": None, "node": None, "groups": {"totalCount": 0}}
