"""The repository layout rules that keep strawberry working."""

from pathlib import Path

import graphql

ROOT = Path(__file__).resolve().parents[2]


def test_graphql_resolves_to_graphql_core_not_the_contract_folder() -> None:
    module_file = Path(graphql.__file__ or "")
    assert "site-packages" in module_file.parts
    assert module_file.parent != ROOT / "graphql"
    assert hasattr(graphql, "GraphQLSchema")


def test_contract_folder_holds_no_python() -> None:
    assert not list((ROOT / "graphql").rglob("*.py"))
    assert not (ROOT / "tests" / "graphql").exists()
