"""The Group type and group connections."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial

import strawberry

from app.graphql_api.context import Info
from app.graphql_api.cursors import decode_cursor, encode_cursor
from app.graphql_api.errors import ApiError
from app.graphql_api.limits import checked_first
from app.graphql_api.node import After, First, Node, PageInfo, page_info
from app.graphql_api.users.connections import UserConnection, user_connection
from db.directory_groups import (
    GroupRecord,
    count_groups,
    count_groups_of_user,
    group_key,
    groups_page,
)
from db.directory_lists import UserSort, group_members_set

CURSOR_KIND = "group"


@strawberry.type(description="A group provisioned by Entra over SCIM.")
class Group(Node):
    record: strawberry.Private[GroupRecord]
    display_name: str
    external_id: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: GroupRecord) -> "Group":
        return cls(
            record=record,
            id=strawberry.ID(record.id),
            display_name=record.display_name,
            external_id=record.external_id,
            created_at=record.created,
            updated_at=record.last_modified,
        )

    @strawberry.field(description="Members of the group (active or not), by displayName.")
    async def members(self, info: Info, first: First = None, after: After = None) -> UserConnection:
        members = group_members_set(info.context.tenant_id, self.record.id)
        return await user_connection(info, members, UserSort(), first, after)


@strawberry.type
class GroupEdge:
    cursor: str
    node: Group


@strawberry.type(description="A page of groups.")
class GroupConnection:
    edges: list[GroupEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of groups in the whole list, not just this page.")
    async def total_count(self) -> int:
        return await self.count()


def decode_group_position(after: str | None) -> tuple[str, str] | None:
    if after is None:
        return None
    raw = decode_cursor(CURSOR_KIND, after)
    if not (len(raw) == 2 and all(isinstance(part, str) for part in raw)):
        raise ApiError("invalid cursor for this list")
    return (raw[0], raw[1])


def group_connection(
    records: list[GroupRecord],
    has_next: bool,
    after: str | None,
    count: Callable[[], Awaitable[int]],
) -> GroupConnection:
    edges = [
        GroupEdge(cursor=encode_cursor(CURSOR_KIND, list(group_key(r))), node=Group.of(r))
        for r in records
    ]
    return GroupConnection(
        edges=edges,
        page_info=page_info([edge.cursor for edge in edges], has_next=has_next, after=after),
        count=count,
    )


async def groups_connection(
    info: Info, search: str | None, first: int | None, after: str | None
) -> GroupConnection:
    size = checked_first(first)
    position = decode_group_position(after)
    tenant_id = info.context.tenant_id
    loaders = info.context.loaders
    records, has_next = await loaders.read(
        partial(groups_page, tenant_id=tenant_id, search=search, first=size, after=position)
    )
    count = partial(loaders.read, partial(count_groups, tenant_id=tenant_id, search=search))
    return group_connection(records, has_next, after, count)


async def groups_of_user_connection(
    info: Info, user_id: str, first: int | None, after: str | None
) -> GroupConnection:
    size = checked_first(first)
    position = decode_group_position(after)
    loaders = info.context.loaders
    records, has_next = await loaders.groups_of_user.load((user_id, size, position))
    count = partial(
        loaders.read,
        partial(count_groups_of_user, tenant_id=info.context.tenant_id, user_id=user_id),
    )
    return group_connection(records, has_next, after, count)
