"""PATCH building blocks without a store: path parsing, value filters, operation parsing."""

from typing import Any

import pytest

from scim.errors import ScimError
from scim.patch_apply import apply_patch
from scim.patch_path import parse_path
from scim.patch_request import parse_patch_request
from scim.patch_value_filter import parse_value_filter
from scim.user_schema import CORE_USER_SCHEMA, USER_RESOURCE_TYPE
from tests.scim.support import ENTERPRISE, PATCH_OP


@pytest.mark.parametrize(
    ("text", "schema", "attribute", "sub", "has_filter"),
    [
        ("userName", CORE_USER_SCHEMA.id, "userName", None, False),
        ("USERNAME", CORE_USER_SCHEMA.id, "userName", None, False),
        ("name.givenName", CORE_USER_SCHEMA.id, "name", "givenName", False),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
            CORE_USER_SCHEMA.id,
            "name",
            "familyName",
            False,
        ),
        (f"{ENTERPRISE}:manager", ENTERPRISE, "manager", None, False),
        (f"{ENTERPRISE}:manager.value", ENTERPRISE, "manager", "value", False),
        ("manager", ENTERPRISE, "manager", None, False),
        ('emails[type eq "work"].value', CORE_USER_SCHEMA.id, "emails", "value", True),
        ('emails[value eq "a]b"]', CORE_USER_SCHEMA.id, "emails", None, True),
        ('manager[value eq "x"]', ENTERPRISE, "manager", None, True),
        (ENTERPRISE, ENTERPRISE, None, None, False),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0User:department",
            ENTERPRISE,
            "department",
            None,
            False,
        ),
    ],
)
def test_paths(
    text: str, schema: str, attribute: str | None, sub: str | None, has_filter: bool
) -> None:
    path = parse_path(USER_RESOURCE_TYPE, text)
    assert path.schema.id == schema
    assert (path.attr.name if path.attr else None) == attribute
    assert (path.sub.name if path.sub else None) == sub
    assert (path.value_filter is not None) == has_filter


@pytest.mark.parametrize(
    ("text", "scim_type"),
    [
        ("nope", "invalidPath"),
        ("name.nope", "invalidPath"),
        ('emails[type eq "work"', "invalidPath"),
        ('emails[type eq "work"]x', "invalidPath"),
        ('title[value eq "x"]', "invalidPath"),
        ("emails[]", "invalidPath"),
        ("urn:unknown:schema:attr", "invalidPath"),
        ("id", "mutability"),
        ("meta.lastModified", "mutability"),
    ],
)
def test_bad_paths(text: str, scim_type: str) -> None:
    with pytest.raises(ScimError) as raised:
        parse_path(USER_RESOURCE_TYPE, text)
    assert raised.value.status == 400
    assert raised.value.scim_type == scim_type


EMAILS = CORE_USER_SCHEMA.attr("emails")


@pytest.mark.parametrize(
    ("text", "element", "matches"),
    [
        ('type eq "work"', {"type": "Work"}, True),
        ('type eq "work"', {"type": "home"}, False),
        ('type ne "work"', {"type": "home"}, True),
        ('value co "@contoso"', {"value": "a@CONTOSO.com"}, True),
        ('value sw "a" and value ew ".com"', {"value": "a@b.com"}, True),
        ('type eq "home" or primary eq true', {"type": "work", "primary": True}, True),
        ("not (primary eq true)", {"primary": False}, True),
        ("display pr", {"display": ""}, False),
        ("display pr", {"display": "x"}, True),
        ('value eq "say \\"hi\\""', {"value": 'say "hi"'}, True),
        ('value gt "b"', {"value": "c"}, True),
        ('value le "b"', {"value": "c"}, False),
    ],
)
def test_value_filters(text: str, element: dict[str, Any], matches: bool) -> None:
    assert EMAILS is not None
    assert parse_value_filter(text, EMAILS)(element) is matches


@pytest.mark.parametrize(
    "text",
    ["", "type", "type eq", 'type zz "x"', '(type eq "x"', 'type eq "x" junk', "type eq bogus"],
)
def test_bad_value_filters(text: str) -> None:
    assert EMAILS is not None
    with pytest.raises(ScimError) as raised:
        parse_value_filter(text, EMAILS)
    assert raised.value.scim_type == "invalidPath"


def test_equalities_seed_new_elements() -> None:
    assert EMAILS is not None
    assert parse_value_filter('type eq "work" and primary eq true', EMAILS).equalities == {
        "type": "work",
        "primary": True,
    }
    assert parse_value_filter('type eq "work" or type eq "home"', EMAILS).equalities == {}


def test_operations_parse_case_insensitively() -> None:
    body = {
        "schemas": [PATCH_OP],
        "Operations": [
            {"OP": "Replace", "Path": "title", "Value": "x"},
            {"op": "REMOVE", "path": "nickName"},
        ],
    }
    operations = parse_patch_request(body)
    assert [(op.number, op.op, op.path, op.value) for op in operations] == [
        (1, "replace", "title", "x"),
        (2, "remove", "nickName", None),
    ]


def test_apply_patch_leaves_its_input_alone() -> None:
    document = {"userName": "u", "emails": [{"type": "work", "value": "a"}]}
    operations = parse_patch_request(
        {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": 'emails[type eq "work"].value', "value": "b"}],
        }
    )
    result = apply_patch(USER_RESOURCE_TYPE, "id-1", document, operations)
    assert result["emails"] == [{"type": "work", "value": "b"}]
    assert document["emails"] == [{"type": "work", "value": "a"}]
