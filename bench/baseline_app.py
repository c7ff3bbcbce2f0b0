"""The framework's ceiling: a bare Starlette route answering a fixed one-user ListResponse.

Same JSON encoder (orjson) and media type as the service, no auth, no database.
"""

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.dataset import CORE, ENTERPRISE, generate, scim_document

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def _body() -> bytes:
    org = generate(1, 0)
    user = scim_document(org, org.people[0])
    user["id"] = org.people[0].id
    user["meta"] = {
        "resourceType": "User",
        "created": "2026-01-01T00:00:00Z",
        "lastModified": "2026-01-01T00:00:00Z",
        "location": f"http://127.0.0.1/scim/Users/{org.people[0].id}",
        "version": 'W/"1"',
    }
    user["schemas"] = [CORE, ENTERPRISE]
    return orjson.dumps(
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": 1,
            "startIndex": 1,
            "itemsPerPage": 1,
            "Resources": [user],
        }
    )


BODY = _body()


async def users(request: Request) -> Response:
    return Response(BODY, media_type="application/scim+json")


def create_app() -> Starlette:
    return Starlette(routes=[Route("/scim/Users", users)])
