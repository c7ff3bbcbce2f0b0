"""Casting a User document to columns and back, without a store."""

from datetime import UTC, datetime
from typing import Any

from db.users import WRITABLE_COLUMNS
from scim.user_cast import document_to_columns, render_user, row_to_document
from tests.scim.support import BLINK, ENTERPRISE

DOCUMENT: dict[str, Any] = {
    "externalId": "e",
    "userName": "u",
    "name": {"givenName": "G", "familyName": "F"},
    "displayName": "D",
    "title": "T",
    "active": False,
    "nickName": "N",
    "emails": [{"type": "home", "value": "h@x"}, {"type": "Work", "value": "w@x", "primary": True}],
    "phoneNumbers": [{"type": "mobile", "value": "m"}, {"type": "work", "value": "w"}],
    ENTERPRISE: {"department": "Dep", "costCenter": "CC", "manager": {"value": "boss"}},
    BLINK: {"company": "C"},
}


def _row(columns: dict[str, Any]) -> dict[str, Any]:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return {
        **columns,
        "id": "id-1",
        "created": moment,
        "last_modified": moment,
        "version": 7,
        "manager_display_name": None,
    }


def test_casting_fills_exactly_the_writable_columns() -> None:
    columns = document_to_columns(DOCUMENT)
    assert set(columns) == set(WRITABLE_COLUMNS)
    assert (columns["email"], columns["work_phone"], columns["mobile_phone"]) == ("w@x", "w", "m")
    assert columns["manager_id"] == "boss"
    assert "w@x" not in str(columns["attributes"])  # stored once, in its column


def test_document_survives_the_round_trip() -> None:
    document = row_to_document(_row(document_to_columns(DOCUMENT)))  # type: ignore[arg-type]
    assert document == DOCUMENT


def test_render_adds_identity_meta_and_manager_reference() -> None:
    resource = render_user(_row(document_to_columns(DOCUMENT)), "https://h/scim")  # type: ignore[arg-type]
    assert resource["id"] == "id-1"
    assert resource["meta"] == {
        "resourceType": "User",
        "created": "2026-01-02T03:04:05Z",
        "lastModified": "2026-01-02T03:04:05Z",
        "location": "https://h/scim/Users/id-1",
        "version": 'W/"7"',
    }
    assert resource[ENTERPRISE]["manager"] == {
        "value": "boss",
        "$ref": "https://h/scim/Users/boss",
        "displayName": None,
    }
    assert resource["schemas"][1:] == [ENTERPRISE, BLINK]
