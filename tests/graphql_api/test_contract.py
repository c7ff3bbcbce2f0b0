"""The contract in the repo: graphql/schema.graphql is the code's schema, and every
operation in graphql/operations validates and answers correctly on a seeded org."""

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.graphql_api.cost import typed_schema
from app.graphql_api.schema import build_schema, schema_sdl
from graphql import OperationDefinitionNode, parse, validate
from tests.graphql_api.conftest import GraphQLClient, SeededOrg
from tests.graphql_api.org_model import Org

ORG_SIZE = 400
ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = sorted((ROOT / "graphql" / "operations").glob("*.graphql"))


def operation(name: str) -> str:
    return (ROOT / "graphql" / "operations" / f"{name}.graphql").read_text()


def test_schema_file_is_the_codes_schema() -> None:
    assert (ROOT / "graphql" / "schema.graphql").read_text() == schema_sdl(), (
        "graphql/schema.graphql is stale: run `blink-directory export-schema`"
    )


def test_export_schema_writes_and_checks(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    runner = CliRunner()
    assert runner.invoke(cli, ["export-schema", "--output", str(target), "--check"]).exit_code == 1
    assert runner.invoke(cli, ["export-schema", "--output", str(target)]).exit_code == 0
    assert target.read_text() == schema_sdl()
    assert runner.invoke(cli, ["export-schema", "--output", str(target), "--check"]).exit_code == 0
    target.write_text(schema_sdl().replace("reportCount", "reportTotal"))
    stale = runner.invoke(cli, ["export-schema", "--output", str(target), "--check"])
    assert stale.exit_code == 1
    assert "out of date" in stale.output


def test_the_frontend_operations_exist() -> None:
    names = {path.stem for path in OPERATIONS}
    assert {"profile_card", "org_chart", "team_list", "search", "skip_level"} <= names
    assert {"user_history", "provisioning_health"} <= names


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda path: path.stem)
def test_each_operation_validates_against_the_schema(path: Path) -> None:
    document = parse(path.read_text())
    assert validate(typed_schema(build_schema()), document) == []
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1
    assert operations[0].name is not None


def a_manager_with_peers_and_skip_levels(org: Org) -> str:
    return next(
        u
        for u in sorted(org.people)
        if org.people[u].active
        and len(org.direct_reports(u)) >= 2
        and org.peers(u)
        and org.reports(u, 2, 2)
        and org.chain(u)
    )


def test_profile_card(seeded: SeededOrg) -> None:
    org = seeded.org
    user_id = a_manager_with_peers_and_skip_levels(org)
    person = org.people[user_id]
    seeded.seeder.add_group("Zeta", [user_id])
    seeded.seeder.add_group("Alpha", [user_id])
    data = seeded.acme.data(operation("profile_card"), {"id": user_id})["user"]
    assert data["displayName"] == person.display_name
    assert data["title"] == person.title
    assert data["email"] == person.email
    assert data["department"] == person.department
    assert data["location"] == person.location
    assert data["company"] == "Acme"
    assert data["active"] is True
    assert data["manager"]["id"] == person.manager_id
    assert data["directReportCount"] == len(org.direct_reports(user_id))
    assert data["reportCount"] == org.report_count(user_id)
    assert data["groups"]["totalCount"] == 2
    assert [edge["node"]["displayName"] for edge in data["groups"]["edges"]] == ["Alpha", "Zeta"]


def node_ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def test_org_chart_around_a_person(seeded: SeededOrg) -> None:
    org = seeded.org
    user_id = a_manager_with_peers_and_skip_levels(org)
    data = seeded.acme.data(operation("org_chart"), {"id": user_id})["user"]
    assert [m["id"] for m in data["managementChain"]] == org.chain(user_id)
    assert node_ids(data["peers"]) == org.peers(user_id)[:20]
    assert data["peers"]["totalCount"] == len(org.peers(user_id))
    assert node_ids(data["directReports"]) == org.direct_reports(user_id)[:50]
    counts = [e["node"]["directReportCount"] for e in data["directReports"]["edges"]]
    assert counts == [len(org.direct_reports(u)) for u in org.direct_reports(user_id)[:50]]


def pages(client: GraphQLClient, query: str, variables: dict[str, Any], path: list[str]) -> Any:
    edges: list[dict[str, Any]] = []
    after = None
    while True:
        data: Any = client.data(query, {**variables, "after": after})
        for key in path:
            data = data[key]
        edges.extend(data["edges"])
        if not data["pageInfo"]["hasNextPage"]:
            return edges, data["totalCount"]
        after = data["pageInfo"]["endCursor"]


def test_team_list_pages(seeded: SeededOrg) -> None:
    org = seeded.org
    manager = max(org.people, key=lambda u: (len(org.direct_reports(u)), u))
    edges, total = pages(
        seeded.acme,
        operation("team_list"),
        {"managerId": manager, "first": 2},
        ["user", "directReports"],
    )
    assert [e["node"]["id"] for e in edges] == org.direct_reports(manager)
    assert total == len(org.direct_reports(manager)) > 2


def test_search(seeded: SeededOrg) -> None:
    org = seeded.org
    expected = sorted(
        (
            p.id
            for p in org.people.values()
            if p.active
            and any("turing" in (v or "").lower() for v in (p.display_name, p.user_name, p.email))
        ),
        key=org.sort_key,
    )
    edges, total = pages(
        seeded.acme, operation("search"), {"search": "Turing", "first": 7}, ["users"]
    )
    assert [e["node"]["id"] for e in edges] == expected
    assert total == len(expected)
    for edge in edges:
        manager_id = org.people[edge["node"]["id"]].manager_id
        assert (edge["node"]["manager"] or {}).get("id") == manager_id


def test_skip_level_view(seeded: SeededOrg) -> None:
    org = seeded.org
    user_id = a_manager_with_peers_and_skip_levels(org)
    edges, total = pages(
        seeded.acme, operation("skip_level"), {"id": user_id, "first": 3}, ["user", "reports"]
    )
    expected = org.reports(user_id, 2, 2)
    assert [(e["depth"], e["node"]["id"]) for e in edges] == expected
    assert total == len(expected)
    for edge in edges:
        manager = org.people[edge["node"]["id"]].manager_id
        assert manager is not None
        assert edge["node"]["manager"]["id"] == manager
        assert org.people[manager].manager_id == user_id
