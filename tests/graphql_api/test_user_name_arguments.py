"""commonManager and reportingPath take a userName wherever they take an id."""

from pathlib import Path

import pytest

from tests.graphql_api.conftest import SeededOrg

ORG_SIZE = 120
ROOT = Path(__file__).resolve().parents[2]

BY_USER_NAME = """query($a: String!, $b: String!) {
  commonManager(aUserName: $a, bUserName: $b, includeInactive: true) { id }
  reportingPath(fromUserName: $a, toUserName: $b, includeInactive: true) { id }
}"""

MIXED = """query($a: ID!, $b: String!) {
  commonManager(a: $a, bUserName: $b, includeInactive: true) { id }
  reportingPath(from: $a, toUserName: $b, includeInactive: true) { id }
}"""


def pairs(seeded: SeededOrg) -> list[tuple[str, str]]:
    ids = list(seeded.org.people)
    return [(ids[i], ids[(i * 7 + 3) % len(ids)]) for i in range(0, len(ids), 9)]


def test_user_names_give_the_same_answers_as_ids(seeded: SeededOrg) -> None:
    org = seeded.org
    for a, b in pairs(seeded):
        name_a, name_b = org.people[a].user_name, org.people[b].user_name
        for query, variables in (
            (BY_USER_NAME, {"a": name_a.upper(), "b": name_b}),
            (MIXED, {"a": a, "b": name_b}),
        ):
            data = seeded.acme.data(query, variables)
            expected = org.common_manager(a, b, include_inactive=True)
            assert (data["commonManager"] or {}).get("id") == expected
            path = org.reporting_path(a, b, include_inactive=True)
            got = (
                None if data["reportingPath"] is None else [u["id"] for u in data["reportingPath"]]
            )
            assert got == path


def test_an_unknown_user_name_answers_null(seeded: SeededOrg) -> None:
    someone = next(iter(seeded.org.people.values())).user_name
    data = seeded.acme.data(BY_USER_NAME, {"a": "nobody@example.com", "b": someone})
    assert data == {"commonManager": None, "reportingPath": None}


def test_another_tenants_user_name_answers_null(seeded: SeededOrg) -> None:
    theirs = next(iter(seeded.globex_org.people.values())).user_name
    ours = next(iter(seeded.org.people.values())).user_name
    data = seeded.acme.data(BY_USER_NAME, {"a": theirs, "b": ours})
    assert data == {"commonManager": None, "reportingPath": None}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('commonManager(b: "x") { id }', "give exactly one of a and aUserName"),
        ('commonManager(a: "x", aUserName: "y", b: "z") { id }', "a and aUserName"),
        ('reportingPath(from: "x") { id }', "give exactly one of to and toUserName"),
        ('reportingPath(fromUserName: "x", from: "y", to: "z") { id }', "from and fromUserName"),
    ],
)
def test_both_or_neither_is_a_clear_error(seeded: SeededOrg, arguments: str, message: str) -> None:
    errors = seeded.acme.errors(f"{{ {arguments} }}")
    assert any(message in error for error in errors), errors


def test_the_reporting_path_operation(seeded: SeededOrg) -> None:
    operation = (ROOT / "graphql" / "operations" / "reporting_path.graphql").read_text()
    org = seeded.org
    for a, b in pairs(seeded)[:5]:
        variables = {"from": org.people[a].user_name, "to": org.people[b].user_name}
        data = seeded.acme.data(operation, variables)
        assert (data["commonManager"] or {}).get("id") == org.common_manager(a, b)
        path = None if data["reportingPath"] is None else [u["id"] for u in data["reportingPath"]]
        assert path == org.reporting_path(a, b)
