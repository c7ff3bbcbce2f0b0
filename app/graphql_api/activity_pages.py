"""Pages of the activity log — of the tenant, or of one resource's history — as
ActivityConnection reads them, and events by their node id.

A cursor is the event's ``seq``: pages go newest first, so the next page holds the events
numbered below the last one shown. Numbers are given in commit order and never reused, so
paging never skips or repeats an event, however many are recorded meanwhile.
"""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any, Protocol

import strawberry

from app.graphql_api.context import Context, Info
from app.graphql_api.cursors import decode_cursor, encode_cursor
from app.graphql_api.errors import ApiError
from app.graphql_api.limits import checked_first
from app.graphql_api.node import After, First
from app.graphql_api.pages import Edge, Page, edges_page
from db.activity import ResourceType
from db.activity_reads import (
    ActivityFilterSpec,
    EventPage,
    EventRecord,
    activity_page,
    count_activity,
    count_resource_activity,
)
from db.directory_reads import UserRecord
from db.user_activity import user_with_activity

CURSOR_KIND = "activity"
#: Where ActivityConnection is defined; that package imports User and Group (an event's
#: ``user`` and ``group``), so they name it lazily.
ACTIVITY_TYPES_MODULE = "app.graphql_api.activity.types"
#: The largest seq the store can hold (BIGINT): larger numbers name no event.
MAX_SEQ = 2**63 - 1
#: An event's node id is this prefix and its seq: users and groups have UUIDs as ids.
NODE_ID_PREFIX = "ActivityEvent:"


def event_node_id(record: EventRecord) -> str:
    return f"{NODE_ID_PREFIX}{record.seq}"


def seq_of_node_id(node_id: str) -> int | None:
    """The seq a node id names, or None when it names no event."""
    if not node_id.startswith(NODE_ID_PREFIX):
        return None
    number = node_id[len(NODE_ID_PREFIX) :]
    if not (number.isascii() and number.isdigit() and len(number) <= len(str(MAX_SEQ))):
        return None
    seq = int(number)
    return seq if seq <= MAX_SEQ else None


def decode_activity_position(after: str | None) -> int | None:
    if after is None:
        return None
    raw = decode_cursor(CURSOR_KIND, after)
    if not (
        len(raw) == 1
        and isinstance(raw[0], int)
        and not isinstance(raw[0], bool)
        and 0 <= raw[0] <= MAX_SEQ
    ):
        raise ApiError("invalid cursor for this list")
    return raw[0]


def _event_cursor(record: EventRecord) -> str:
    return encode_cursor(CURSOR_KIND, [record.seq])


def event_page(page: EventPage, after: str | None, count: Callable[[], Awaitable[int]]) -> Page:
    edges = [Edge(record, _event_cursor) for record in page.events]
    return edges_page(edges, has_next=page.has_next, after=after, count=count)


async def activity_page_of_tenant(
    context: Context, spec: ActivityFilterSpec, first: int | None, after: str | None
) -> Page:
    size = checked_first(first)
    before = decode_activity_position(after)
    await context.sequenced_activity()
    tenant_id = context.tenant_id
    loaders = context.loaders
    page = await loaders.read(
        partial(activity_page, tenant_id=tenant_id, spec=spec, first=size, before=before)
    )
    count = partial(loaders.read, partial(count_activity, tenant_id=tenant_id, spec=spec))
    return event_page(page, after, count)


async def activity_page_of_resource(
    context: Context, resource_type: str, resource_id: str, first: int | None, after: str | None
) -> Page:
    size = checked_first(first)
    before = decode_activity_position(after)
    await context.sequenced_activity()
    loaders = context.loaders
    page = await loaders.resource_activity.load((resource_id, resource_type, size, before))
    count = partial(
        loaders.read,
        partial(
            count_resource_activity,
            tenant_id=context.tenant_id,
            resource_type=resource_type,
            resource_id=resource_id,
        ),
    )
    return event_page(page, after, count)


async def user_with_history(
    context: Context, key: str, *, by_name: bool, size: int, before: int | None
) -> UserRecord | None:
    """The user (by id, or by userName when ``by_name``) fetched with the page of its history
    its ``activity`` field will show (``size`` events below seq ``before``), in one statement:
    the page is handed to that field through its loader, which then reads nothing."""
    await context.sequenced_activity()
    loaders = context.loaders
    user, page = await loaders.read(
        partial(
            user_with_activity,
            tenant_id=context.tenant_id,
            key=key,
            by_name=by_name,
            first=size,
            before=before,
        )
    )
    if user is not None:
        loaders.prime([user])
        loaders.resource_activity.prime((user.id, ResourceType.USER.value, size, before), page)
    return user


class Resource(Protocol):
    """A user's or a group's record: what a resource's ``activity`` field reads of it."""

    @property
    def id(self) -> str: ...


def resource_activity_field(resource_type: ResourceType, description: str) -> Any:
    """The ``activity`` field of ``User`` and ``Group``: the resource's history in the log,
    newest first."""

    async def activity(
        resource: strawberry.Parent[Resource], info: Info, first: First = None, after: After = None
    ) -> Page:
        return await activity_page_of_resource(
            info.context, resource_type.value, resource.id, first, after
        )

    return strawberry.field(
        resolver=activity,
        description=description,
        graphql_type=Annotated[
            "ActivityConnection",  # noqa: F821
            strawberry.lazy(ACTIVITY_TYPES_MODULE),
        ],
    )
