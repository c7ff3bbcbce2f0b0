"""Listing and searching Users: ``GET /Users``, ``POST /Users/.search``, ``POST /.search``.

The hot path of a provisioning cycle is Entra's match request, ``GET /Users?filter=<attribute>
eq "<value>"`` with no other list parameter, sent once per user in every cycle. Its filter
goes through ``scim.filters``' per-attribute template (the value a bound parameter), so the
page statement is the same object every time and the store compiles it once
(``db.users.list_users``). The request is read from the raw query string when it has exactly
that shape; every other request is parsed by ``scim.listing``. Both then run the same code:
one read, one render, one ListResponse.
"""

from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from sqlalchemy import ColumnElement
from starlette.requests import Request
from starlette.responses import Response

from db.tables import users
from db.users import list_users
from scim.context import base_url, config, database, tenant_id
from scim.filters import BoundFilter, bind_user_filter, template_user_filter, user_sort_column
from scim.http import read_json_object
from scim.listing import ListQuery, check_search_request, list_response, make_list_query
from scim.responses import ScimResponse
from scim.user_cast import render_user
from scim.user_schema import USER_RESOURCE_TYPE

DEFAULT_ORDER: tuple[ColumnElement[Any], ...] = (users.c.created, users.c.id)

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
    order_by = _order_by(query.sort_by, query.descending)
    tenant = tenant_id(request)
    total, rows = await database(request).read(
        lambda connection: list_users(
            connection,
            tenant,
            bound.where if bound is not None else None,
            order_by,
            query.offset,
            query.count,
            bound.parameters if bound is not None else None,
        )
    )
    base = base_url(request)
    projection = query.projection
    if projection.is_identity:
        resources = [render_user(row, base) for row in rows]
    else:
        resources = [projection.apply(render_user(row, base)) for row in rows]
    return list_response(resources, total, query.start_index)


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


async def list_users_endpoint(request: Request) -> Response:
    text = lone_filter(request.scope["query_string"])
    bound = template_user_filter(text) if text is not None else None
    if bound is not None:  # Entra's look-up
        settings = config(request)
        query = _lookup_query(settings.default_count, settings.max_results)
        return ScimResponse(await _page(request, query, bound))
    return ScimResponse(await search_users(request, request.query_params))


async def search_users_endpoint(request: Request) -> Response:
    body = await read_json_object(request)
    check_search_request(body)
    return ScimResponse(await search_users(request, body))
