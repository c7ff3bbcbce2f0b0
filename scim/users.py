"""The /Users endpoints (RFC 7644 §3.3-§3.6): create, read, replace, patch, delete.

Each handler is one store call: writes run in one transaction (``Database.write``) that
reads the row, checks ``If-Match`` and applies the change; the store hands back the row it
wrote (every column of it), so the response shows exactly what was committed.
"""

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from db.activity import Operation, Recording
from db.groups import GroupRef, groups_of_user
from db.users import create_user_row, delete_user, get_user, update_user
from scim.activity import origin, record_activity, user_deleted_events, user_event
from scim.context import base_url, database, tenant_id
from scim.errors import ScimError
from scim.etag import check_if_match, not_modified, weak_etag
from scim.groups_render import with_user_groups
from scim.http import path_id, read_json_object
from scim.patch_apply import apply_changes
from scim.patch_changes import prepare_changes
from scim.patch_request import parse_patch_request
from scim.projection import Projection, make_projection
from scim.resource_input import normalise_resource
from scim.responses import ScimResponse
from scim.user_cast import document_to_columns, render_user, row_to_document
from scim.user_schema import USER_RESOURCE_TYPE

_WHOLE = make_projection(USER_RESOURCE_TYPE, None, None)


def _not_found(user_id: str) -> ScimError:
    return ScimError(404, f"no user {user_id!r}")


def _projection(request: Request) -> Projection:
    """``attributes``/``excludedAttributes``, checked before anything is written: a write
    whose answer would be a 400 must not happen."""
    if not request.scope.get("query_string"):
        return _WHOLE  # no query string (every Entra write): no parsing
    return make_projection(
        USER_RESOURCE_TYPE,
        request.query_params.get("attributes"),
        request.query_params.get("excludedAttributes"),
    )


def _resource_response(
    request: Request,
    row: Mapping[str, Any],
    status_code: int = 200,
    groups: list[GroupRef] | None = None,
    projection: Projection | None = None,
) -> ScimResponse:
    resource = render_user(row, base_url(request))
    if groups:
        resource = with_user_groups(resource, groups, base_url(request))
    if projection is None:
        projection = _projection(request)
    headers = {"ETag": weak_etag(row["version"])}
    if status_code == 201:
        headers["Location"] = resource["meta"]["location"]
    return ScimResponse(projection.apply(resource), status_code=status_code, headers=headers)


async def create_user(request: Request) -> Response:
    projection = _projection(request)
    document = normalise_resource(USER_RESOURCE_TYPE, await read_json_object(request))
    columns = document_to_columns(document)
    tenant = tenant_id(request)
    who = origin(request)

    recording = None if who is None else Recording(who, partial(user_event, Operation.CREATE, None))

    def work(connection: Connection) -> Mapping[str, Any]:
        return create_user_row(connection, tenant, columns, recording)

    # Without a manager to check, the create is one statement on PostgreSQL (the user, its
    # version bump and its event: db.users), which needs no transaction of its own.
    one_statement = columns.get("manager_id") is None
    row = await database(request).write(work, one_statement=one_statement)
    return _resource_response(request, row, 201, projection=projection)


async def read_user(request: Request) -> Response:
    user_id = path_id(request, "user_id", "User")
    tenant = tenant_id(request)

    def work(connection: Connection) -> tuple[Mapping[str, Any] | None, list[GroupRef]]:
        row = get_user(connection, tenant, user_id)
        return row, groups_of_user(connection, tenant, user_id) if row is not None else []

    row, groups = await database(request).read(work)
    if row is None:
        raise _not_found(user_id)
    if not_modified(request, row["version"]):
        return Response(status_code=304, headers={"ETag": weak_etag(row["version"])})
    return _resource_response(request, row, groups=groups)


def _rewrite(
    request: Request,
    user_id: str,
    operation: Operation,
    change: Callable[[Mapping[str, Any]], dict[str, Any]],
) -> Callable[[Connection], Mapping[str, Any]]:
    """A unit of work: read the row, check If-Match, write ``change(row)``'s document and
    record what changed (nothing changed: nothing written, nothing recorded). The write is
    of the row at the version read (``db.users.update_user``), one statement on PostgreSQL:
    run it with ``one_statement`` (no lock, no transaction; when another writer changed the
    row in between, the store runs the unit of work again)."""
    tenant = tenant_id(request)
    who = origin(request)

    def work(connection: Connection) -> Mapping[str, Any]:
        row = get_user(connection, tenant, user_id)
        if row is None:
            raise _not_found(user_id)
        check_if_match(request, row["version"])
        columns = document_to_columns(change(row))
        if any(row[name] != value for name, value in columns.items()):
            recording = None if who is None else Recording(who, partial(user_event, operation, row))
            row = update_user(connection, tenant, row, columns, recording)
        return row

    return work


async def replace_user(request: Request) -> Response:
    user_id = path_id(request, "user_id", "User")
    projection = _projection(request)
    document = normalise_resource(USER_RESOURCE_TYPE, await read_json_object(request))
    work = _rewrite(request, user_id, Operation.REPLACE, lambda _row: document)
    row = await database(request).write(work, one_statement=True)
    return _resource_response(request, row, projection=projection)


async def patch_user(request: Request) -> Response:
    user_id = path_id(request, "user_id", "User")
    projection = _projection(request)
    operations = parse_patch_request(await read_json_object(request))
    changes = prepare_changes(USER_RESOURCE_TYPE, user_id, operations)

    def change(row: Mapping[str, Any]) -> dict[str, Any]:
        return apply_changes(USER_RESOURCE_TYPE, row_to_document(row), changes)

    work = _rewrite(request, user_id, Operation.UPDATE, change)
    row = await database(request).write(work, one_statement=True)
    return _resource_response(request, row, projection=projection)


async def remove_user(request: Request) -> Response:
    user_id = path_id(request, "user_id", "User")
    tenant = tenant_id(request)
    who = origin(request)

    def work(connection: Connection) -> None:
        row = get_user(connection, tenant, user_id, for_update=True)
        if row is None:
            raise _not_found(user_id)
        check_if_match(request, row["version"])
        deleted = delete_user(connection, tenant, user_id)
        if who is not None and deleted is not None:
            record_activity(connection, tenant, who, user_deleted_events(row, deleted))

    await database(request).write(work)
    return Response(status_code=204)
