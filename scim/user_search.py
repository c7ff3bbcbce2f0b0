"""Listing and searching Users: ``GET /Users``, ``POST /Users/.search``, ``POST /.search``.

The hot path of a provisioning cycle is Entra's match request, ``GET /Users?filter=<attribute>
eq "<value>"`` with no other list parameter, sent once per user in every cycle. It arrives like
every other request, through the app's mounts and the SCIM app's router and middleware, at
``GET /Users``; that endpoint reads it from the raw query string and goes through
``scim.filters``' per-attribute template (the value a bound parameter), so the page statement
is the same object every time and the store compiles it once (``db.users.list_users``). Every
other list request is parsed by ``scim.listing``. Both answer the same bytes (tests compare
them), and both leave errors to the SCIM app's exception handlers.
"""

from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

import orjson
from sqlalchemy import ColumnElement, Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from db.database import Database
from db.tables import users
from db.tokens import TokenGrant
from db.users import list_users
from scim.config import ScimConfig
from scim.context import base_url, config, database, scope_base_url, tenant_id
from scim.filters import BoundFilter, bind_user_filter, template_user_filter, user_sort_column
from scim.http import read_json_object
from scim.listing import ListQuery, check_search_request, list_response, make_list_query
from scim.responses import SCIM_MEDIA_TYPE, ScimResponse
from scim.user_cast import render_user
from scim.user_schema import USER_RESOURCE_TYPE

DEFAULT_ORDER: tuple[ColumnElement[Any], ...] = (users.c.created, users.c.id)

_CONTENT_TYPE = SCIM_MEDIA_TYPE.encode()

#: Query parameters that change a list's answer (RFC 7644 §3.4.2).
_LIST_PARAMETERS = frozenset(
    ("filter", "startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes")
)


def lone_filter(query_string: bytes) -> str | None:
    """The ``filter`` of a query string with no other list parameter, or None.

    Unknown parameters (Entra's ``aadOptscim062020``) are ignored, as RFC 7644 allows. A
    query this cannot vouch for (a repeated filter, a percent-encoded parameter name) gives
    None, and ``scim.listing`` reads it instead.
    """
    found = None
    for part in query_string.decode("latin-1").split("&"):
        name, _, value = part.partition("=")
        if name not in _LIST_PARAMETERS:
            if "%" in name or "+" in name:
                return None  # an encoded name might decode to a list parameter
            continue
        if name != "filter" or found is not None:
            return None
        found = unquote_plus(value)
    return found


@lru_cache(maxsize=256)
def _order_by(sort_by: str | None, descending: bool) -> tuple[ColumnElement[Any], ...]:
    """The ORDER BY of a query; one tuple object per order, so the store can cache by it."""
    if sort_by is None:
        return DEFAULT_ORDER
    column = user_sort_column(sort_by)
    ordered = column.desc() if descending else column.asc()
    return (ordered.nulls_last(), users.c.id)


@lru_cache(maxsize=16)
def _lookup_query(default_count: int, max_results: int) -> ListQuery:
    """The paging of a request with only a filter: the defaults ``make_list_query`` applies."""
    return make_list_query(
        USER_RESOURCE_TYPE, {}, default_count=default_count, max_results=max_results
    )


async def _page(request: Request, query: ListQuery, bound: BoundFilter | None) -> dict[str, Any]:
    """A page of a list or search that is not Entra's look-up, read and rendered in a worker
    thread: its total counts every matching user of the tenant (all of them, unfiltered), and
    the page renders up to ``max_results`` users, both too long for the event loop."""
    order_by = _order_by(query.sort_by, query.descending)
    tenant = tenant_id(request)
    base = base_url(request)
    projection = query.projection

    def page(connection: Connection) -> dict[str, Any]:
        total, rows = list_users(
            connection,
            tenant,
            bound.where if bound is not None else None,
            order_by,
            query.offset,
            query.count,
            bound.parameters if bound is not None else None,
        )
        if projection.is_identity:
            resources = [render_user(row, base) for row in rows]
        else:
            resources = [projection.apply(render_user(row, base)) for row in rows]
        return list_response(resources, total, query.start_index)

    return await database(request).read(page, in_thread=True)


async def search_users(request: Request, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The ListResponse of a list or search request's parameters (query string or body)."""
    settings = config(request)
    query = make_list_query(
        USER_RESOURCE_TYPE,
        parameters,
        default_count=settings.default_count,
        max_results=settings.max_results,
    )
    bound = bind_user_filter(query.filter) if query.filter is not None else None
    return await _page(request, query, bound)


class ListUsersEndpoint:
    """``GET /Users``, an ASGI endpoint of the SCIM app's router.

    Entra's look-up is answered from the scope: the settings and the store of the SCIM app
    (``scope["app"]``), the grant ``app.auth.RequireToken`` put in the request state, and the
    rendered bytes sent without a ``Response`` object. It is the request Blink serves most;
    everything else is built per request only for the other shapes, which go through
    ``search_users``. Nothing is caught here: a failure reaches the SCIM app's handlers.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        text = lone_filter(scope["query_string"])
        bound = template_user_filter(text) if text is not None else None
        if bound is None:
            request = Request(scope, receive)
            response = ScimResponse(await search_users(request, request.query_params))
            await response(scope, receive, send)
            return
        state = scope["app"].state
        settings: ScimConfig = state.config
        store: Database = state.database
        grant: TokenGrant = scope["state"]["grant"]
        query = _lookup_query(settings.default_count, settings.max_results)
        total, rows = await store.read(
            lambda connection: list_users(
                connection,
                grant.tenant_id,
                bound.where,
                DEFAULT_ORDER,
                query.offset,
                query.count,
                bound.parameters,
            )
        )
        base = scope_base_url(scope, settings.base_url)
        resources = [render_user(row, base) for row in rows]
        body = orjson.dumps(list_response(resources, total, query.start_index))
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


list_users_endpoint = ListUsersEndpoint()


async def search_users_endpoint(request: Request) -> Response:
    body = await read_json_object(request)
    check_search_request(body)
    return ScimResponse(await search_users(request, body))
