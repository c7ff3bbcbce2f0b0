"""Pages of users and of transitive reports, as the user connection types read them."""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from app.graphql_api.context import Context, direct_count
from app.graphql_api.cursors import decode_cursor, encode_cursor
from app.graphql_api.errors import ApiError
from app.graphql_api.limits import MAX_REPORT_DEPTH, checked_first, checked_range
from app.graphql_api.pages import Edge, Page, edges_page, page_info
from db.directory_lists import UserPage, UserSet, UserSort
from db.directory_reads import UserRecord
from db.org_neighbourhood import FirstPage, org_neighbourhood
from db.org_reports import ReportRow, count_reports, report_key
from db.user_team import user_with_direct_reports

REPORTS_CURSOR = "reports"


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


async def user_set_page(
    context: Context, users: UserSet, sort: UserSort, first: int | None, after: str | None
) -> Page:
    size = checked_first(first)
    position = decode_user_position(sort, after)
    loaders = context.loaders
    # A search or a filter no index serves may read the whole tenant: off the event loop.
    page = await loaders.read(
        partial(users.page, sort=sort, first=size, after=position), in_thread=users.scans
    )
    loaders.prime(page.users)
    loaders.prime(page.managers)
    return user_page(sort, page, after, partial(context.user_count, users))


def user_page(
    sort: UserSort,
    page: UserPage,
    after: str | None,
    count: Callable[[], int | Awaitable[int]],
) -> Page:
    kind = _sort_kind(sort)

    def cursor_of(record: UserRecord) -> str:
        return encode_cursor(kind, sort.key_to_json(sort.key_of(record)))

    edges = [Edge(record, cursor_of) for record in page.users]
    return edges_page(edges, has_next=page.has_next, after=after, count=count)


def report_cursor(row: ReportRow) -> str:
    return encode_cursor(REPORTS_CURSOR, list(report_key(row)))


class ReportEdgeValue:
    """One edge of a ``ReportConnection``: a report row's depth and user, and its cursor as a
    property, encoded only when the query asks for it. An attribute rather than a resolver:
    strawberry runs a resolver's argument conversion and wrappers for every edge, a plain
    field is one ``getattr``."""

    __slots__ = ("depth", "row", "user")

    def __init__(self, row: ReportRow) -> None:
        self.row = row
        self.depth = row.depth
        self.user = row.user

    @property
    def cursor(self) -> str:
        return report_cursor(self.row)


def _decode_report_position(after: str | None) -> tuple[int, str, str] | None:
    if after is None:
        return None
    raw = decode_cursor(REPORTS_CURSOR, after)
    if not (
        len(raw) == 3
        and isinstance(raw[0], int)
        and isinstance(raw[1], str)
        and isinstance(raw[2], str)
    ):
        raise ApiError("invalid cursor for this list")
    return (raw[0], raw[1], raw[2])


async def reports_page(
    context: Context,
    root: UserRecord,
    first: int | None,
    after: str | None,
    min_depth: int,
    max_depth: int,
    include_inactive: bool,
) -> Page:
    """A page of ``root``'s transitive reports; its edges are the store's report rows."""
    size = checked_first(first)
    checked_range("maxDepth", max_depth, 1, MAX_REPORT_DEPTH)
    checked_range("minDepth", min_depth, 1, max_depth)
    position = _decode_report_position(after)
    loaders = context.loaders
    tenant_id = context.tenant_id
    root_id = root.id
    # The page leaves out the managers the caller has: the root and the members listed.
    loaders.prime((root,))
    # Batched: the reports of every user on a page come in one statement.
    page = await loaders.reports.load(
        (root_id, min_depth, max_depth, include_inactive, size, position)
    )
    rows = page.rows

    def count() -> int | Awaitable[int]:
        if page.total is not None:
            return page.total
        return loaders.read(
            partial(
                count_reports,
                tenant_id=tenant_id,
                root_id=root_id,
                min_depth=min_depth,
                max_depth=max_depth,
                include_inactive=include_inactive,
            )
        )

    cursors = [report_cursor(rows[0]), report_cursor(rows[-1])] if rows else []
    edges = [ReportEdgeValue(row) for row in rows]
    return Page(edges, page_info(cursors, has_next=page.has_next, after=after), count)


async def direct_reports_page(
    context: Context,
    manager_id: str,
    first: int | None,
    after: str | None,
    include_inactive: bool,
) -> Page:
    """Batched: the direct reports of every user on a page come in one statement."""
    sort = UserSort()
    size = checked_first(first)
    position = decode_user_position(sort, after)
    loaders = context.loaders
    page = await loaders.direct_reports.load((manager_id, include_inactive, size, position))
    return user_page(
        sort, page, after, partial(context.direct_report_count, manager_id, include_inactive)
    )


async def user_with_team(
    context: Context, user_id: str, *, include_inactive: bool, size: int, after: Any
) -> UserRecord | None:
    """The user fetched with the page of its direct reports its ``directReports`` field will
    show, in one statement (``db.user_team``): the page is handed to that field through its
    loader (keyed as ``direct_reports_page`` keys it), which then reads nothing."""
    loaders = context.loaders
    user, page = await loaders.read(
        partial(
            user_with_direct_reports,
            tenant_id=context.tenant_id,
            user_id=user_id,
            include_inactive=include_inactive,
            first=size,
            after=after,
        )
    )
    if user is not None:
        loaders.prime([user, *page.users])
        loaders.direct_reports.prime((user.id, include_inactive, size, after), page)
    return user


async def user_with_neighbourhood(
    context: Context,
    user_id: str,
    *,
    managers: int,
    team: FirstPage | None,
    peers: FirstPage | None,
    groups: int | None = None,
) -> UserRecord | None:
    """The user fetched with ``managers`` managers above and the first pages of its team, of
    its peers and of its groups (``groups`` of them), in one statement
    (``db.org_neighbourhood``): the path and the pages are handed to the fields that show
    them (``managementChain``, ``directReports``, ``peers``, ``groups``), which then read
    nothing."""
    loaders = context.loaders
    # peers_page reads one more of the manager's team, in case the user is among them
    managers_team = None if peers is None else FirstPage(peers.include_inactive, peers.first + 1)
    found = await loaders.read(
        partial(
            org_neighbourhood,
            tenant_id=context.tenant_id,
            user_id=user_id,
            max_depth=managers,
            team=team,
            managers_team=managers_team,
            groups=groups,
        )
    )
    if not found.path:
        return None
    user = found.path[0]
    loaders.keep_path(found.path, managers)
    if groups is not None and found.groups is not None:
        loaders.groups_of_user.prime((user.id, groups, None), found.groups)
    for manager_id, asked, page in (
        (user.id, team, found.team),
        (user.manager_id, managers_team, found.managers_team),
    ):
        if manager_id is not None and asked is not None and page is not None:
            loaders.prime(page.users)
            loaders.direct_reports.prime(
                (manager_id, asked.include_inactive, asked.first, None), page
            )
    return user


async def peers_page(
    context: Context,
    user: UserRecord,
    first: int | None,
    after: str | None,
    include_inactive: bool,
) -> Page:
    """The manager's team minus ``user``, through the batched direct-reports loader: one more
    row is asked for in case ``user`` is among them."""
    sort = UserSort()
    size = checked_first(first)
    position = decode_user_position(sort, after)
    manager_id = user.manager_id
    if manager_id is None:
        return user_page(sort, UserPage([], [], False), after, no_count)
    loaders = context.loaders
    team = await loaders.direct_reports.load((manager_id, include_inactive, size + 1, position))
    others = [record for record in team.users if record.id != user.id]
    page = UserPage(others[:size], [], team.has_next or len(others) > size)
    in_team = include_inactive or user.active

    async def count() -> int:
        total = direct_count(await context.org_metrics(), manager_id, include_inactive)
        return total - 1 if in_team else total

    return user_page(sort, page, after, count)
