"""Discovery endpoints (RFC 7644 §4): what this service provider supports."""

from typing import Any

from starlette.requests import Request

from scim.context import base_url, config
from scim.errors import ScimError
from scim.listing import list_response
from scim.resource_types import RESOURCE_TYPES, all_schemas
from scim.responses import ScimResponse

SERVICE_PROVIDER_CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"


def service_provider_config(max_results: int, location: str) -> dict[str, Any]:
    return {
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "documentationUri": "https://github.com/blink/blink-directory#connecting-microsoft-entra-id",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": max_results},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "The per-tenant Secret Token issued by Blink, as a bearer token",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": location},
    }


async def get_service_provider_config(request: Request) -> ScimResponse:
    location = f"{base_url(request)}/ServiceProviderConfig"
    return ScimResponse(service_provider_config(config(request).max_results, location))


def _find(items: list[dict[str, Any]], wanted: str, kind: str) -> dict[str, Any]:
    for item in items:
        if item["id"].lower() == wanted.lower():
            return item
    raise ScimError(404, f"no {kind} {wanted!r}")


def _schemas(request: Request) -> list[dict[str, Any]]:
    base = base_url(request)
    return [schema.to_json(f"{base}/Schemas/{schema.id}") for schema in all_schemas()]


def _resource_types(request: Request) -> list[dict[str, Any]]:
    base = base_url(request)
    return [
        resource_type.to_json(f"{base}/ResourceTypes/{resource_type.id}")
        for resource_type in RESOURCE_TYPES
    ]


async def list_schemas(request: Request) -> ScimResponse:
    schemas = _schemas(request)
    return ScimResponse(list_response(schemas, len(schemas), 1))


async def get_schema(request: Request) -> ScimResponse:
    return ScimResponse(_find(_schemas(request), request.path_params["schema_id"], "schema"))


async def list_resource_types(request: Request) -> ScimResponse:
    resource_types = _resource_types(request)
    return ScimResponse(list_response(resource_types, len(resource_types), 1))


async def get_resource_type(request: Request) -> ScimResponse:
    return ScimResponse(
        _find(_resource_types(request), request.path_params["type_id"], "resource type")
    )
