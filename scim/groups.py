"""The /Groups endpoints (RFC 7644 §3) with Entra's group dialect.

Each handler is one store call. Writes lock the group row, check ``If-Match``, apply the
change and re-read the result in one transaction. Members are read only when the response
shows them (``excludedAttributes=members`` never touches ``group_member``).

A PATCH answers 200 with the group. Its members are included when the group has at most
``max_results`` of them or when ``attributes`` asks for members; a one-member change to a
100,000-member group then costs what it costs on an empty group, instead of rendering the
whole membership (Entra reads only the status of a group PATCH).
"""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import groups as repo
from db.activity import Operation
from db.group_members import MemberDelta, unique_ids
from db.groups import GroupRecord
from scim.activity import group_event, origin, record_activity
from scim.context import base_url, config, database, tenant_id
from scim.etag import check_if_match, not_modified, weak_etag
from scim.filters import compile_group_filter, group_sort_column
from scim.groups_input import GroupInput, group_document, parse_group
from scim.groups_patch import plan_group_patch, write_group_patch
from scim.groups_render import asks_for_members, render_group, wants_members
from scim.groups_schema import GROUP_RESOURCE_TYPE
from scim.http import path_id, read_json_object, read_parsed
from scim.listing import check_search_request, list_response, make_list_query
from scim.patch_request import parse_patch_request
from scim.projection import Projection, make_projection
from scim.responses import ScimResponse

T = TypeVar("T")


def _projection(request: Request) -> Projection:
    return make_projection(
        GROUP_RESOURCE_TYPE,
        request.query_params.get("attributes"),
        request.query_params.get("excludedAttributes"),
    )


def _group_id(request: Request) -> str:
    return path_id(request, "group_id", "Group")


def _fields(data: GroupInput) -> dict[str, Any]:
    """A group's own fields as a body sets them (what the activity log compares)."""
    return {"displayName": data.display_name, "externalId": data.external_id}


def _resource(
    request: Request, record: GroupRecord, projection: Projection, status: int = 200
) -> ScimResponse:
    resource = render_group(record, base_url(request))
    headers = {"ETag": weak_etag(record.version)}
    if status == 201:
        headers["Location"] = resource["meta"]["location"]
    return ScimResponse(projection.apply(resource), status_code=status, headers=headers)


async def _answer(
    request: Request, record: GroupRecord, projection: Projection, status: int = 200
) -> ScimResponse:
    """The group as its response: a long member list (megabytes of JSON for a large group) is
    rendered in a worker thread, off the event loop every other request shares."""
    if record.members is not None and len(record.members) > repo.SHORT_MEMBER_LIST:
        return await run_in_threadpool(_resource, request, record, projection, status)
    return _resource(request, record, projection, status)


async def create_group(request: Request) -> Response:
    data = await read_parsed(request, parse_group)
    projection = _projection(request)
    tenant = tenant_id(request)
    who = origin(request)

    def work(connection: Connection) -> GroupRecord:
        created = repo.create_group(
            connection,
            tenant,
            data.display_name,
            external_id=data.external_id,
            member_ids=data.member_ids,
        )
        if who is not None:  # a new group: every member listed joined
            joined = MemberDelta().add(unique_ids(data.member_ids))
            event = group_event(Operation.CREATE, created.id, None, _fields(data), joined)
            record_activity(connection, tenant, who, [event])
        return created

    large = len(data.member_ids) > repo.SHORT_MEMBER_LIST
    record = await database(request).write(work, in_thread=large)
    return await _answer(request, record, projection, status=201)


async def get_group(request: Request) -> Response:
    projection = _projection(request)
    tenant, group_id = tenant_id(request), _group_id(request)
    with_members = wants_members(projection)

    def answer(connection: Connection) -> Response:
        record = repo.get_group(connection, tenant, group_id, with_members=with_members)
        if not_modified(request, record.version):
            return Response(status_code=304, headers={"ETag": weak_etag(record.version)})
        return _resource(request, record, projection)

    # With its members (as many rows as the group has, and their JSON), read and rendered in
    # one worker thread; without them, on the loop.
    return await database(request).read(answer, in_thread=with_members)


async def replace_group(request: Request) -> Response:
    data = await read_parsed(request, parse_group)
    projection = _projection(request)
    tenant, group_id = tenant_id(request), _group_id(request)
    who = origin(request)

    def work(connection: Connection) -> GroupRecord:
        current = repo.get_group(connection, tenant, group_id, with_members=False, for_update=True)
        check_if_match(request, current.version)
        members = repo.replace_group(
            connection,
            tenant,
            group_id,
            display_name=data.display_name,
            external_id=data.external_id,
            member_ids=data.member_ids,
        )
        if who is not None:
            before = group_document(current)
            event = group_event(Operation.REPLACE, group_id, before, _fields(data), members)
            record_activity(connection, tenant, who, [event])
        return repo.get_group(connection, tenant, group_id, with_members=wants_members(projection))

    # a replace rewrites the whole membership: off the event loop
    record = await database(request).write(work, in_thread=True)
    return await _answer(request, record, projection)


async def patch_group(request: Request) -> Response:
    group_id = _group_id(request)
    plan = await read_parsed(
        request, lambda document: plan_group_patch(group_id, parse_patch_request(document))
    )
    projection = _projection(request)
    tenant = tenant_id(request)
    member_limit = config(request).max_results
    who = origin(request)

    def work(connection: Connection) -> GroupRecord:
        current = repo.get_group(connection, tenant, group_id, with_members=False, for_update=True)
        check_if_match(request, current.version)
        fields, members = write_group_patch(connection, tenant, current, plan)
        if who is not None:
            before = group_document(current)
            event = group_event(Operation.UPDATE, group_id, before, fields, members)
            record_activity(connection, tenant, who, [event])
        return repo.get_group(
            connection,
            tenant,
            group_id,
            with_members=wants_members(projection),
            member_limit=None if asks_for_members(projection) else member_limit,
        )

    # An answer that asks for members reads all of them, as many rows as the group has.
    in_thread = plan.grows_with_group or asks_for_members(projection)
    record = await database(request).write(work, in_thread=in_thread)
    return await _answer(request, record, projection)


async def delete_group(request: Request) -> Response:
    tenant, group_id = tenant_id(request), _group_id(request)
    who = origin(request)

    def work(connection: Connection) -> None:
        current = repo.get_group(connection, tenant, group_id, with_members=False, for_update=True)
        check_if_match(request, current.version)
        repo.delete_group(connection, tenant, group_id)
        if who is not None:  # the members are not listed: a group may have 100,000
            event = group_event(Operation.DELETE, group_id, group_document(current), None)
            record_activity(connection, tenant, who, [event])

    await database(request).write(work)
    return Response(status_code=204)


async def search_groups(request: Request, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A ListResponse of the tenant's groups for query-string or SearchRequest parameters."""
    return await _search(request, parameters, _as_is)


async def _search(
    request: Request, parameters: Mapping[str, Any], answer: Callable[[dict[str, Any]], T]
) -> T:
    """``answer`` made of the ListResponse: where the page is read and rendered, so that a
    response's JSON is encoded there too."""
    settings = config(request)
    query = make_list_query(
        GROUP_RESOURCE_TYPE,
        parameters,
        default_count=settings.default_count,
        max_results=settings.max_results,
    )
    where = compile_group_filter(query.filter) if query.filter is not None else None
    order_by = group_sort_column(query.sort_by) if query.sort_by is not None else None
    tenant = tenant_id(request)
    base = base_url(request)
    with_members = wants_members(query.projection)

    def page(connection: Connection) -> T:
        found = repo.list_groups(
            connection,
            tenant,
            where=where,
            order_by=order_by,
            descending=query.descending,
            offset=query.offset,
            limit=query.count,
            with_members=with_members,
        )
        resources = [query.projection.apply(render_group(record, base)) for record in found.groups]
        return answer(list_response(resources, found.total, query.start_index))

    # In a worker thread, off the event loop every request shares, unless it is Entra's
    # look-up (a filter, members excluded): a page that shows members grows with its groups
    # (one may hold every user of the tenant), and a page without a filter counts and renders
    # the tenant's groups.
    return await database(request).read(page, in_thread=with_members or where is None)


def _as_is(page: dict[str, Any]) -> dict[str, Any]:
    return page


async def list_groups_endpoint(request: Request) -> Response:
    return await _search(request, request.query_params, ScimResponse)


async def search_groups_endpoint(request: Request) -> Response:
    body = await read_json_object(request)
    check_search_request(body)
    return await _search(request, body, ScimResponse)


routes = [
    Route("/Groups", list_groups_endpoint, methods=["GET"]),
    Route("/Groups", create_group, methods=["POST"]),
    Route("/Groups/.search", search_groups_endpoint, methods=["POST"]),
    Route("/Groups/{group_id}", get_group, methods=["GET"]),
    Route("/Groups/{group_id}", replace_group, methods=["PUT"]),
    Route("/Groups/{group_id}", patch_group, methods=["PATCH"]),
    Route("/Groups/{group_id}", delete_group, methods=["DELETE"]),
]
