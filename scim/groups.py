"""The /Groups endpoints (RFC 7644 §3) with Entra's group dialect."""

from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import groups as repo
from db.errors import Conflict, InvalidReference
from db.groups import GroupRecord
from scim.context import base_url, config, database, tenant_id
from scim.errors import ScimError, ScimType
from scim.groups_filter import compile_group_filter, group_sort_column
from scim.groups_input import parse_group
from scim.groups_patch import apply_operations, parse_patch
from scim.groups_query import GroupQuery, parse_query
from scim.groups_render import Projection, render_group
from scim.groups_versions import check_if_match, etag, not_modified
from scim.http import read_json_object
from scim.responses import ScimResponse

LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def _projection(request: Request) -> Projection:
    return Projection.parse(
        request.query_params.get("attributes"), request.query_params.get("excludedAttributes")
    )


def _group_id(request: Request) -> str:
    return str(request.path_params["group_id"])


def _resource(
    request: Request, record: GroupRecord, projection: Projection, status: int = 200
) -> ScimResponse:
    body = projection.apply(render_group(record, base_url(request)))
    headers = {"ETag": etag(record.version)}
    if status == 201:
        headers["Location"] = f"{base_url(request)}/Groups/{record.id}"
    return ScimResponse(body, status_code=status, headers=headers)


def _store_errors_as_scim(error: Exception) -> ScimError:
    if isinstance(error, Conflict):
        return ScimError(409, str(error), ScimType.UNIQUENESS)
    return ScimError(400, str(error), ScimType.INVALID_VALUE)


async def create_group(request: Request) -> Response:
    data = parse_group(await read_json_object(request))
    tenant = tenant_id(request)

    def work(connection: Connection) -> GroupRecord:
        return repo.create_group(
            connection,
            tenant,
            data.display_name,
            external_id=data.external_id,
            member_ids=data.member_ids,
        )

    try:
        record = await database(request).write(work)
    except (Conflict, InvalidReference) as error:
        raise _store_errors_as_scim(error) from error
    return _resource(request, record, _projection(request), status=201)


async def get_group(request: Request) -> Response:
    projection = _projection(request)
    tenant, group_id = tenant_id(request), _group_id(request)
    record = await database(request).read(
        lambda connection: repo.get_group(
            connection, tenant, group_id, with_members=projection.wants_members
        )
    )
    if not_modified(request, record.version):
        return Response(status_code=304, headers={"ETag": etag(record.version)})
    return _resource(request, record, projection)


async def replace_group(request: Request) -> Response:
    data = parse_group(await read_json_object(request))
    projection = _projection(request)
    tenant, group_id = tenant_id(request), _group_id(request)

    def work(connection: Connection) -> GroupRecord:
        current = repo.get_group(connection, tenant, group_id, with_members=False, for_update=True)
        check_if_match(request, current.version)
        repo.replace_group(
            connection,
            tenant,
            group_id,
            display_name=data.display_name,
            external_id=data.external_id,
            attributes=current.attributes,
            member_ids=data.member_ids,
        )
        return repo.get_group(connection, tenant, group_id, with_members=projection.wants_members)

    try:
        record = await database(request).write(work)
    except (Conflict, InvalidReference) as error:
        raise _store_errors_as_scim(error) from error
    return _resource(request, record, projection)


async def patch_group(request: Request) -> Response:
    operations = parse_patch(await read_json_object(request))
    projection = _projection(request)
    tenant, group_id = tenant_id(request), _group_id(request)

    def work(connection: Connection) -> GroupRecord:
        current = repo.get_group(connection, tenant, group_id, with_members=False, for_update=True)
        check_if_match(request, current.version)
        apply_operations(connection, tenant, group_id, operations)
        return repo.get_group(connection, tenant, group_id, with_members=projection.wants_members)

    record = await database(request).write(work)
    return _resource(request, record, projection)


async def delete_group(request: Request) -> Response:
    tenant, group_id = tenant_id(request), _group_id(request)

    def work(connection: Connection) -> None:
        current = repo.get_group(connection, tenant, group_id, with_members=False, for_update=True)
        check_if_match(request, current.version)
        repo.delete_group(connection, tenant, group_id)

    await database(request).write(work)
    return Response(status_code=204)


async def _list(request: Request, query: GroupQuery) -> Response:
    where = compile_group_filter(query.filter) if query.filter else None
    order_by = group_sort_column(query.sort_by) if query.sort_by else None
    tenant = tenant_id(request)
    page = await database(request).read(
        lambda connection: repo.list_groups(
            connection,
            tenant,
            where=where,
            order_by=order_by,
            descending=query.descending,
            offset=query.start_index - 1,
            limit=query.count,
            with_members=query.projection.wants_members,
        )
    )
    base = base_url(request)
    resources: list[dict[str, Any]] = [
        query.projection.apply(render_group(record, base)) for record in page.groups
    ]
    return ScimResponse(
        {
            "schemas": [LIST_RESPONSE_SCHEMA],
            "totalResults": page.total,
            "Resources": resources,
            "startIndex": query.start_index,
            "itemsPerPage": len(resources),
        }
    )


async def list_groups(request: Request) -> Response:
    return await _list(request, parse_query(request.query_params, config(request)))


async def search_groups(request: Request) -> Response:
    document = await read_json_object(request)
    return await _list(request, parse_query(document, config(request)))


routes = [
    Route("/Groups", list_groups, methods=["GET"]),
    Route("/Groups", create_group, methods=["POST"]),
    Route("/Groups/.search", search_groups, methods=["POST"]),
    Route("/Groups/{group_id}", get_group, methods=["GET"]),
    Route("/Groups/{group_id}", replace_group, methods=["PUT"]),
    Route("/Groups/{group_id}", patch_group, methods=["PATCH"]),
    Route("/Groups/{group_id}", delete_group, methods=["DELETE"]),
]
