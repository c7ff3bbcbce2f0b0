"""Listing and searching Users: ``GET /Users``, ``POST /Users/.search``, ``POST /.search``.

The hot path of a provisioning cycle (Entra's ``filter=userName eq "…"``): the filter is
compiled by ``scim.filters`` into a WHERE clause with bound parameters, and one statement
returns the page, the manager's display name and the total (a window count).
"""

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement
from starlette.requests import Request
from starlette.responses import Response

from db.tables import users
from db.users import list_users
from scim.context import base_url, config, database, tenant_id
from scim.filters import bind_user_filter, user_sort_column
from scim.http import read_json_object
from scim.listing import check_search_request, list_response, make_list_query
from scim.responses import ScimResponse
from scim.user_cast import render_user
from scim.user_schema import USER_RESOURCE_TYPE

DEFAULT_ORDER: tuple[ColumnElement[Any], ...] = (users.c.created, users.c.id)


@lru_cache(maxsize=256)
def _order_by(sort_by: str | None, descending: bool) -> tuple[ColumnElement[Any], ...]:
    """The ORDER BY of a query; one tuple object per order, so the store can cache by it."""
    if sort_by is None:
        return DEFAULT_ORDER
    column = user_sort_column(sort_by)
    ordered = column.desc() if descending else column.asc()
    return (ordered.nulls_last(), users.c.id)


async def search_users(request: Request, parameters: Mapping[str, Any]) -> dict[str, Any]:
    settings = config(request)
    query = make_list_query(
        USER_RESOURCE_TYPE,
        parameters,
        default_count=settings.default_count,
        max_results=settings.max_results,
    )
    bound = bind_user_filter(query.filter) if query.filter is not None else None
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


async def list_users_endpoint(request: Request) -> Response:
    return ScimResponse(await search_users(request, request.query_params))


async def search_users_endpoint(request: Request) -> Response:
    body = await read_json_object(request)
    check_search_request(body)
    return ScimResponse(await search_users(request, body))
