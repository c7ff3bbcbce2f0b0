"""GraphQL over the activity log: ``activity`` with its filter and paging, an event's fields,
``node``, ``User.activity``/``Group.activity``, ``provisioningSummary``, errors, statement
counts, costs and tenant isolation.

The events here are put in the store directly (``tests.activity_rows``), with users and groups
created in the store too, so that each test knows its log exactly; the events real SCIM writes
record are read back in ``test_activity_scim.py``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, insert
from starlette.testclient import TestClient

from app.graphql_api.cursors import encode_cursor
from db.database import Database
from db.groups import create_group
from db.tables import activity_events
from db.tenants import get_tenant
from tests.activity_rows import event_row, insert_events
from tests.conftest import TenantTokens
from tests.directory_rows import count_statements, insert_users
from tests.graphql_api.conftest import GraphQLClient
from tests.graphql_api.test_contract import operation

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
MANAGER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"

EVENT_FIELDS = """
  id seq occurredAt operation outcome resourceType resourceId resourceName
  actor { tokenId name } requestId clientRequestId status scimType detail
  changes { attribute oldValue newValue }
  membersAdded membersRemoved memberChangeCount
  user { id userName } group { id displayName }
"""

ACTIVITY = (
    """query($first: Int, $after: String, $filter: ActivityFilter) {
  activity(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { """
    + EVENT_FIELDS
    + """ } }
  }
}"""
)

SEQS = """query($first: Int, $after: String, $filter: ActivityFilter) {
  activity(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { seq } }
  }
}"""


@dataclass
class Log:
    acme: GraphQLClient
    globex: GraphQLClient
    database: Database
    tenant_id: int
    users: list[str]
    group: str
    events: list[dict[str, Any]]


def tenant_id(database: Database, slug: str) -> int:
    return database.read_sync(lambda c: get_tenant(c, slug).id)


@pytest.fixture
def log(client: TestClient, database: Database, make_tenant: Callable[[str], TenantTokens]) -> Log:
    """Tenant acme with three users, a group and 12 events about them over 12 minutes (the
    last user deleted since); tenant globex with nothing."""
    acme_tokens, globex_tokens = make_tenant("acme"), make_tenant("globex")
    acme = tenant_id(database, "acme")

    def people(connection: Connection) -> tuple[list[str], str]:
        ids = insert_users(connection, acme, 3, prefix="person", display_names=True)
        group = create_group(connection, acme, "Engineering", member_ids=ids[:1])
        return ids, group.id

    users, group = database.write_sync(people)
    gone = "a-deleted-user"
    specs: list[dict[str, Any]] = [
        {"operation": "CREATE", "resource_id": users[0], "resource_name": "person0@example.com"},
        {"operation": "CREATE", "resource_id": users[1], "resource_name": "person1@example.com"},
        {"operation": "CREATE", "resource_id": gone, "resource_name": "gone@example.com"},
        {
            "operation": "CREATE",
            "resource_type": "Group",
            "resource_id": group,
            "resource_name": "Engineering",
            "changes": [],
            "members_added": [users[0]],
            "member_change_count": 1,
        },
        {
            "operation": "UPDATE",
            "resource_id": users[1],
            "changes": [
                {"attribute": "title", "oldValue": None, "newValue": "CTO"},
                {"attribute": "active", "oldValue": True, "newValue": False},
                {
                    "attribute": MANAGER,
                    "oldValue": None,
                    "newValue": {"value": users[0]},
                },
            ],
            "client_request_id": "entra-7",
        },
        {
            "operation": "UPDATE",
            "outcome": "FAILURE",
            "resource_id": users[1],
            "status": 400,
            "scim_type": "invalidValue",
            "detail": "manager 'x' is not a user of this tenant",
            "changes": None,
            "method": "PATCH",
            "path": f"/scim/v2/Users/{users[1]}",
        },
        {"operation": "REPLACE", "resource_id": users[0]},
        {"operation": "DELETE", "resource_id": gone, "request_id": "delete-request"},
        {
            "operation": "UPDATE",
            "resource_id": users[1],
            "request_id": "delete-request",
            "changes": [
                {
                    "attribute": MANAGER,
                    "oldValue": {"value": gone},
                    "newValue": None,
                }
            ],
        },
        {
            "operation": "UPDATE",
            "resource_type": "Group",
            "resource_id": group,
            "changes": [],
            "members_added": users[1:],
            "members_removed": [users[0]],
            "member_change_count": 3,
        },
        {
            "operation": "CREATE",
            "outcome": "FAILURE",
            "resource_id": None,
            "resource_name": None,
            "status": 409,
            "scim_type": "uniqueness",
            "detail": "userName 'person0@example.com' already exists",
            "changes": None,
        },
        {
            "operation": "UPDATE",
            "resource_id": users[2],
            "actor_token_id": None,
            "actor_name": "cli",
        },
    ]
    events = [{"occurred_at": T0 + timedelta(minutes=n), **spec} for n, spec in enumerate(specs)]
    database.write_sync(lambda c: insert_events(c, acme, events))
    return Log(
        GraphQLClient(client, acme_tokens),
        GraphQLClient(client, globex_tokens),
        database,
        acme,
        users,
        group,
        events,
    )


def all_seqs(
    client: GraphQLClient, first: int, filter: dict[str, Any] | None = None
) -> tuple[list[int], int]:
    seqs: list[int] = []
    after = None
    while True:
        page = client.data(SEQS, {"first": first, "after": after, "filter": filter})["activity"]
        seqs.extend(edge["node"]["seq"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return seqs, page["totalCount"]
        after = page["pageInfo"]["endCursor"]


def test_newest_first_and_paging_without_gaps_or_repeats(log: Log) -> None:
    for first in (1, 5, 12, 100):
        seqs, total = all_seqs(log.acme, first)
        assert seqs == list(range(12, 0, -1))
        assert total == 12


def test_a_page_and_its_cursors(log: Log) -> None:
    page = log.acme.data(ACTIVITY, {"first": 5})["activity"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
    assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
    second = log.acme.data(ACTIVITY, {"first": 5, "after": page["pageInfo"]["endCursor"]})
    assert [e["node"]["seq"] for e in second["activity"]["edges"]] == [7, 6, 5, 4, 3]
    assert second["activity"]["pageInfo"]["hasPreviousPage"] is True


def test_an_events_fields(log: Log) -> None:
    nodes = {
        edge["node"]["seq"]: edge["node"]
        for edge in log.acme.data(ACTIVITY, {"first": 100})["activity"]["edges"]
    }
    update = nodes[5]
    assert update["id"] == "ActivityEvent:5"
    assert update["operation"] == "UPDATE"
    assert update["outcome"] == "SUCCESS"
    assert update["resourceType"] == "USER"
    assert update["resourceId"] == log.users[1]
    assert update["occurredAt"] == (T0 + timedelta(minutes=4)).isoformat()
    assert update["actor"] == {"tokenId": "1", "name": "Entra provisioning"}
    assert update["clientRequestId"] == "entra-7"
    assert update["changes"] == log.events[4]["changes"]  # JSON values as they were stored
    assert update["membersAdded"] == update["membersRemoved"] == []
    assert update["user"] == {"id": log.users[1], "userName": "person1@example.com"}
    assert update["group"] is None
    assert (update["status"], update["scimType"], update["detail"]) == (None, None, None)

    failure = nodes[6]
    assert failure["outcome"] == "FAILURE"
    assert failure["status"] == 400
    assert failure["scimType"] == "invalidValue"
    assert failure["detail"] == "manager 'x' is not a user of this tenant"
    assert failure["changes"] == []

    group = nodes[10]
    assert group["resourceType"] == "GROUP"
    assert group["group"] == {"id": log.group, "displayName": "Engineering"}
    assert group["user"] is None
    assert group["membersAdded"] == log.users[1:]
    assert group["membersRemoved"] == [log.users[0]]
    assert group["memberChangeCount"] == 3

    assert nodes[3]["user"] is None  # deleted since: the resource as it is now
    assert nodes[3]["resourceName"] == "gone@example.com"
    assert nodes[11]["resourceId"] is None
    assert nodes[12]["actor"] == {"tokenId": None, "name": "cli"}


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"resourceType": "GROUP"}, [10, 4]),
        ({"operations": ["CREATE", "DELETE"]}, [11, 8, 4, 3, 2, 1]),
        ({"operations": []}, []),
        ({"outcome": "FAILURE"}, [11, 6]),
        ({"outcome": "SUCCESS", "operations": ["UPDATE"], "resourceType": "USER"}, [12, 9, 5]),
        ({"requestId": "delete-request"}, [9, 8]),
        ({"since": "2026-11-01T12:03:00Z", "until": "2026-11-01T12:06:00Z"}, [6, 5, 4]),
        ({"since": "2026-11-01T13:03:00+01:00"}, [12, 11, 10, 9, 8, 7, 6, 5, 4]),
        ({"until": "2026-11-01T12:02:00"}, [2, 1]),  # no offset: UTC
        ({"resourceId": "a-deleted-user"}, [8, 3]),
    ],
)
def test_filters(log: Log, filter: dict[str, Any], expected: list[int]) -> None:
    assert all_seqs(log.acme, 2, filter) == (expected, len(expected))


def test_filter_by_a_users_id(log: Log) -> None:
    seqs, _ = all_seqs(log.acme, 3, {"resourceId": log.users[1]})
    assert seqs == [9, 6, 5, 2]


def test_user_and_group_history(log: Log) -> None:
    query = """query($id: ID!, $first: Int, $after: String) {
      user(id: $id) { activity(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { seq operation } }
      } }
    }"""
    first = log.acme.data(query, {"id": log.users[1], "first": 3})["user"]["activity"]
    assert [e["node"]["seq"] for e in first["edges"]] == [9, 6, 5]
    assert first["totalCount"] == 4
    rest = log.acme.data(
        query, {"id": log.users[1], "first": 3, "after": first["pageInfo"]["endCursor"]}
    )["user"]["activity"]
    assert [e["node"]["seq"] for e in rest["edges"]] == [2]
    assert rest["pageInfo"]["hasNextPage"] is False

    group = log.acme.data(
        """query($id: ID!) { group(id: $id) { activity { edges { node {
             seq membersAdded group { displayName } } } } } }""",
        {"id": log.group},
    )["group"]["activity"]
    assert [e["node"]["seq"] for e in group["edges"]] == [10, 4]
    assert group["edges"][1]["node"]["membersAdded"] == [log.users[0]]


def test_a_page_of_users_with_their_history(log: Log) -> None:
    data = log.acme.data(
        """{ users(first: 10, orderBy: {field: USER_NAME}) { edges { node {
             userName activity(first: 1) { pageInfo { hasNextPage } edges { node { seq } } }
           } } } }"""
    )
    got = {
        edge["node"]["userName"]: (
            [e["node"]["seq"] for e in edge["node"]["activity"]["edges"]],
            edge["node"]["activity"]["pageInfo"]["hasNextPage"],
        )
        for edge in data["users"]["edges"]
    }
    assert got == {
        "person0@example.com": ([7], True),
        "person1@example.com": ([9], True),
        "person2@example.com": ([12], False),
    }


def test_node_resolves_an_event(log: Log) -> None:
    query = """query($id: ID!) { node(id: $id) { id ... on ActivityEvent { seq operation
                 user { userName } } } }"""
    node = log.acme.data(query, {"id": "ActivityEvent:7"})["node"]
    assert node == {
        "id": "ActivityEvent:7",
        "seq": 7,
        "operation": "REPLACE",
        "user": {"userName": "person0@example.com"},
    }
    for missing in (
        "ActivityEvent:99",
        "ActivityEvent:x",
        "ActivityEvent:-1",
        "ActivityEvent:" + "9" * 30,  # beyond BIGINT
        "ActivityEvent:٣",  # a digit, but not an ASCII one
    ):
        assert log.acme.data(query, {"id": missing})["node"] is None
    # users and groups still resolve
    assert log.acme.data(query, {"id": log.users[0]})["node"]["id"] == log.users[0]


def test_numbering_runs_before_reading(log: Log) -> None:
    """An event committed without its number yet is numbered by the read and listed."""
    log.database.write_sync(
        lambda c: c.execute(
            insert(activity_events), [event_row(log.tenant_id, None, operation="DELETE")]
        )
    )
    statements = statements_of(log, SEQS, {"first": 2})  # the first run numbers it
    edges = log.acme.data(SEQS, {"first": 2})["activity"]["edges"]
    assert [e["node"]["seq"] for e in edges] == [13, 12]
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements)


def test_provisioning_summary(log: Log) -> None:
    summary = log.acme.data(
        """{ provisioningSummary(since: "2026-11-01T12:04:00Z") {
             since total failures failureRatio lastEventAt
             counts { operation outcome count }
             topFailureReasons { status scimType detailPattern count lastSeenAt }
           } }"""
    )["provisioningSummary"]
    assert summary["since"] == "2026-11-01T12:04:00+00:00"
    assert summary["total"] == 8
    assert summary["failures"] == 2
    assert summary["failureRatio"] == 0.25
    assert summary["lastEventAt"] == (T0 + timedelta(minutes=11)).isoformat()
    counts = {(c["operation"], c["outcome"]): c["count"] for c in summary["counts"]}
    assert counts[("UPDATE", "SUCCESS")] == 4
    assert counts[("UPDATE", "FAILURE")] == 1
    assert counts[("CREATE", "FAILURE")] == 1
    assert counts[("CREATE", "SUCCESS")] == 0
    assert sum(counts.values()) == 8
    assert summary["topFailureReasons"] == [
        {
            "status": 409,
            "scimType": "uniqueness",
            "detailPattern": "userName … already exists",
            "count": 1,
            "lastSeenAt": (T0 + timedelta(minutes=10)).isoformat(),
        },
        {
            "status": 400,
            "scimType": "invalidValue",
            "detailPattern": "manager … is not a user of this tenant",
            "count": 1,
            "lastSeenAt": (T0 + timedelta(minutes=5)).isoformat(),
        },
    ]


def test_another_tenant_never_sees_an_event(log: Log) -> None:
    globex = log.globex
    assert all_seqs(globex, 100) == ([], 0)
    for filter in ({"resourceId": log.users[1]}, {"requestId": "delete-request"}):
        assert all_seqs(globex, 100, filter) == ([], 0)
    assert globex.data('{ node(id: "ActivityEvent:1") { id } }')["node"] is None
    summary = globex.data(
        '{ provisioningSummary(since: "2000-01-01T00:00:00Z") { total lastEventAt } }'
    )["provisioningSummary"]
    assert summary == {"total": 0, "lastEventAt": None}
    # acme's user ids name nobody in globex, so their history is not reachable either
    history = globex.data(
        "query($id: ID!) { user(id: $id) { activity { totalCount } } }", {"id": log.users[1]}
    )
    assert history["user"] is None
    # a cursor of acme's log only positions globex's own list
    cursor = log.acme.data(SEQS, {"first": 1})["activity"]["pageInfo"]["endCursor"]
    page = globex.data(SEQS, {"first": 10, "after": cursor})["activity"]
    assert page["edges"] == []


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (SEQS, {"first": 0}, "first must be between 1 and 100 (got 0)"),
        (SEQS, {"first": 101}, "first must be between 1 and 100 (got 101)"),
        (SEQS, {"after": "bm90IGEgY3Vyc29y"}, "invalid cursor for this list"),
        (SEQS, {"after": "W1widXNlcjpkaXNwbGF5X25hbWU6YXNjIiwiIiwiYSJd"}, "invalid cursor"),
        (
            SEQS,
            {"filter": {"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}},
            "filter.since must not be after filter.until",
        ),
        (SEQS, {"after": encode_cursor("activity", [2**63])}, "invalid cursor for this list"),
        (SEQS, {"after": encode_cursor("activity", [-1])}, "invalid cursor for this list"),
        (SEQS, {"after": encode_cursor("activity", [True])}, "invalid cursor for this list"),
        (
            SEQS,
            {"filter": {"since": "0001-01-01T00:00:00+01:00"}},
            "0001-01-01T00:00:00+01:00 is out of range",
        ),
    ],
)
def test_bad_arguments_are_errors_with_a_code(
    log: Log, query: str, variables: dict[str, Any], message: str
) -> None:
    body = log.acme.post(query, variables)
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["message"].startswith(message)
    if "first must" not in message:  # the cost rule reports `first` before execution
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (SEQS, {"filter": {"since": "yesterday"}}),
        (SEQS, {"filter": {"operations": ["PATCH"]}}),
        ("{ provisioningSummary { total } }", {}),
        ('{ provisioningSummary(since: "2026-13-01T00:00:00Z") { total } }', {}),
    ],
)
def test_malformed_values_are_refused_before_execution(
    log: Log, query: str, variables: dict[str, Any]
) -> None:
    body = log.acme.post(query, variables)
    assert body["data"] is None
    assert body["errors"]
    assert all("Unexpected error" not in error["message"] for error in body["errors"])


def test_costs(log: Log) -> None:
    nested = """{ activity(first: 100) { edges { node {
                   user { activity(first: 100) { edges { node { seq } } } } } } } }"""
    assert "errors" not in log.acme.post(nested)  # 100 + 100 * 100 = 10,100
    deeper = """{ activity(first: 100) { edges { node {
      user { activity(first: 100) { edges { node {
        group { activity(first: 2) { edges { node { seq } } } } } } } } } } } }"""
    errors = log.acme.errors(deeper)  # 10,100 + 20,000
    assert errors == [
        "query cost 30100 exceeds the budget of 20000 "
        "(each connection counts `first` nodes per parent node)"
    ]
    members = "{ activity(first: 100) { edges { node { membersAdded membersRemoved } } } }"
    assert "errors" not in log.acme.post(members)  # 100 + 2 * 100 * 10 = 2,100
    many = "\n".join(
        f'a{n}: provisioningSummary(since: "2026-11-01T00:00:00Z") {{ total }}' for n in range(20)
    )
    assert "errors" not in log.acme.post("{" + many + "}")  # 20 x 1,000: the whole budget
    over = log.acme.errors("{" + many + " activity(first: 1) { edges { node { seq } } } }")
    assert over[0].startswith("query cost 20001 exceeds the budget of 20000")


def statements_of(log: Log, query: str, variables: dict[str, Any]) -> list[str]:
    app_database: Database = log.acme.client.app.state.database  # type: ignore[attr-defined]
    log.acme.data(query, variables)  # warms the token cache
    with count_statements(*app_database.engines) as counted:
        log.acme.data(query, variables)
    return [s for s in counted.statements if s.strip().upper() != "BEGIN"]


def test_a_page_costs_the_same_statements_whatever_its_size(log: Log) -> None:
    query = """query($first: Int!) { activity(first: $first) { edges { node {
                 seq changes { attribute } user { displayName manager { id } }
                 group { displayName } } } } }"""
    small = statements_of(log, query, {"first": 3})  # a user and a group among them
    large = statements_of(log, query, {"first": 100})
    # the tenant's versions (the ETag, and whether events wait for their number: none, so
    # nothing is written), the page, its users, its groups
    assert len(small) == len(large) == 4
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in large)


def test_a_page_of_users_histories_is_one_statement(log: Log) -> None:
    query = """{ users(first: 100) { edges { node { activity(first: 3) { edges { node {
                 seq } } } } } } }"""
    statements = statements_of(log, query, {})
    # the tenant's versions (with whether events wait for their number), the users page, one
    # statement for every history
    assert len(statements) == 3


def test_the_user_history_operation(log: Log) -> None:
    query = operation("user_history")
    seqs, after = [], None
    while True:
        user = log.acme.data(query, {"userName": "PERSON1@example.com", "first": 3, "after": after})
        page = user["user"]["activity"]
        seqs.extend(edge["node"]["seq"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seqs == [9, 6, 5, 2]
    first = log.acme.data(query, {"userName": "person1@example.com"})["user"]["activity"]
    manager_change = first["edges"][0]["node"]
    assert manager_change["changes"] == log.events[8]["changes"]
    assert manager_change["requestId"] == "delete-request"
    refused = first["edges"][1]["node"]
    assert (refused["outcome"], refused["status"], refused["scimType"]) == (
        "FAILURE",
        400,
        "invalidValue",
    )


def test_the_user_history_operation_costs_two_statements(log: Log) -> None:
    """The tenant's versions, which also tell that no event waits for its number, and the user
    by userName with the page of their history (db.user_activity): nothing else, and nothing
    written."""
    statements = statements_of(log, operation("user_history"), {"userName": "person1@example.com"})
    assert len(statements) == 2, statements
    versions, user_with_history = statements
    assert "tenant_org_version" in versions
    assert "seq IS NULL" in versions
    assert "user_name) = " in user_with_history
    assert "FROM activity_event" in user_with_history
    assert "seq IS NULL" not in user_with_history


#: A user's history with the selection UserHistory uses, read through a named fragment, which
#: the ``user`` field's look-ahead does not follow: the page then comes from its own read.
APART = """query($userName: String!, $first: Int, $after: String) {
  user(userName: $userName) { ...History } }
fragment History on User { id displayName activity(first: $first, after: $after) {
  pageInfo { hasNextPage endCursor } edges { cursor node { id seq operation outcome
  changes { attribute oldValue newValue } } } } }"""
TOGETHER = """query($userName: String!, $first: Int, $after: String) {
  user(userName: $userName) { id displayName activity(first: $first, after: $after) {
  pageInfo { hasNextPage endCursor } edges { cursor node { id seq operation outcome
  changes { attribute oldValue newValue } } } } } }"""


@pytest.mark.parametrize("first", [None, 1, 2, 5])
def test_a_users_history_read_with_the_user_answers_as_read_apart(log: Log, first: int) -> None:
    """Page after page, the user fetched with its page of history (one statement) answers
    exactly as the user and the page read apart; each page is one statement either way."""
    for person in ("person0@example.com", "PERSON1@example.com", "nobody@example.com"):
        after = None
        while True:
            variables = {"userName": person, "first": first, "after": after}
            together = log.acme.data(TOGETHER, variables)
            assert together == log.acme.data(APART, variables)
            assert len(statements_of(log, TOGETHER, variables)) == 2
            if together["user"] is None:
                assert len(statements_of(log, APART, variables)) == 2  # no user, no page
                break
            assert len(statements_of(log, APART, variables)) == 3
            page = together["user"]["activity"]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]


def test_the_history_read_with_the_user_by_id_and_with_literal_arguments(log: Log) -> None:
    person = log.users[1]
    by_id = f"""{{ user(id: "{person}") {{ displayName
        activity(first: 2) {{ edges {{ node {{ seq }} }} }} }} }}"""
    apart = f"""{{ user(id: "{person}") {{ ...F }} }}
        fragment F on User {{ displayName activity(first: 2) {{ edges {{ node {{ seq }} }} }} }}"""
    assert log.acme.data(by_id, {}) == log.acme.data(apart, {})
    assert len(statements_of(log, by_id, {})) == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"first": 0}, "first must be between"),
        ({"first": 10_000}, "first must be between"),
        ({"after": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_history_arguments_are_refused_by_the_field_as_before(
    log: Log, arguments: dict[str, Any], message: str
) -> None:
    """Arguments the page would refuse are refused as without the look-ahead (a ``first`` out
    of range by the cost rule before execution, a bad cursor by the field): the same data and
    the same errors, but for where in each document they point."""

    def outcome(query: str) -> tuple[Any, list[tuple[str, Any, str]]]:
        answer = log.acme.post(query, {"userName": "person1@example.com", **arguments})
        errors = [(e["message"], e.get("path"), e["extensions"]["code"]) for e in answer["errors"]]
        return answer["data"], errors

    together = outcome(TOGETHER)
    assert together == outcome(APART)
    data, errors = together
    assert message in errors[0][0]
    # refused by the field, whose connection is not nullable: the error nulls the user
    assert data == ({"user": None} if "after" in arguments else None)


def test_two_history_fields_under_one_user_are_each_read(log: Log) -> None:
    query = """{ user(userName: "person1@example.com") {
        newest: activity(first: 1) { edges { node { seq } } }
        more: activity(first: 3) { edges { node { seq } } } } }"""
    answer = log.acme.data(query, {})["user"]
    newest = [edge["node"]["seq"] for edge in answer["newest"]["edges"]]
    more = [edge["node"]["seq"] for edge in answer["more"]["edges"]]
    assert len(newest) == 1
    assert len(more) == 3
    assert newest == more[:1]


def test_the_user_history_operation_numbers_what_waits_first(log: Log) -> None:
    """An event committed but not numbered yet is known from the versions' statement, numbered
    before the page is read and shown on it; the next request finds nothing waiting."""
    query, variables = operation("user_history"), {"userName": "person1@example.com"}
    log.acme.data(query, variables)  # warms the token cache
    log.database.write_sync(
        lambda c: c.execute(
            insert(activity_events),
            [event_row(log.tenant_id, None, operation="REPLACE", resource_id=log.users[1])],
        )
    )
    app_database: Database = log.acme.client.app.state.database  # type: ignore[attr-defined]
    with count_statements(*app_database.engines) as counted:
        page = log.acme.data(query, variables)["user"]["activity"]
    assert [edge["node"]["seq"] for edge in page["edges"]] == [13, 9, 6, 5, 2]
    assert page["edges"][0]["node"]["operation"] == "REPLACE"
    sent = [s.lstrip().upper() for s in counted.statements]
    numbered = next(n for n, s in enumerate(sent) if "UPDATE ACTIVITY_EVENT" in s)
    assert "FROM ACTIVITY_EVENT" in sent[-1]  # the page, after the numbering
    assert numbered < len(sent) - 1
    # the versions' statement asked whether anything waits; no look-up of its own did
    assert sum("SEQ IS NULL" in s for s in sent) == 2  # the versions, the pass's own read
    assert len(statements_of(log, query, variables)) == 2


def test_a_request_without_versions_asks_whether_events_wait(log: Log) -> None:
    """A request the ETag layer leaves alone (a client that accepts a stream) has no versions
    read for it: its first read of the log asks whether events wait, and numbers them."""
    log.database.write_sync(
        lambda c: c.execute(
            insert(activity_events),
            [event_row(log.tenant_id, None, operation="REPLACE", resource_id=log.users[1])],
        )
    )
    query, variables = operation("user_history"), {"userName": "person1@example.com"}
    headers = {**log.acme.tokens.graphql_headers(), "Accept": "multipart/mixed"}
    app_database: Database = log.acme.client.app.state.database  # type: ignore[attr-defined]
    with count_statements(*app_database.engines) as counted:
        response = log.acme.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    assert response.status_code == 200, response.text
    assert "etag" not in response.headers
    page = response.json()["data"]["user"]["activity"]
    assert [edge["node"]["seq"] for edge in page["edges"]] == [13, 9, 6, 5, 2]
    sent = counted.statements
    assert not any("tenant_org_version" in s for s in sent)
    asked = next(n for n, s in enumerate(sent) if s.startswith("SELECT EXISTS"))
    numbered = next(n for n, s in enumerate(sent) if "UPDATE activity_event" in s)
    assert asked < numbered


def test_the_provisioning_health_operation(log: Log) -> None:
    data = log.acme.data(operation("provisioning_health"), {"since": "2026-11-01T12:00:00Z"})
    assert data["provisioningSummary"]["total"] == 12
    assert data["provisioningSummary"]["failureRatio"] == pytest.approx(2 / 12)
    assert len(data["provisioningSummary"]["topFailureReasons"]) == 2
    failures = [edge["node"] for edge in data["activity"]["edges"]]
    assert [(f["status"], f["resourceName"]) for f in failures] == [
        (409, None),
        (400, "someone@example.com"),
    ]
