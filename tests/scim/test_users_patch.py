"""PATCH /Users/{id}: the engine's semantics through HTTP (atomicity, mutability, paths)."""

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.scim.support import BLINK, ENTERPRISE, assert_error, create, patch, patched


def test_patch_is_atomic_and_names_the_failing_operation(scim: TestClient) -> None:
    user = create(scim, "atomic@contoso.com", title="Before")
    response = patch(
        scim,
        user["id"],
        {"op": "replace", "path": "title", "value": "After"},
        {"op": "replace", "path": "noSuchAttribute", "value": "x"},
    )
    body = assert_error(response, 400, "invalidPath")
    assert "operation 2" in body["detail"]
    assert scim.get(f"/scim/Users/{user['id']}").json() == user


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "remove", "path": "userName"},
        {"op": "replace", "path": "id", "value": "new-id"},
        {"op": "replace", "value": {"id": "new-id"}},
        {"op": "replace", "path": "meta.created", "value": "2001-01-01T00:00:00Z"},
        {"op": "add", "path": "groups", "value": [{"value": "g1"}]},
    ],
)
def test_read_only_and_required_attributes_are_mutability_errors(
    scim: TestClient, operation: dict[str, Any]
) -> None:
    user = create(scim, "mut@contoso.com")
    assert_error(patch(scim, user["id"], operation), 400, "mutability")
    assert scim.get(f"/scim/Users/{user['id']}").json() == user


def test_filtered_replace_updates_the_matching_element_in_place(scim: TestClient) -> None:
    phones = [{"type": "work", "value": "1"}, {"type": "mobile", "value": "2", "primary": True}]
    user = create(scim, "phones@contoso.com", phoneNumbers=phones)
    body = patched(
        scim,
        user["id"],
        {"op": "Replace", "path": 'phoneNumbers[type eq "mobile"].value', "value": "3"},
    )
    assert body["phoneNumbers"] == [
        {"type": "work", "value": "1"},
        {"type": "mobile", "value": "3", "primary": True},
    ]


def test_filtered_replace_without_match_creates_the_element(scim: TestClient) -> None:
    user = create(scim, "nomobile@contoso.com", phoneNumbers=[{"type": "work", "value": "1"}])
    body = patched(
        scim,
        user["id"],
        {"op": "Replace", "path": 'phoneNumbers[type eq "mobile"].value', "value": "555"},
    )
    assert body["phoneNumbers"] == [
        {"type": "work", "value": "1"},
        {"type": "mobile", "value": "555"},
    ]


def test_filtered_remove_removes_only_matching_elements(scim: TestClient) -> None:
    emails = [{"type": "work", "value": "w@c.com"}, {"type": "home", "value": "h@c.com"}]
    user = create(scim, "emails@contoso.com", emails=emails)
    body = patched(scim, user["id"], {"op": "remove", "path": 'emails[type eq "work"]'})
    assert body["emails"] == [{"type": "home", "value": "h@c.com"}]


def test_filter_with_and_and_value_operators(scim: TestClient) -> None:
    emails = [
        {"type": "work", "value": "a@contoso.com"},
        {"type": "work", "value": "b@fabrikam.com"},
    ]
    user = create(scim, "and@contoso.com", emails=emails)
    body = patched(
        scim,
        user["id"],
        {
            "op": "replace",
            "path": 'emails[type eq "work" and value co "@fabrikam"].display',
            "value": "F",
        },
    )
    assert body["emails"] == [emails[0], {**emails[1], "display": "F"}]


def test_add_appends_and_replace_replaces_multi_valued(scim: TestClient) -> None:
    user = create(scim, "multi@contoso.com", roles=[{"value": "a"}])
    body = patched(scim, user["id"], {"op": "add", "path": "roles", "value": [{"value": "b"}]})
    assert body["roles"] == [{"value": "a"}, {"value": "b"}]
    body = patched(scim, user["id"], {"op": "replace", "path": "roles", "value": [{"value": "c"}]})
    assert body["roles"] == [{"value": "c"}]
    body = patched(scim, user["id"], {"op": "remove", "path": "roles"})
    assert "roles" not in body


def test_add_to_a_complex_attribute_merges(scim: TestClient) -> None:
    user = create(scim, "merge@contoso.com", name={"givenName": "Ada"})
    body = patched(
        scim, user["id"], {"op": "add", "path": "name", "value": {"familyName": "Lovelace"}}
    )
    assert body["name"] == {"givenName": "Ada", "familyName": "Lovelace"}


def test_extension_urn_as_path_and_as_pathless_key(scim: TestClient) -> None:
    user = create(scim, "ext@contoso.com")
    body = patched(
        scim,
        user["id"],
        {"op": "add", "path": BLINK, "value": {"company": "Contoso", "location": "Oslo"}},
    )
    assert body[BLINK] == {"company": "Contoso", "location": "Oslo"}
    body = patched(scim, user["id"], {"op": "add", "value": {BLINK: {"description": "d"}}})
    assert body[BLINK] == {"company": "Contoso", "location": "Oslo", "description": "d"}
    body = patched(scim, user["id"], {"op": "remove", "path": BLINK})
    assert BLINK not in body
    assert BLINK not in body["schemas"]


def test_pathless_add_with_misspelled_enterprise_urn(scim: TestClient) -> None:
    user = create(scim, "typo@contoso.com")
    urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"
    body = patched(scim, user["id"], {"op": "add", "value": {f"{urn}:department": "Typo"}})
    assert body[ENTERPRISE] == {"department": "Typo"}


def test_values_are_stored_exactly(scim: TestClient) -> None:
    user = create(scim, "exact@contoso.com")
    odd = "  +1 (555) 0100  \u00a0ÄÖ "
    body = patched(
        scim, user["id"], {"op": "add", "path": 'phoneNumbers[type eq "work"].value', "value": odd}
    )
    assert body["phoneNumbers"] == [{"type": "work", "value": odd}]


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "add", "path": 'emails[type eq "work"', "value": "x"}, "invalidPath"),
        ({"op": "add", "path": 'emails[type zz "work"].value', "value": "x"}, "invalidPath"),
        ({"op": "add", "path": "name.nickname", "value": "x"}, "invalidPath"),
        ({"op": "add", "path": "urn:example:nope:attr", "value": "x"}, "invalidPath"),
        ({"op": "add", "path": "active", "value": "perhaps"}, "invalidValue"),
        ({"op": "add", "path": "title"}, "invalidValue"),
        ({"op": "remove"}, "noTarget"),
        ({"op": "move", "path": "title", "value": "x"}, "invalidSyntax"),
        ({"op": "add", "value": "not an object"}, "invalidValue"),
    ],
)
def test_bad_operations_are_400(
    scim: TestClient, operation: dict[str, Any], scim_type: str
) -> None:
    user = create(scim, "bad@contoso.com")
    assert_error(patch(scim, user["id"], operation), 400, scim_type)
    assert scim.get(f"/scim/Users/{user['id']}").json() == user


@pytest.mark.parametrize(
    "body",
    [
        {"Operations": [{"op": "add", "path": "title", "value": "x"}]},
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []},
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []},
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": "add"},
    ],
)
def test_malformed_patch_requests_are_invalid_syntax(
    scim: TestClient, body: dict[str, Any]
) -> None:
    user = create(scim, "malformed@contoso.com")
    assert_error(scim.patch(f"/scim/Users/{user['id']}", json=body), 400, "invalidSyntax")


def test_patch_of_unknown_user_is_404(scim: TestClient) -> None:
    assert_error(patch(scim, "nobody", {"op": "add", "path": "title", "value": "x"}), 404)


def test_noop_patch_keeps_the_version(scim: TestClient) -> None:
    user = create(scim, "same@contoso.com", title="Same")
    body = patched(scim, user["id"], {"op": "replace", "path": "title", "value": "Same"})
    assert body["meta"]["version"] == user["meta"]["version"]


@pytest.mark.parametrize(
    "path",
    [
        "emails[" + "(" * 316 + 'type eq "work"' + ")" * 316 + "].value",
        "phoneNumbers[" + "not (" * 316 + 'type eq "mobile"' + ")" * 316 + "]",
    ],
)
def test_deeply_nested_path_filters_are_400_not_500(scim: TestClient, path: str) -> None:
    user = create(scim, "nested@contoso.com", emails=[{"type": "work", "value": "a@b.c"}])
    response = patch(scim, user["id"], {"op": "replace", "path": path, "value": "x@y.z"})
    assert_error(response, 400, "invalidPath")
    assert scim.get(f"/scim/Users/{user['id']}").json() == user


@pytest.mark.parametrize(
    ("path", "changed"),
    [
        ('emails[value ew "@CONTOSO.com"].display', ["a@contoso.com", "c@contoso.com"]),
        ('emails[value sw "B" or type eq "home"].display', ["b@fabrikam.com", "c@contoso.com"]),
        ('emails[not (type eq "work")].display', ["b@fabrikam.com", "c@contoso.com"]),
        ('emails[value gt "b"].display', ["b@fabrikam.com", "c@contoso.com"]),
        ("emails[primary eq true].display", ["a@contoso.com"]),
        ('emails[type ne "work" and value co "fabrikam"].display', ["b@fabrikam.com"]),
        ('emails[value le "b@fabrikam.com" and not (value lt "b")].display', ["b@fabrikam.com"]),
    ],
)
def test_every_value_filter_operator_selects_elements(
    scim: TestClient, path: str, changed: list[str]
) -> None:
    emails = [
        {"type": "work", "value": "a@contoso.com", "primary": True},
        {"type": "other", "value": "b@fabrikam.com"},
        {"type": "home", "value": "c@contoso.com"},
    ]
    user = create(scim, "operators@contoso.com", emails=emails)
    body = patched(scim, user["id"], {"op": "replace", "path": path, "value": "Seen"})
    assert sorted(e["value"] for e in body["emails"] if e.get("display") == "Seen") == changed
    assert [e["value"] for e in body["emails"]] == [e["value"] for e in emails]
