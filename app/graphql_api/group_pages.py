"""Pages of groups — of the tenant, or of one user's memberships — as GroupConnection reads
them."""

from collections.abc import Awaitable, Callable
from functools import partial

from app.graphql_api.context import Context
from app.graphql_api.cursors import decode_cursor, encode_cursor
from app.graphql_api.errors import ApiError
from app.graphql_api.limits import checked_first
from app.graphql_api.pages import Edge, Page, edges_page
from db.directory_groups import (
    GroupRecord,
    count_groups,
    count_groups_of_user,
    group_key,
    groups_page,
)

CURSOR_KIND = "group"


def decode_group_position(after: str | None) -> tuple[str, str] | None:
    if after is None:
        return None
    raw = decode_cursor(CURSOR_KIND, after)
    if not (len(raw) == 2 and all(isinstance(part, str) for part in raw)):
        raise ApiError("invalid cursor for this list")
    return (raw[0], raw[1])


def _group_cursor(record: GroupRecord) -> str:
    return encode_cursor(CURSOR_KIND, list(group_key(record)))


def group_page(
    records: list[GroupRecord],
    has_next: bool,
    after: str | None,
    count: Callable[[], Awaitable[int]],
) -> Page:
    edges = [Edge(record, _group_cursor) for record in records]
    return edges_page(edges, has_next=has_next, after=after, count=count)


async def groups_page_of_tenant(
    context: Context, search: str | None, first: int | None, after: str | None
) -> Page:
    size = checked_first(first)
    position = decode_group_position(after)
    tenant_id = context.tenant_id
    loaders = context.loaders
    records, has_next = await loaders.read(
        partial(groups_page, tenant_id=tenant_id, search=search, first=size, after=position)
    )
    count = partial(loaders.read, partial(count_groups, tenant_id=tenant_id, search=search))
    return group_page(records, has_next, after, count)


async def groups_page_of_user(
    context: Context, user_id: str, first: int | None, after: str | None
) -> Page:
    size = checked_first(first)
    position = decode_group_position(after)
    loaders = context.loaders
    page = await loaders.groups_of_user.load((user_id, size, position))
    total = page.total

    async def count() -> int:
        if total is not None:  # came with the page
            return total
        return await loaders.read(
            partial(count_groups_of_user, tenant_id=context.tenant_id, user_id=user_id)
        )

    return group_page(page.records, page.has_next, after, count)
