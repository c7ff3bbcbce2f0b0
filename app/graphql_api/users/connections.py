"""User and report connections (Relay pages), and how resolvers build them."""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import strawberry

from app.graphql_api.context import Info
from app.graphql_api.cursors import decode_cursor, encode_cursor
from app.graphql_api.errors import ApiError
from app.graphql_api.limits import MAX_REPORT_DEPTH, checked_first, checked_range
from app.graphql_api.node import PageInfo, page_info
from app.graphql_api.users.types import User
from db.directory_lists import UserPage, UserSet, UserSort
from db.directory_reads import UserRecord
from db.org_reports import count_reports, report_key


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type(description="A page of users.")
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of users in the whole list, not just this page.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type
class ReportEdge:
    cursor: str
    depth: int = strawberry.field(description="1 = direct report, 2 = skip-level, ...")
    node: User


@strawberry.type(description="A page of transitive reports.")
class ReportConnection:
    edges: list[ReportEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of reports between minDepth and maxDepth.")
    async def total_count(self) -> int:
        return await self.count()


def _sort_kind(sort: UserSort) -> str:
    return f"user:{sort.field.value}:{'desc' if sort.descending else 'asc'}"


async def no_count() -> int:
    return 0


def decode_user_position(sort: UserSort, after: str | None) -> tuple[Any, str] | None:
    if after is None:
        return None
    try:
        return sort.key_from_json(decode_cursor(_sort_kind(sort), after))
    except ValueError:
        raise ApiError("invalid cursor for this list") from None


async def user_connection(
    info: Info, users: UserSet, sort: UserSort, first: int | None, after: str | None
) -> UserConnection:
    size = checked_first(first)
    position = decode_user_position(sort, after)
    loaders = info.context.loaders
    page = await loaders.read(partial(users.page, sort=sort, first=size, after=position))
    loaders.prime(page.users)
    loaders.prime(page.managers)
    return user_page_connection(sort, page, after, partial(loaders.read, users.count))


def user_page_connection(
    sort: UserSort, page: UserPage, after: str | None, count: Callable[[], Awaitable[int]]
) -> UserConnection:
    kind = _sort_kind(sort)
    edges = [
        UserEdge(cursor=encode_cursor(kind, sort.key_to_json(sort.key_of(r))), node=User.of(r))
        for r in page.users
    ]
    return UserConnection(
        edges=edges,
        page_info=page_info([edge.cursor for edge in edges], has_next=page.has_next, after=after),
        count=count,
    )


async def report_connection(
    info: Info,
    root: UserRecord,
    first: int | None,
    after: str | None,
    min_depth: int,
    max_depth: int,
    include_inactive: bool,
) -> ReportConnection:
    size = checked_first(first)
    checked_range("maxDepth", max_depth, 1, MAX_REPORT_DEPTH)
    checked_range("minDepth", min_depth, 1, max_depth)
    position = None
    if after is not None:
        raw = decode_cursor("reports", after)
        if not (
            len(raw) == 3
            and isinstance(raw[0], int)
            and isinstance(raw[1], str)
            and isinstance(raw[2], str)
        ):
            raise ApiError("invalid cursor for this list")
        position = (raw[0], raw[1], raw[2])
    loaders = info.context.loaders
    tenant_id = info.context.tenant_id
    root_id = root.id
    # The page leaves out the managers the caller has: the root and the members listed.
    loaders.prime((root,))
    # Batched: the reports of every user on a page come in one statement.
    page = await loaders.reports.load(
        (root_id, min_depth, max_depth, include_inactive, size, position)
    )
    edges = [
        ReportEdge(
            cursor=encode_cursor("reports", list(report_key(row))),
            depth=row.depth,
            node=User.shared(row.user, info.context),
        )
        for row in page.rows
    ]

    async def count() -> int:
        if page.total is not None:
            return page.total
        return await loaders.read(
            partial(
                count_reports,
                tenant_id=tenant_id,
                root_id=root_id,
                min_depth=min_depth,
                max_depth=max_depth,
                include_inactive=include_inactive,
            )
        )

    return ReportConnection(
        edges=edges,
        page_info=page_info([edge.cursor for edge in edges], has_next=page.has_next, after=after),
        count=count,
    )
