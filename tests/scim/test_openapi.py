"""The OpenAPI 3.1 description at /scim/openapi.json: valid, public, derived from the schemas."""

from typing import Any

import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from scim.openapi import openapi_document
from scim.resource_types import RESOURCE_TYPES
from scim.user_attributes import USER_ATTRIBUTES
from scim.user_schema import USER_RESOURCE_TYPE
from tests.scim.support import ENTERPRISE


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/scim/openapi.json")  # no token: it describes no tenant's data
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def test_it_is_a_valid_openapi_3_1_document(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_both_base_paths_and_bearer_auth(client: TestClient, document: dict[str, Any]) -> None:
    assert [server["url"] for server in document["servers"]] == ["/scim", "/scim/v2"]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The tenant's SCIM token (Entra's Secret Token)",
    }
    assert document["security"] == [{"bearerAuth": []}]
    assert client.get("/scim/v2/openapi.json").json() == document
    assert client.get("/scim/Users").status_code == 401  # the rest still needs a token


def test_every_endpoint_is_described(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for endpoint in ("/Users", "/Groups"):
        assert set(paths[endpoint]) == {"get", "post"}
        assert set(paths[f"{endpoint}/.search"]) == {"post"}
        assert {"get", "put", "patch", "delete"} <= set(paths[f"{endpoint}/{{id}}"])
    for endpoint in ("/.search", "/ServiceProviderConfig", "/Schemas", "/Schemas/{id}"):
        assert endpoint in paths
    assert "/ResourceTypes/{id}" in paths
    for path_item in paths.values():
        for method, operation in path_item.items():
            if method == "parameters":
                continue
            errors = [status for status in operation["responses"] if status.startswith("4")]
            assert "401" in errors
            for status in errors:
                schema = operation["responses"][status]["content"]["application/scim+json"]
                assert schema["schema"] == {"$ref": "#/components/schemas/Error"}


def test_resource_schemas_follow_the_attribute_metadata(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for resource_type in RESOURCE_TYPES:
        output = schemas[resource_type.id]["properties"]
        given = schemas[f"{resource_type.id}Input"]["properties"]
        for attr in resource_type.core.attributes:
            if attr.returned != "never":
                assert attr.name in output
            assert (attr.name in given) == (attr.mutability != "readOnly")
        for extension in resource_type.extensions:
            names = {attr.name for attr in extension.attributes}
            assert set(output[extension.id]["properties"]) == names
    user_input = schemas["UserInput"]["properties"]
    assert "urn:ietf:params:scim:schemas:extension:enterprise:2.0User" in user_input
    active = user_input["active"]["anyOf"][0]["anyOf"]
    assert {"type": "boolean"} in active  # and Entra's "True"/"False" strings
    assert schemas["UserInput"]["required"] == ["userName"]
    assert schemas["GroupInput"]["required"] == ["displayName"]
    manager = schemas["User"]["properties"][ENTERPRISE]["properties"]["manager"]
    assert set(manager["properties"]) == {"value", "$ref", "displayName"}


def test_filter_help_comes_from_the_attribute_map(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in document["paths"]["/Users"]["get"]["parameters"]}
    for entry in USER_ATTRIBUTES:
        assert (entry.path in parameters["filter"]["description"]) == entry.filterable
    assert parameters["filter"]["schema"]["maxLength"] == 4096
    assert "userName" in parameters["sortBy"]["schema"]["enum"]


def test_a_new_attribute_appears_without_editing_the_description() -> None:
    """The description is derived, so it changes when the metadata does (here: it is the
    same object the normaliser uses)."""
    names = set(openapi_document()["components"]["schemas"]["User"]["properties"])
    assert {
        attr.name for attr in USER_RESOURCE_TYPE.core.attributes if attr.returned != "never"
    } <= names
