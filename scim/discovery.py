"""Discovery endpoints (RFC 7644 §4): what this service provider supports."""

from typing import Any

from starlette.requests import Request

from scim.context import base_url, config
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
