"""The org chart over GraphQL, checked field by field against an independent model.

A generated org of 3,000 users (random depth and span, inactive users, one manager loop) is
built through the SCIM API once per backend; every user's manager, chain and counts are
compared, and reports, direct reports, peers, common managers and reporting paths for a
sample.
"""

import random
import threading
from collections.abc import Callable
from typing import Any

import pytest

from db.directory_lists import UserSet
from tests.graphql_api.conftest import GraphQLClient, SeededOrg
from tests.graphql_api.org_model import Org, Person

ORG_SIZE = 3000
# Building the org over SCIM (3,000 creates and ~3,000 manager PATCHes) is what makes this
# module slow; the first test pays for it.
pytestmark = pytest.mark.slow

EVERY_USER = """
query Everyone($after: String) {
  users(first: 100, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        id userName displayName active
        manager { id }
        managementChain { id }
        allManagers: managementChain(includeInactive: true) { id }
        directReportCount
        allDirectReports: directReportCount(includeInactive: true)
        reportCount
        allReports: reportCount(includeInactive: true)
      }
    }
  }
}
"""


def ids(nodes: list[dict[str, Any]]) -> list[str]:
    return [node["id"] for node in nodes]


def edge_ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def all_pages(
    client: GraphQLClient, query: str, path: list[str], variables: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every edge of a connection, following endCursor until hasNextPage is false."""
    edges: list[dict[str, Any]] = []
    after = None
    while True:
        data: Any = client.data(query, {**variables, "after": after})
        for key in path:
            data = data[key]
        edges.extend(data["edges"])
        assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not data["pageInfo"]["hasNextPage"]:
            return edges
        assert data["pageInfo"]["endCursor"] == data["edges"][-1]["cursor"]
        after = data["pageInfo"]["endCursor"]


def sample(org: Org, count: int, seed: int = 1) -> list[str]:
    """Random users plus the interesting ones: roots, loop members, inactive users."""
    rng = random.Random(seed)
    everyone = sorted(org.people)
    special = [p.id for p in org.people.values() if p.manager_id is None]
    special += org.loop
    special += [p.id for p in org.people.values() if not p.active][:5]
    managers = [u for u in everyone if org.children().get(u)]
    return list(dict.fromkeys(special + rng.sample(managers, count) + rng.sample(everyone, count)))


def test_every_user_manager_chain_and_counts(seeded: SeededOrg) -> None:
    org = seeded.org
    edges = all_pages(seeded.acme, EVERY_USER, ["users"], {})
    assert [edge["node"]["id"] for edge in edges] == org.sorted_users()
    assert len({edge["cursor"] for edge in edges}) == ORG_SIZE
    for edge in edges:
        node = edge["node"]
        person = org.people[node["id"]]
        assert node["userName"] == person.user_name
        assert node["displayName"] == person.display_name
        assert node["active"] is person.active
        assert (node["manager"] or {}).get("id") == person.manager_id
        assert ids(node["managementChain"]) == org.chain(person.id)
        assert ids(node["allManagers"]) == org.chain(person.id, include_inactive=True)
        assert node["directReportCount"] == len(org.direct_reports(person.id))
        assert node["allDirectReports"] == len(org.direct_reports(person.id, True))
        assert node["reportCount"] == org.report_count(person.id)
        assert node["allReports"] == org.report_count(person.id, True), person.id


REPORTS = """
query Reports($id: ID!, $first: Int, $after: String, $min: Int!, $max: Int!, $all: Boolean!) {
  user(id: $id) {
    reports(first: $first, after: $after, minDepth: $min, maxDepth: $max,
            includeInactive: $all) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor depth node { id manager { id displayName } } }
    }
  }
}
"""


def manager_of(org: Org, user_id: str) -> dict[str, Any]:
    manager = org.people[org.people[user_id].manager_id or ""]
    return {"id": manager.id, "displayName": manager.display_name}


@pytest.mark.parametrize(
    ("min_depth", "max_depth", "include_inactive", "page_size"),
    [(1, 3, False, 7), (2, 2, False, 5), (1, 50, True, 100)],
)
def test_transitive_reports_with_depths_across_pages(
    seeded: SeededOrg, min_depth: int, max_depth: int, include_inactive: bool, page_size: int
) -> None:
    org = seeded.org
    for user_id in sample(org, 8):
        expected = org.reports(user_id, min_depth, max_depth, include_inactive)
        variables = {
            "id": user_id,
            "first": page_size,
            "min": min_depth,
            "max": max_depth,
            "all": include_inactive,
        }
        edges = all_pages(seeded.acme, REPORTS, ["user", "reports"], variables)
        assert [(edge["depth"], edge["node"]["id"]) for edge in edges] == expected
        # every report's manager: the root, a report listed before, or one fetched (inactive,
        # above minDepth, or on an earlier page)
        for edge in edges:
            assert edge["node"]["manager"] == manager_of(org, edge["node"]["id"])
        first_page = seeded.acme.data(REPORTS, {**variables, "after": None})
        assert first_page["user"]["reports"]["totalCount"] == len(expected)


SUBTREES = """
query Subtrees($min: Int!, $all: Boolean!) {
  users(first: 100) {
    edges { node { id reports(first: 20, minDepth: $min, maxDepth: 3, includeInactive: $all) {
      totalCount edges { depth node { id manager { id displayName } } }
    } } }
  }
}
"""


@pytest.mark.parametrize(("min_depth", "include_inactive"), [(1, False), (2, False), (1, True)])
def test_transitive_reports_of_a_page_of_users(
    seeded: SeededOrg, min_depth: int, include_inactive: bool
) -> None:
    org = seeded.org
    data = seeded.acme.data(SUBTREES, {"min": min_depth, "all": include_inactive})
    for user in data["users"]["edges"]:
        expected = org.reports(user["node"]["id"], min_depth, 3, include_inactive)
        reports = user["node"]["reports"]
        assert reports["totalCount"] == len(expected)
        edges = reports["edges"]
        assert [(edge["depth"], edge["node"]["id"]) for edge in edges] == expected[:20]
        for edge in edges:
            assert edge["node"]["manager"] == manager_of(org, edge["node"]["id"])


TEAM = """
query Team($id: ID!, $first: Int, $after: String, $all: Boolean!) {
  user(id: $id) {
    directReports(first: $first, after: $after, includeInactive: $all) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } }
    }
  }
}
"""

PEERS = """
query Peers($id: ID!, $first: Int, $after: String) {
  user(id: $id) {
    peers(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } }
    }
  }
}
"""


def test_direct_reports_and_peers_across_pages(seeded: SeededOrg) -> None:
    org = seeded.org
    for user_id in sample(org, 10):
        for include_inactive in (False, True):
            variables = {"id": user_id, "first": 3, "all": include_inactive}
            edges = all_pages(seeded.acme, TEAM, ["user", "directReports"], variables)
            assert [e["node"]["id"] for e in edges] == org.direct_reports(user_id, include_inactive)
        edges = all_pages(seeded.acme, PEERS, ["user", "peers"], {"id": user_id, "first": 4})
        assert [e["node"]["id"] for e in edges] == org.peers(user_id)


#: TEAM through a named fragment, which the ``user`` field's look-ahead does not follow: the
#: user and its team are then read apart (two statements instead of one).
TEAM_APART = """
query Team($id: ID!, $first: Int, $after: String, $all: Boolean!) { user(id: $id) { ...T } }
fragment T on User {
  directReports(first: $first, after: $after, includeInactive: $all) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } }
  }
}
"""


def test_a_team_read_with_its_manager_answers_as_read_apart(seeded: SeededOrg) -> None:
    """The user with its page of direct reports (db.user_team) answers page for page as the
    user and the page read apart, inactive users and the manager loop included."""
    for user_id in [*sample(seeded.org, 5, seed=2), "no-such-user"]:
        for include_inactive in (False, True):
            after = None
            while True:
                variables = {"id": user_id, "first": 2, "after": after, "all": include_inactive}
                together = seeded.acme.data(TEAM, variables)
                assert together == seeded.acme.data(TEAM_APART, variables)
                if together["user"] is None:
                    break
                page = together["user"]["directReports"]
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]


#: What the org chart shows of a person.
ORG_CHART_FIELDS = """
    id displayName
    managementChain(includeInactive: $all) { id }
    peers(first: 3, includeInactive: $all) {
      totalCount pageInfo { hasNextPage } edges { node { id } }
    }
    directReports(first: $teamSize, includeInactive: $all) {
      totalCount pageInfo { hasNextPage } edges { node { id directReportCount } }
    }
"""
ORG_CHART_VARIABLES = "$id: ID!, $teamSize: Int, $all: Boolean!"
ORG_CHART = f"query OrgChart({ORG_CHART_VARIABLES}) {{ user(id: $id) {{ {ORG_CHART_FIELDS} }} }}"
#: The same in a named fragment, which the look-ahead does not follow: the chain and each
#: team are then read apart.
ORG_CHART_APART = (
    f"query OrgChart({ORG_CHART_VARIABLES}) {{ user(id: $id) {{ ...F }} }}\n"
    f"fragment F on User {{ {ORG_CHART_FIELDS} }}"
)


def test_the_org_around_a_person_read_at_once_answers_as_read_apart(seeded: SeededOrg) -> None:
    """The person with the chain and the first pages of both teams (db.org_neighbourhood)
    answers as the three read apart, the model agreeing, loop members and roots included."""
    org = seeded.org
    for user_id in [*sample(org, 5, seed=3), "no-such-user"]:
        for include_inactive in (False, True):
            for size in (1, 50):
                variables = {"id": user_id, "teamSize": size, "all": include_inactive}
                together = seeded.acme.data(ORG_CHART, variables)
                assert together == seeded.acme.data(ORG_CHART_APART, variables)
                if together["user"] is None:
                    continue
                team = together["user"]["directReports"]
                assert [e["node"]["id"] for e in team["edges"]] == org.direct_reports(
                    user_id, include_inactive
                )[:size]
                peers = together["user"]["peers"]["edges"]
                assert [e["node"]["id"] for e in peers] == org.peers(user_id, include_inactive)[:3]


PAIR = """
query Pair($a: ID!, $b: ID!, $all: Boolean!) {
  commonManager(a: $a, b: $b, includeInactive: $all) { id }
  reportingPath(from: $a, to: $b, includeInactive: $all) { id }
}
"""


def test_common_manager_and_reporting_path(seeded: SeededOrg) -> None:
    org = seeded.org
    rng = random.Random(7)
    users = sample(org, 10)
    pairs = [(rng.choice(users), rng.choice(users)) for _ in range(40)]
    pairs += [(org.loop[0], org.loop[1]), (users[0], users[0])]
    # A user and someone in their own subtree: the manager is the common manager.
    manager = next(u for u in users if org.direct_reports(u))
    pairs.append((manager, org.direct_reports(manager)[0]))
    for a, b in pairs:
        for include_inactive in (False, True):
            data = seeded.acme.data(PAIR, {"a": a, "b": b, "all": include_inactive})
            expected = org.common_manager(a, b, include_inactive)
            assert (data["commonManager"] or {}).get("id") == expected
            path = org.reporting_path(a, b, include_inactive)
            got = None if data["reportingPath"] is None else ids(data["reportingPath"])
            assert got == path, (a, b)
    data = seeded.acme.data(PAIR, {"a": manager, "b": org.direct_reports(manager)[0], "all": True})
    assert data["commonManager"]["id"] == manager


def test_org_health(seeded: SeededOrg) -> None:
    org = seeded.org
    data = seeded.acme.data(
        """{ orgHealth { userCount activeUserCount rootCount maxDepth managerLoops
             widestSpan { manager { id } directReportCount }
             usersWithInactiveManagerCount usersWithInactiveManager(first: 100) { id } } }"""
    )["orgHealth"]
    people = org.people.values()
    assert data["userCount"] == ORG_SIZE
    assert data["activeUserCount"] == sum(p.active for p in people)
    assert data["rootCount"] == sum(p.manager_id is None and p.active for p in people)
    depths = [org.depth(u) for u in org.people]
    assert data["maxDepth"] == max(d for d in depths if d is not None)
    smallest = org.loop.index(min(org.loop))
    # The loop runs user -> manager; the model's loop list runs the same way.
    assert data["managerLoops"] == [org.loop[smallest:] + org.loop[:smallest]]
    spans = {u: len(org.direct_reports(u)) for u in org.people}
    widest = min(spans.items(), key=lambda item: (-item[1], item[0]))
    assert data["widestSpan"] == {"manager": {"id": widest[0]}, "directReportCount": widest[1]}
    inactive_managed = sorted(
        p.id for p in people if p.manager_id and not org.people[p.manager_id].active
    )
    assert data["usersWithInactiveManagerCount"] == len(inactive_managed)
    assert ids(data["usersWithInactiveManager"]) == inactive_managed[:100]


def test_a_manager_loop_ends_chains_and_subtrees(seeded: SeededOrg) -> None:
    org = seeded.org
    for user_id in org.loop:
        data = seeded.acme.data(
            """query($id: ID!) { user(id: $id) {
                 managementChain(includeInactive: true) { id }
                 reports(first: 100, maxDepth: 50, includeInactive: true) { totalCount }
                 reportCount(includeInactive: true) } }""",
            {"id": user_id},
        )["user"]
        chain = ids(data["managementChain"])
        assert len(chain) == len(set(chain)) == len(org.loop) - 1
        assert user_id not in chain
        assert (
            data["reports"]["totalCount"] == data["reportCount"] == org.report_count(user_id, True)
        )


def test_roots_and_lookups(seeded: SeededOrg) -> None:
    org = seeded.org
    roots = sorted(
        (p.id for p in org.people.values() if p.manager_id is None and p.active), key=org.sort_key
    )
    data = seeded.acme.data("{ roots(first: 100) { totalCount edges { node { id } } } }")
    assert edge_ids(data["roots"]) == roots
    assert data["roots"]["totalCount"] == len(roots)
    person = next(iter(org.people.values()))
    data = seeded.acme.data(
        """query($name: String!, $id: ID!) {
             byName: user(userName: $name) { id }
             node(id: $id) { id ... on User { userName } }
             missing: user(id: "00000000-0000-4000-8000-000000000000") { id } }""",
        {"name": person.user_name.upper(), "id": person.id},
    )
    assert data == {
        "byName": {"id": person.id},
        "node": {"id": person.id, "userName": person.user_name},
        "missing": None,
    }
    assert seeded.acme.errors('{ user(id: "x", userName: "y") { id } }') == [
        "give exactly one of id and userName"
    ]


SEARCH = """
query Search($filter: UserFilter, $order: UserOrder, $after: String) {
  users(first: 100, after: $after, filter: $filter, orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } }
  }
}
"""


def test_filters_and_orders(seeded: SeededOrg) -> None:
    org = seeded.org
    people = list(org.people.values())
    cases: list[tuple[dict[str, Any], Callable[[Person], bool]]] = [
        (
            {"search": "ADA"},
            lambda p: any(
                "ada" in (v or "").lower() for v in (p.display_name, p.user_name, p.email)
            ),
        ),
        ({"department": "sales", "active": True}, lambda p: p.department == "Sales" and p.active),
        ({"location": "Oslo", "title": "VP"}, lambda p: p.location == "Oslo" and p.title == "VP"),
        ({"active": False}, lambda p: not p.active),
    ]
    for filter_, keep in cases:
        expected = sorted((p.id for p in people if keep(p)), key=org.sort_key)
        edges = all_pages(seeded.acme, SEARCH, ["users"], {"filter": filter_})
        assert [e["node"]["id"] for e in edges] == expected, filter_
    by_user_name = sorted(people, key=lambda p: (p.user_name, p.id), reverse=True)
    order = {"field": "USER_NAME", "direction": "DESC"}
    edges = all_pages(seeded.acme, SEARCH, ["users"], {"order": order})
    assert [e["node"]["id"] for e in edges] == [p.id for p in by_user_name]
    order = {"field": "CREATED_AT", "direction": "ASC"}
    edges = all_pages(seeded.acme, SEARCH, ["users"], {"order": order})
    assert [e["node"]["id"] for e in edges] == list(org.people)
    # A cursor of one order is refused by another.
    cursor = edges[0]["cursor"]
    assert seeded.acme.errors(SEARCH, {"after": cursor}) == ["invalid cursor for this list"]
    assert seeded.acme.errors(SEARCH, {"after": "not-a-cursor"}) == ["invalid cursor for this list"]


def test_searches_and_counts_read_off_the_event_loop(
    seeded: SeededOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search or a filter no index serves, and a count, may read the whole tenant: they
    run in a worker thread, so a large tenant's search never stalls every other request."""
    threads: dict[str, set[bool]] = {"page": set(), "count": set()}
    page, count = UserSet.page, UserSet.count

    def recorded(kind: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def run(self: UserSet, *args: Any, **kwargs: Any) -> Any:
            if self.scans or kind == "count":
                threads[kind].add(threading.current_thread() is threading.main_thread())
            return original(self, *args, **kwargs)

        return run

    monkeypatch.setattr(UserSet, "page", recorded("page", page))
    monkeypatch.setattr(UserSet, "count", recorded("count", count))
    for filter_ in ({"search": "ada"}, {"department": "sales"}):
        assert seeded.acme.data(SEARCH, {"filter": filter_})["users"]["totalCount"] >= 0
    assert threads == {"page": {False}, "count": {False}}


def test_cursors_are_stable_while_rows_come_and_go(seeded: SeededOrg) -> None:
    """A keyset cursor keeps its place: the next page is the same after a new user sorts
    before it."""
    org = seeded.org
    first = seeded.acme.data(SEARCH, {"filter": {"search": "grace"}})["users"]
    after = first["pageInfo"]["endCursor"]
    expected = seeded.acme.data(SEARCH, {"filter": {"search": "grace"}, "after": after})
    newcomer = Person(
        "00000000-0000-4000-8000-00000000abcd",
        "aaa.grace@example.com",
        "AAA Grace",
        "VP",
        "Sales",
        "Oslo",
        "aaa.grace@example.com",
    )
    newcomer = next(iter(seeded.seeder.add_people(Org({newcomer.id: newcomer})).people.values()))
    try:
        again = seeded.acme.data(SEARCH, {"filter": {"search": "grace"}, "after": after})
        assert again["users"]["edges"] == expected["users"]["edges"]
        assert again["users"]["pageInfo"] == expected["users"]["pageInfo"]
        fresh = seeded.acme.data(SEARCH, {"filter": {"search": "grace"}})["users"]
        assert fresh["totalCount"] == first["totalCount"] + 1
        assert newcomer.id in edge_ids(fresh)
    finally:
        seeded.seeder.remove_people([newcomer.id])
    assert org.people  # the model is untouched


def test_another_tenants_ids_resolve_to_null(seeded: SeededOrg) -> None:
    theirs = next(iter(seeded.globex_org.people))
    ours = next(iter(seeded.org.people))
    query = """query($a: ID!, $b: ID!) {
        user(id: $a) { id } node(id: $a) { id }
        commonManager(a: $a, b: $b) { id } reportingPath(from: $a, to: $b) { id } }"""
    assert seeded.acme.data(query, {"a": theirs, "b": ours}) == {
        "user": None,
        "node": None,
        "commonManager": None,
        "reportingPath": None,
    }
    data = seeded.globex.data(
        "{ users(first: 100) { totalCount edges { node { id } } } orgHealth { userCount } }"
    )
    assert data["users"]["totalCount"] == len(seeded.globex_org.people)
    assert set(edge_ids(data["users"])) == set(seeded.globex_org.people)
    assert data["orgHealth"]["userCount"] == len(seeded.globex_org.people)
