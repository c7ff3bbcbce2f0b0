"""``POST /.search`` (RFC 7644 §3.4.3): a search across resource types.

The result is the Users matching the request followed by the Groups matching it, paged as
one list. A filter attribute that a resource type does not have makes that type match
nothing (RFC 7644 §3.4.2.2: treated as having no value); a filter no type understands is
answered with the error.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from db.groups import SHORT_MEMBER_LIST
from scim.context import config
from scim.errors import ScimError, ScimType
from scim.groups import search_groups
from scim.http import read_json_object
from scim.listing import check_search_request, list_response, make_list_query
from scim.responses import ScimResponse
from scim.user_schema import USER_RESOURCE_TYPE
from scim.user_search import search_users

Search = Callable[[Request, Mapping[str, Any]], Awaitable[dict[str, Any]]]


async def _search(
    search: Search, request: Request, body: Mapping[str, Any], start: int, count: int
) -> dict[str, Any] | ScimError:
    try:
        return await search(request, {**body, "startIndex": start, "count": count})
    except ScimError as error:
        if error.scim_type is ScimType.INVALID_FILTER:
            return error
        raise


async def search_everything(request: Request) -> Response:
    body = await read_json_object(request)
    check_search_request(body)
    settings = config(request)
    query = make_list_query(
        USER_RESOURCE_TYPE,
        body,
        default_count=settings.default_count,
        max_results=settings.max_results,
    )
    resources: list[dict[str, Any]] = []
    total = 0
    errors: list[ScimError] = []
    for search in (search_users, search_groups):
        start = max(1, query.start_index - total)
        found = await _search(search, request, body, start, query.count - len(resources))
        if isinstance(found, ScimError):
            errors.append(found)
            continue
        total += found["totalResults"]
        resources.extend(found["Resources"])
    if len(errors) == 2:
        raise errors[0]
    page = list_response(resources, total, query.start_index)
    members = sum(len(resource.get("members") or ()) for resource in resources)
    if members > SHORT_MEMBER_LIST:
        # Groups with their members can make megabytes of JSON: encoded off the event loop,
        # as the Groups endpoints encode theirs.
        return await run_in_threadpool(ScimResponse, page)
    return ScimResponse(page)
