"""The activity log as SCIM writes record it, read back through GraphQL and the command line:
what a user's history shows, a delete's side effects under one request id, a refused write,
the summary, and another tenant seeing none of it."""

import json
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import TenantTokens
from tests.graphql_api.conftest import GraphQLClient

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MANAGER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"

HISTORY = """query($id: ID!) { user(id: $id) { activity(first: 50) { totalCount edges { node {
  id seq operation outcome resourceName requestId clientRequestId actor { tokenId name }
  changes { attribute oldValue newValue } user { userName }
} } } } }"""


@dataclass
class Provisioned:
    acme: GraphQLClient
    globex: GraphQLClient
    ada: str
    alan: str
    group: str
    delete_request: str


def scim(client: TestClient, tokens: TenantTokens, method: str, path: str, **kw: Any) -> Any:
    headers = {**tokens.scim_headers(), **kw.pop("headers", {})}
    return client.request(method, f"/scim/v2{path}", headers=headers, **kw)


@pytest.fixture
def provisioned(client: TestClient, make_tenant: Any, database_url: str) -> Provisioned:
    """Through SCIM, as Entra does it: ada and alan, alan's manager and title, a group with
    both, a refused duplicate, then ada deleted (request id "delete-ada")."""
    acme, globex = make_tenant("acme"), make_tenant("globex")

    def create(user_name: str, **extra: Any) -> str:
        body = {"schemas": [CORE_USER], "userName": user_name, **extra}
        response = scim(client, acme, "POST", "/Users", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    ada = create("ada@contoso.com", displayName="Ada Lovelace", title="CTO")
    alan = create("alan@contoso.com", displayName="Alan Turing", title="Engineer")
    patch = {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "replace", "path": MANAGER, "value": ada},
            {"op": "replace", "path": "title", "value": "Principal Engineer"},
        ],
    }
    response = scim(
        client, acme, "PATCH", f"/Users/{alan}", json=patch, headers={"client-request-id": "c-1"}
    )
    assert response.status_code == 200, response.text
    group = scim(
        client,
        acme,
        "POST",
        "/Groups",
        json={"schemas": [CORE_GROUP], "displayName": "Eng", "members": [{"value": ada}]},
    )
    assert group.status_code == 201, group.text
    added = scim(
        client,
        acme,
        "PATCH",
        f"/Groups/{group.json()['id']}",
        json={
            "schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": alan}]}],
        },
    )
    assert added.status_code in (200, 204), added.text
    duplicate = scim(
        client, acme, "POST", "/Users", json={"schemas": [CORE_USER], "userName": "ADA@contoso.com"}
    )
    assert duplicate.status_code == 409
    deleted = scim(client, acme, "DELETE", f"/Users/{ada}", headers={"X-Request-ID": "delete-ada"})
    assert deleted.status_code == 204
    # globex provisions someone of its own
    assert (
        scim(
            client, globex, "POST", "/Users", json={"schemas": [CORE_USER], "userName": "g@x.com"}
        ).status_code
        == 201
    )
    return Provisioned(
        GraphQLClient(client, acme),
        GraphQLClient(client, globex),
        ada,
        alan,
        group.json()["id"],
        "delete-ada",
    )


def test_a_users_history_through_scim(provisioned: Provisioned) -> None:
    p = provisioned
    history = p.acme.data(HISTORY, {"id": p.alan})["user"]["activity"]
    events = [edge["node"] for edge in history["edges"]]
    assert [e["operation"] for e in events] == ["UPDATE", "UPDATE", "CREATE"]  # newest first
    assert history["totalCount"] == 3
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs, reverse=True)
    cleared, changed, created = events
    # ada's delete cleared alan's manager, as an event of its own under the delete's request id
    assert cleared["requestId"] == p.delete_request
    assert cleared["changes"] == [{"attribute": MANAGER, "oldValue": p.ada, "newValue": None}]
    assert {c["attribute"] for c in changed["changes"]} == {MANAGER, "title"}
    title = next(c for c in changed["changes"] if c["attribute"] == "title")
    assert (title["oldValue"], title["newValue"]) == ("Engineer", "Principal Engineer")
    assert changed["clientRequestId"] == "c-1"
    assert changed["actor"]["tokenId"] is not None
    assert created["outcome"] == "SUCCESS"
    assert created["user"] == {"userName": "alan@contoso.com"}
    assert created["resourceName"] == "alan@contoso.com"


def test_a_delete_and_its_side_effects_share_the_request_id(provisioned: Provisioned) -> None:
    p = provisioned
    data = p.acme.data(
        """query($r: String!) { activity(filter: {requestId: $r}) { edges { node {
             operation resourceType resourceId membersRemoved user { id } group { id } } } } }""",
        {"r": p.delete_request},
    )
    events = {
        (e["node"]["operation"], e["node"]["resourceType"], e["node"]["resourceId"]): e["node"]
        for e in data["activity"]["edges"]
    }
    assert set(events) == {
        ("DELETE", "USER", p.ada),
        ("UPDATE", "USER", p.alan),
        ("UPDATE", "GROUP", p.group),
    }
    assert events[("DELETE", "USER", p.ada)]["user"] is None  # gone now
    assert events[("UPDATE", "USER", p.alan)]["user"] == {"id": p.alan}
    assert events[("UPDATE", "GROUP", p.group)]["membersRemoved"] == [p.ada]
    assert events[("UPDATE", "GROUP", p.group)]["group"] == {"id": p.group}
    # the deleted user's history stays readable by its id
    gone = p.acme.data(
        "query($id: ID!) { activity(filter: {resourceId: $id}) { edges { node { operation } } } }",
        {"id": p.ada},
    )
    assert [e["node"]["operation"] for e in gone["activity"]["edges"]] == ["DELETE", "CREATE"]


def test_group_history_through_scim(provisioned: Provisioned) -> None:
    p = provisioned
    data = p.acme.data(
        """query($id: ID!) { group(id: $id) { activity { edges { node {
             operation membersAdded membersRemoved memberChangeCount } } } } }""",
        {"id": p.group},
    )
    events = [edge["node"] for edge in data["group"]["activity"]["edges"]]
    assert [(e["operation"], e["membersAdded"], e["membersRemoved"]) for e in events] == [
        ("UPDATE", [], [p.ada]),
        ("UPDATE", [p.alan], []),
        ("CREATE", [p.ada], []),
    ]
    assert [e["memberChangeCount"] for e in events] == [1, 1, 1]


def test_a_refused_write_and_the_summary(provisioned: Provisioned) -> None:
    p = provisioned
    failures = p.acme.data(
        "{ activity(filter: {outcome: FAILURE}) { edges { node { operation status scimType } } } }"
    )["activity"]["edges"]
    assert [e["node"] for e in failures] == [
        {"operation": "CREATE", "status": 409, "scimType": "uniqueness"}
    ]
    summary = p.acme.data(
        """{ provisioningSummary(since: "2000-01-01T00:00:00Z") {
             total failures failureRatio counts { operation outcome count }
             topFailureReasons { status count detailPattern } } }"""
    )["provisioningSummary"]
    counts = {(c["operation"], c["outcome"]): c["count"] for c in summary["counts"] if c["count"]}
    # creates: ada, alan, the group; updates: alan's PATCH, the group's add, and the delete's
    # two side effects; the delete; the refused duplicate
    assert counts == {
        ("CREATE", "SUCCESS"): 3,
        ("CREATE", "FAILURE"): 1,
        ("UPDATE", "SUCCESS"): 4,
        ("DELETE", "SUCCESS"): 1,
    }
    assert summary["total"] == 9
    assert summary["failures"] == 1
    assert summary["failureRatio"] == pytest.approx(1 / 9)
    (reason,) = summary["topFailureReasons"]
    assert (reason["status"], reason["count"]) == (409, 1)
    assert "ADA@contoso.com" not in reason["detailPattern"]


def test_another_tenant_sees_none_of_it(provisioned: Provisioned, database_url: str) -> None:
    p = provisioned
    events = p.globex.data("{ activity(first: 100) { edges { node { resourceName } } } }")
    assert [e["node"]["resourceName"] for e in events["activity"]["edges"]] == ["g@x.com"]
    assert p.globex.data(HISTORY, {"id": p.alan})["user"] is None
    runner = CliRunner()
    result = runner.invoke(
        cli, ["activity", "--tenant", "globex", "--json", "--database-url", database_url]
    )
    assert result.exit_code == 0, result.stderr
    names = [json.loads(line)["resourceName"] for line in result.stdout.splitlines()]
    assert names == ["g@x.com"]
    mine = runner.invoke(
        cli,
        [
            "activity",
            "--tenant",
            "acme",
            "--user",
            "alan@contoso.com",
            "--json",
            "--database-url",
            database_url,
        ],
    )
    assert mine.exit_code == 0, mine.stderr
    assert [json.loads(line)["operation"] for line in mine.stdout.splitlines()] == [
        "CREATE",
        "UPDATE",
        "UPDATE",
    ]
    # ada is deleted: the command line still finds her history by her userName
    gone = runner.invoke(
        cli,
        [
            "activity",
            "--tenant",
            "acme",
            "--user",
            "ada@contoso.com",
            "--json",
            "--database-url",
            database_url,
        ],
    )
    assert [json.loads(line)["operation"] for line in gone.stdout.splitlines()] == [
        "CREATE",
        "DELETE",
    ]
