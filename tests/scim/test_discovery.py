"""/Schemas, /ResourceTypes and the SCIM answers to wrong methods and unknown paths."""

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.scim.support import BLINK, CORE, ENTERPRISE, LIST_RESPONSE, assert_error

ATTRIBUTE_KEYS = {
    "name",
    "type",
    "multiValued",
    "description",
    "required",
    "mutability",
    "returned",
    "uniqueness",
}


def _walk(attributes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for attribute in attributes:
        found.append(attribute)
        found += _walk(attribute.get("subAttributes", []))
    return found


@pytest.mark.parametrize("prefix", ["/scim", "/scim/v2"])
def test_schemas_have_full_attribute_metadata(scim: TestClient, prefix: str) -> None:
    body = scim.get(f"{prefix}/Schemas").json()
    assert body["schemas"] == [LIST_RESPONSE]
    assert body["totalResults"] == len(body["Resources"]) == 4
    by_id = {schema["id"]: schema for schema in body["Resources"]}
    assert set(by_id) == {CORE, ENTERPRISE, BLINK, "urn:ietf:params:scim:schemas:core:2.0:Group"}
    for schema in by_id.values():
        assert schema["meta"] == {
            "resourceType": "Schema",
            "location": f"http://testserver{prefix}/Schemas/{schema['id']}",
        }
        for attribute in _walk(schema["attributes"]):
            assert set(attribute) >= ATTRIBUTE_KEYS
            if attribute["type"] in ("string", "reference"):
                assert "caseExact" in attribute
            if attribute["type"] == "complex":
                assert attribute["subAttributes"]
            if attribute["type"] == "reference":
                assert attribute["referenceTypes"]
    core = {attribute["name"]: attribute for attribute in by_id[CORE]["attributes"]}
    assert core["userName"]["required"] is True
    assert core["userName"]["uniqueness"] == "server"
    assert core["password"]["returned"] == "never"
    assert core["groups"]["mutability"] == "readOnly"
    manager = next(a for a in by_id[ENTERPRISE]["attributes"] if a["name"] == "manager")
    assert {sub["name"] for sub in manager["subAttributes"]} == {"value", "$ref", "displayName"}
    assert [(a["name"], a["type"]) for a in by_id[BLINK]["attributes"]] == [
        ("company", "string"),
        ("description", "string"),
        ("location", "string"),
    ]


@pytest.mark.parametrize("urn", [CORE, ENTERPRISE, BLINK])
def test_one_schema_by_urn(scim: TestClient, urn: str) -> None:
    response = scim.get(f"/scim/Schemas/{urn}")
    assert response.status_code == 200
    assert response.json()["id"] == urn


def test_unknown_schema_and_resource_type_are_404(scim: TestClient) -> None:
    assert_error(scim.get("/scim/Schemas/urn:nope"), 404)
    assert_error(scim.get("/scim/ResourceTypes/Printer"), 404)


def test_resource_types_declare_the_extensions(scim: TestClient) -> None:
    body = scim.get("/scim/ResourceTypes").json()
    assert body["totalResults"] == 2  # User, Group
    user = body["Resources"][0]
    assert user == scim.get("/scim/ResourceTypes/User").json()
    assert user["endpoint"] == "/Users"
    assert user["schema"] == CORE
    assert user["schemaExtensions"] == [
        {"schema": ENTERPRISE, "required": False},
        {"schema": BLINK, "required": False},
    ]


def test_service_provider_config_is_truthful(scim: TestClient) -> None:
    body = scim.get("/scim/ServiceProviderConfig").json()
    assert body["patch"]["supported"] is True
    assert body["bulk"]["supported"] is False
    assert body["changePassword"]["supported"] is False
    assert body["sort"]["supported"] is True
    assert body["etag"]["supported"] is True
    assert body["filter"] == {"supported": True, "maxResults": 1000}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/scim/Schemas"),
        ("delete", "/scim/Schemas/" + CORE),
        ("put", "/scim/ResourceTypes"),
        ("patch", "/scim/ResourceTypes/User"),
        ("post", "/scim/ServiceProviderConfig"),
        ("put", "/scim/Users"),
        ("delete", "/scim/Users"),
        ("post", "/scim/Users/some-id"),
        ("get", "/scim/.search"),
    ],
)
def test_wrong_methods_are_scim_405(scim: TestClient, method: str, path: str) -> None:
    assert_error(scim.request(method.upper(), path), 405)


@pytest.mark.parametrize("path", ["/scim/Printers", "/scim/v2/Users/a/b", "/scim/Bulk"])
def test_unknown_paths_are_scim_404(scim: TestClient, path: str) -> None:
    assert_error(scim.get(path), 404)
