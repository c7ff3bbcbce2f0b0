"""Entra's match request, ``GET /Users?filter=<attribute> eq "<value>"``, answered directly.

Entra sends this once per user in every provisioning cycle (and for Test Connection), so it is
the request Blink serves most. Starlette's middleware, router, ``Request`` and query-parameter
parsing cost more app time than the look-up itself; this ASGI wrapper answers exactly this shape
from the same filter template, prepared statement and renderer as ``scim.user_search``, and
hands everything else (other parameters, other filters, any error) to the SCIM app, which
answers it the normal way. Same bytes either way (tests compare both paths).
"""

from typing import Any
from urllib.parse import unquote_plus

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from db.database import Database
from db.tokens import TokenGrant
from db.users import list_users
from scim.config import ScimConfig
from scim.context import scope_base_url
from scim.filters import BoundFilter, template_user_filter
from scim.listing import list_response
from scim.responses import SCIM_MEDIA_TYPE
from scim.user_cast import render_user
from scim.user_search import DEFAULT_ORDER

#: Query parameters that change a list's answer; with any but ``filter`` the SCIM app answers.
_LIST_PARAMETERS = frozenset(
    ("filter", "startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes")
)
_CONTENT_TYPE = SCIM_MEDIA_TYPE.encode()


def entra_filter(query_string: bytes) -> str | None:
    """The ``filter`` of a query string that has no other list parameter, or None."""
    found = None
    for part in query_string.decode("latin-1").split("&"):
        name, _, value = part.partition("=")
        if name not in _LIST_PARAMETERS:
            if "%" in name or "+" in name:
                return None  # an encoded name might decode to a list parameter
            continue  # unknown parameters (aadOptscim062020) are ignored, as RFC 7644 allows
        if name != "filter" or found is not None:
            return None
        found = unquote_plus(value)
    return found


class EntraLookup:
    """ASGI middleware in front of the SCIM app (behind ``RequireToken``)."""

    def __init__(self, app: ASGIApp, database: Database, config: ScimConfig) -> None:
        self.app = app
        self.database = database
        self.config = config
        self.limit = min(max(0, config.default_count), config.max_results)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and self.limit > 0:
            path: str = scope["path"]
            if path.endswith("/Users") and path[: -len("/Users")] == scope.get("root_path"):
                text = entra_filter(scope["query_string"])
                bound = template_user_filter(text) if text is not None else None
                if bound is not None:
                    body = await self._answer(scope, bound)
                    if body is not None:
                        await send(
                            {
                                "type": "http.response.start",
                                "status": 200,
                                "headers": [
                                    (b"content-length", str(len(body)).encode()),
                                    (b"content-type", _CONTENT_TYPE),
                                ],
                            }
                        )
                        await send({"type": "http.response.body", "body": body})
                        return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, bound: BoundFilter) -> bytes | None:
        grant: TokenGrant = scope["state"]["grant"]
        limit = self.limit
        try:
            total, rows = await self.database.read(
                lambda connection: list_users(
                    connection,
                    grant.tenant_id,
                    bound.where,
                    DEFAULT_ORDER,
                    0,
                    limit,
                    bound.parameters,
                )
            )
        except Exception:
            return None  # the SCIM app runs it again and answers the error its own way
        base = scope_base_url(scope, self.config.base_url)
        resources: list[dict[str, Any]] = [render_user(row, base) for row in rows]
        return orjson.dumps(list_response(resources, total, 1))
