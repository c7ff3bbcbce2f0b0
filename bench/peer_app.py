"""The peer: python-scim's ``scim2-server`` (in-memory storage), as an ASGI app for uvicorn.

Its own ``scim2-server`` command serves WSGI on a threaded wsgiref server; to run every server
under the same settings (uvicorn, one worker) the benchmark builds the package's ASGI
application over its asynchronous in-memory storage instead, with the default RFC 7643
schemas and service provider configuration, as that command does, plus Blink's extension
schema (so it stores the same documents as the service). Users are loaded afterwards over
HTTP (``POST /v2/Users`` and a manager ``PATCH``), see ``bench.figures``.
"""

import os
import secrets
from typing import Any

from scim2_models import ResourceType, Schema, ScimProvider
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.memory import AsyncInMemoryStorage
from scim2_server.service import ScimService
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)

BLINK = "urn:ietf:params:scim:schemas:extension:blink:2.0:User"


def _string_attribute(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "string",
        "multiValued": False,
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    }


def _schemas() -> list[Schema]:
    blink = Schema.model_validate(
        {
            "id": BLINK,
            "name": "BlinkUser",
            "description": "Blink user extension",
            "attributes": [_string_attribute(n) for n in ("company", "description", "location")],
        }
    )
    return [*load_default_schemas().values(), blink]


def _resource_types() -> list[ResourceType]:
    types = []
    for resource_type in load_default_resource_types().values():
        document = resource_type.model_dump()
        if document["id"] == "User":
            document["schemaExtensions"].append({"schema": BLINK, "required": False})
        types.append(ResourceType.model_validate(document))
    return types


def create_app() -> ASGIApplication:
    provider = ScimProvider.from_discovery(
        _schemas(),
        _resource_types(),
        config=load_default_service_provider_config(),
    )
    secret = os.environ.get("SCIM2_SERVER_SECRET") or secrets.token_urlsafe(32)
    return ASGIApplication(AsyncInMemoryStorage(), provider, ScimService(provider, secret=secret))
