"""A user's stored attributes by SCIM path, derived from the attribute map."""

from typing import Any

from scim.resource_input import normalise_resource
from scim.user_attributes import SCIM_WRITTEN_COLUMNS
from scim.user_cast import document_to_columns
from scim.user_changes import MANAGER_PATH, stored_attributes, user_changes
from scim.user_schema import USER_RESOURCE_TYPE

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _row(document: dict[str, Any]) -> dict[str, Any]:
    return {"id": "u1", **document_to_columns(normalise_resource(USER_RESOURCE_TYPE, document))}


def test_every_column_a_document_decides_has_a_path() -> None:
    paths = stored_attributes(_row({"userName": "a"}))
    # one path per typed column, plus "active" left unassigned
    assert len([p for p in paths if not p.startswith("_")]) == len(SCIM_WRITTEN_COLUMNS) - 1
    assert paths["active"] is None
    assert f"{ENTERPRISE}:manager" == MANAGER_PATH


def test_json_kept_attributes_are_named_by_key_and_extensions_by_attribute() -> None:
    before = _row({"userName": "a", "active": True, "addresses": [{"locality": "Köln"}]})
    after = _row(
        {
            "userName": "a",
            "addresses": [{"locality": "Bonn"}],
            ENTERPRISE: {"costCenter": "42", "manager": {"value": "boss"}},
        }
    )
    assert user_changes(before, after) == [
        {"attribute": "active", "oldValue": True, "newValue": None},
        {"attribute": MANAGER_PATH, "oldValue": None, "newValue": "boss"},
        {
            "attribute": "addresses",
            "oldValue": [{"locality": "Köln"}],
            "newValue": [{"locality": "Bonn"}],
        },
        {"attribute": f"{ENTERPRISE}:costCenter", "oldValue": None, "newValue": "42"},
    ]
    assert user_changes(after, after) == []


def test_a_password_is_never_among_the_stored_attributes() -> None:
    row = _row({"userName": "a", "password": "secret"})
    assert "secret" not in str(stored_attributes(row))


def _every_change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Any]:
    """``user_changes`` the long way: every stored attribute of both rows compared."""
    old = stored_attributes(before) if before is not None else {}
    new = stored_attributes(after) if after is not None else {}
    return [
        {"attribute": path, "oldValue": old.get(path), "newValue": new.get(path)}
        for path in dict.fromkeys((*new, *old))
        if old.get(path) != new.get(path)
    ]


def test_an_update_that_keeps_the_document_compares_the_columns_alone_to_the_same_result() -> None:
    """A write that leaves the JSON document as it was (Entra's manager PATCH) compares the
    columns only: the same changes as comparing every stored attribute, "active" left
    unassigned included."""
    documents: list[dict[str, Any]] = [
        {"userName": "a"},  # active unassigned
        {"userName": "a", "active": False, "title": "CTO"},
        {"userName": "b", "active": True, "addresses": [{"locality": "Köln"}]},
        {"userName": "a", ENTERPRISE: {"costCenter": "42", "manager": {"value": "boss"}}},
    ]
    for first in documents:
        before = _row(first)
        for second in documents:
            after = _row(second) | {"attributes": before["attributes"]}
            for changed in ({}, {"active": not before["active"]}, {"manager_id": "m2"}):
                row = after | changed
                assert user_changes(before, row) == _every_change(before, row)
    assert user_changes(before, before) == []
