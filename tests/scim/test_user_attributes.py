"""The User attribute map is what casting, filtering and the written columns follow."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from db.tables import users
from db.users import WRITABLE_COLUMNS
from scim import urns
from scim.errors import ScimError, ScimType
from scim.filter_schema import ColumnField, Kind, ResourceSchema
from scim.filters import _sort_column, compile_user_filter, user_sort_column
from scim.schema_model import Attr
from scim.user_attributes import (
    DOCUMENT_COLUMN,
    SCIM_WRITTEN_COLUMNS,
    USER_ATTRIBUTES,
    Placement,
    UserAttribute,
    check_map,
)
from scim.user_cast import document_to_columns, row_to_document
from scim.user_schema import USER_RESOURCE_TYPE

IDS = [entry.path for entry in USER_ATTRIBUTES]


def _schema_attr(entry: UserAttribute) -> Attr | None:
    schema = USER_RESOURCE_TYPE.schema(entry.urn)
    assert schema is not None, entry.path
    attribute = schema.attr(entry.attribute)
    if attribute is None:
        return None
    return attribute.sub(entry.sub) if entry.sub is not None else attribute


def _document(entry: UserAttribute, value: Any) -> dict[str, Any]:
    """A canonical document with ``value`` at the entry's path (and the required userName)."""
    document: dict[str, Any] = {"userName": "u"} if entry.attribute != "userName" else {}
    section = document if entry.urn == urns.CORE_USER else document.setdefault(entry.urn, {})
    if entry.placement is Placement.SINGULAR:
        section[entry.attribute] = value
    elif entry.placement is Placement.SUB_ATTRIBUTE:
        section[entry.attribute] = {entry.sub: value}
    else:
        section[entry.attribute] = [
            {"type": "other", "value": "o"},
            {"type": entry.kind, entry.sub: value},
        ]
    return document


def _row(columns: dict[str, Any]) -> dict[str, Any]:
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    return {**columns, "id": "i", "created": moment, "last_modified": moment, "version": 1}


def test_the_written_columns_are_the_stores_writable_columns() -> None:
    assert sorted(SCIM_WRITTEN_COLUMNS) == sorted(WRITABLE_COLUMNS)
    for column in SCIM_WRITTEN_COLUMNS:
        assert column in users.c
    assert set(document_to_columns({"userName": "u"})) == set(SCIM_WRITTEN_COLUMNS)


@pytest.mark.parametrize("entry", USER_ATTRIBUTES, ids=IDS)
def test_the_map_agrees_with_the_schema_metadata(entry: UserAttribute) -> None:
    attribute = _schema_attr(entry)
    if entry.path == "externalId":  # a common attribute (RFC 7643 §3.1): caseExact
        assert attribute is None
        assert entry.case_exact
        return
    assert attribute is not None, f"{entry.path} is not declared in scim.user_schema"
    assert (attribute.type, attribute.case_exact, attribute.returned) == (
        entry.type,
        entry.case_exact,
        entry.returned,
    )
    assert not attribute.multi_valued or entry.placement is not Placement.SINGULAR


@pytest.mark.parametrize("entry", USER_ATTRIBUTES, ids=IDS)
def test_each_entry_is_stored_where_the_map_says_and_read_back_as_sent(
    entry: UserAttribute,
) -> None:
    value: Any = False if entry.type == "boolean" else " Mixed Case\tvalue "
    document = _document(entry, value)
    columns = document_to_columns(document)
    if entry.column is not None:
        assert columns[entry.column] == value
        assert json.dumps(value) not in json.dumps(columns[DOCUMENT_COLUMN])  # stored once
    else:
        section = columns[DOCUMENT_COLUMN]
        if entry.urn != urns.CORE_USER:
            section = section[entry.urn]
        assert section[entry.attribute] == value
    assert row_to_document(_row(columns)) == document


@pytest.mark.parametrize(
    "entry", [e for e in USER_ATTRIBUTES if e.filterable], ids=lambda entry: entry.path
)
def test_each_filterable_entry_filters_on_its_column(entry: UserAttribute) -> None:
    literal = "true" if entry.type == "boolean" else '"x"'
    where = compile_user_filter(f"{entry.path} eq {literal}")
    sql = str(where.compile(dialect=sqlite.dialect()))
    assert f"user.{entry.column or DOCUMENT_COLUMN}" in sql.replace('"', "")
    lowered = "lower(" in sql
    assert lowered == (entry.type in ("string", "reference") and not entry.case_exact), sql


@pytest.mark.parametrize(
    "entry", [e for e in USER_ATTRIBUTES if e.sortable], ids=lambda entry: entry.path
)
def test_each_sortable_entry_sorts(entry: UserAttribute) -> None:
    path = entry.path if entry.placement is not Placement.TYPED_ELEMENT else entry.attribute
    if entry.kind == "mobile":
        return  # phoneNumbers sorts by its first stored value, the work number
    sql = str(user_sort_column(path).compile(dialect=sqlite.dialect())).replace('"', "")
    assert f"user.{entry.column or DOCUMENT_COLUMN}" in sql


def test_a_field_marked_unsortable_is_refused() -> None:
    schema = ResourceSchema(
        name="Thing",
        core_urn="urn:thing",
        schemas={"urn:thing": {"code": ColumnField(users.c.title, Kind.STRING, sortable=False)}},
        urn_aliases={},
        unfilterable=frozenset(),
    )
    with pytest.raises(ScimError) as error:
        _sort_column("code", schema)
    assert error.value.status == 400


def test_a_path_outside_the_supported_shapes_is_refused() -> None:
    with pytest.raises(ValueError, match="not an attribute path"):
        UserAttribute("emails[value eq x]", "email")


def test_attributes_the_map_leaves_out_are_unfilterable() -> None:
    for name in ("addresses", "roles", "ims", "photos", "entitlements", "x509Certificates"):
        with pytest.raises(ScimError) as error:
            compile_user_filter(f'{name}.value eq "x"')
        assert error.value.scim_type is ScimType.INVALID_FILTER


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ((UserAttribute("title", "title"), UserAttribute("nickName", "title")), "mapped twice"),
        ((UserAttribute("name.givenName", None),), "only singular"),
        ((UserAttribute('emails[type eq "Work"].value', "email"),), "lower case"),
        ((UserAttribute("title", "title", filterable=False),), "sortable needs filterable"),
        ((UserAttribute('emails[type eq "work"]', "email"),), "needs a sub-attribute"),
    ],
)
def test_a_map_the_casting_cannot_follow_is_refused(
    entries: tuple[UserAttribute, ...], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        check_map(entries)
    check_map(USER_ATTRIBUTES)
