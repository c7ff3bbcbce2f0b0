"""PATCH building blocks without a store: path parsing, value filters, operation parsing."""

from typing import Any

import pytest

from scim.errors import ScimError
from scim.patch_apply import apply_patch
from scim.patch_changes import prepare_changes
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


@pytest.mark.parametrize(
    "path",
    [
        "emails[" + "(" * 316 + 'type eq "work"' + ")" * 316 + "].value",
        "emails[" + "not (" * 316 + 'type eq "work"' + ")" * 316 + "]",
        "emails[" + "(" * 5000 + 'type eq "work"' + ")" * 5000 + "]",
    ],
)
def test_deeply_nested_value_filters_are_invalid_paths_not_recursion(path: str) -> None:
    with pytest.raises(ScimError) as raised:
        parse_path(USER_RESOURCE_TYPE, path)
    assert raised.value.status == 400
    assert raised.value.scim_type == "invalidPath"


def test_value_filters_use_the_filter_grammar_precedence() -> None:
    assert EMAILS is not None
    # "and" binds tighter than "or" (RFC 7644 §3.4.2.2): work, or (home and primary)
    value_filter = parse_value_filter(
        'type eq "work" or type eq "home" and primary eq true', EMAILS
    )
    assert value_filter({"type": "work", "primary": False})
    assert not value_filter({"type": "home", "primary": False})
    assert value_filter({"type": "home", "primary": "True"})  # Entra's string booleans
    long_chain = " or ".join(f'value eq "u{i}"' for i in range(150))
    assert parse_value_filter(long_chain, EMAILS)({"value": "U149"})


def test_value_filters_name_the_values_of_an_or_of_value_eq() -> None:
    assert EMAILS is not None
    named = parse_value_filter('value eq "A" or (value eq "b" or value eq "c")', EMAILS)
    assert named.named_values == ("A", "b", "c")
    for text in ('value ne "a"', 'value eq "a" and type eq "b"', "value eq 1", 'type eq "a"'):
        assert parse_value_filter(text, EMAILS).named_values is None


def test_bracketed_paths_must_be_one_attribute_and_its_filter() -> None:
    for text in (
        'emails[type eq "work"] or userName eq "x"',
        'emails[type eq "work"].value eq "x"',
        'emails[type eq "work"].value.display',
        'emails[type[value eq "x"] eq "y"]',
    ):
        with pytest.raises(ScimError) as raised:
            parse_path(USER_RESOURCE_TYPE, text)
        assert raised.value.scim_type == "invalidPath", text


def test_changes_carry_canonical_values_normalised_once() -> None:
    operations = parse_patch_request(
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "boss-id"},
                {"op": "replace", "value": {"name.givenName": "Kkom", "displayName": "Bjfe"}},
                {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 5"},
                {"op": "Remove", "path": "manager", "value": [{"value": "boss-id"}]},
            ],
        }
    )
    changes = prepare_changes(USER_RESOURCE_TYPE, "id-1", operations)
    assert [(c.operation.number, c.op, c.value) for c in changes] == [
        (1, "replace", False),
        (2, "add", {"value": "boss-id"}),
        (3, "replace", "Kkom"),
        (3, "replace", "Bjfe"),
        (4, "add", "+1 5"),
        (5, "remove", None),
    ]
    mobile = changes[4]
    assert mobile.path.attr is not None
    assert mobile.path.attr.name == "phoneNumbers"
    assert mobile.seed == {"type": "mobile"}
    assert changes[5].listed == frozenset({"boss-id"})


def test_a_bad_value_is_refused_before_the_document_is_read() -> None:
    operations = parse_patch_request(
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "replace", "path": "title", "value": "ok"},
                {"op": "replace", "path": "active", "value": "maybe"},
            ],
        }
    )
    with pytest.raises(ScimError) as raised:
        prepare_changes(USER_RESOURCE_TYPE, "id-1", operations)
    assert raised.value.scim_type == "invalidValue"
    assert raised.value.detail.startswith("operation 2 (replace active)")
