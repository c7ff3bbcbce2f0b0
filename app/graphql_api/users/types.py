"""The User type with its org-chart fields, and the connections that list users.

A ``User`` is the store's record itself: its plain fields read the record's attributes of the
same name, so a column the record carries shows up in GraphQL by declaring its field here.

Inactive users: lists and counts over the org chart (managementChain, directReports,
reports, peers, roots, counts, reportingPath) leave them out unless ``includeInactive: true``;
the walk itself still passes through them, so depths stay those of the real chart. ``manager``
always shows the manager Entra set, active or not.
"""

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Optional

import strawberry

from app.graphql_api.activity_pages import resource_activity_field
from app.graphql_api.context import Info
from app.graphql_api.group_pages import groups_page_of_user
from app.graphql_api.limits import MAX_CHAIN_DEPTH, checked_range
from app.graphql_api.node import After, First, Node, PageInfo
from app.graphql_api.pages import Page
from app.graphql_api.user_pages import (
    direct_reports_page,
    peers_page,
    reports_page,
)
from db.activity import ResourceType
from db.directory_reads import UserRecord

GROUPS_MODULE = "app.graphql_api.groups.types"


@strawberry.type
class UserEdge:
    cursor: str
    node: "User"


@strawberry.type(description="A page of users.")
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo

    @strawberry.field(
        description="Number of users in the whole list, not just this page.", graphql_type=int
    )
    @staticmethod
    def total_count(page: strawberry.Parent[Page]) -> int | Awaitable[int]:
        # A value when the count is at hand (the org figures), else an awaitable.
        return page.count()


@strawberry.type
class ReportEdge:
    """Read from ``app.graphql_api.user_pages.ReportEdgeValue``: the store's report row, with
    its cursor as an attribute (encoded when read), so that no field of an edge needs a
    resolver of its own."""

    cursor: str
    depth: int = strawberry.field(description="1 = direct report, 2 = skip-level, ...")
    user: "User" = strawberry.field(name="node")


@strawberry.type(description="A page of transitive reports.")
class ReportConnection:
    edges: list[ReportEdge]
    page_info: PageInfo

    @strawberry.field(
        description="Number of reports between minDepth and maxDepth.", graphql_type=int
    )
    @staticmethod
    def total_count(page: strawberry.Parent[Page]) -> int | Awaitable[int]:
        # A value when the count is at hand (the org figures), else an awaitable.
        return page.count()


@strawberry.type(
    description="A person in the directory, as provisioned by Entra over SCIM.\n\n"
    "Inactive users: org-chart lists, counts and paths (managementChain, directReports, "
    "reports, peers, roots, the counts, reportingPath) leave them out unless "
    "`includeInactive: true`; the walk still passes through them, so depths are those of the "
    "real chart. Deleted users are gone: the store clears references to them, so their "
    "reports become roots. A manager loop (Entra can send one) ends every walk before "
    "anyone repeats; `orgHealth.managerLoops` lists it."
)
class User(Node):
    user_name: str
    external_id: str | None
    display_name: str | None
    given_name: str | None
    family_name: str | None
    title: str | None
    email: str | None = strawberry.field(description="The work email.")
    work_phone: str | None
    mobile_phone: str | None
    department: str | None
    employee_number: str | None
    company: str | None
    description: str | None
    location: str | None
    active: bool
    created: datetime = strawberry.field(name="createdAt")
    last_modified: datetime = strawberry.field(name="updatedAt")

    @classmethod
    def is_type_of(cls, obj: object, info: object) -> bool:
        return isinstance(obj, UserRecord)

    @strawberry.field(
        description="The manager Entra set, active or not; null when none (a deleted "
        "manager's reference is cleared) or when the reference names no user of this tenant.",
        graphql_type=Optional["User"],
    )
    @staticmethod
    def manager(
        user: strawberry.Parent[UserRecord], info: Info
    ) -> UserRecord | Awaitable[UserRecord | None] | None:
        manager_id = user.manager_id
        if manager_id is None:
            return None
        loaders = info.context.loaders
        # A manager that came with a page is answered as a value, not an awaitable: graphql-core
        # then completes the node in the same pass instead of scheduling it.
        known = loaders.primed_user(manager_id)
        if known is not None:
            return known
        return loaders.user.load(manager_id)

    @strawberry.field(
        description="Managers above this user, nearest first, up to the top or `maxDepth` "
        "levels. A manager loop ends the chain before anyone repeats.",
        graphql_type=list["User"],
    )
    @staticmethod
    def management_chain(
        user: strawberry.Parent[UserRecord],
        info: Info,
        max_depth: int = 50,
        include_inactive: bool = False,
    ) -> list[UserRecord] | Awaitable[list[UserRecord]]:
        checked_range("maxDepth", max_depth, 1, MAX_CHAIN_DEPTH)
        loaders = info.context.loaders
        # A value when the user came with its path (``user(id)`` looks ahead for this field).
        known = loaders.known_path(user.id, max_depth)
        if known is not None:
            return _shown_chain(known, include_inactive)
        return _fetched_chain(loaders.path.load((user.id, max_depth)), include_inactive)

    @strawberry.field(
        description="Users whose manager is this user, by displayName.",
        graphql_type=UserConnection,
    )
    @staticmethod
    async def direct_reports(
        user: strawberry.Parent[UserRecord],
        info: Info,
        first: First = None,
        after: After = None,
        include_inactive: bool = False,
    ) -> Page:
        return await direct_reports_page(info.context, user.id, first, after, include_inactive)

    @strawberry.field(
        description="Transitive reports down to `maxDepth` levels (1 = direct reports, "
        "2 = skip-level, ...), breadth-first, then by displayName. Each appears once.",
        graphql_type=ReportConnection,
    )
    @staticmethod
    async def reports(
        user: strawberry.Parent[UserRecord],
        info: Info,
        first: First = None,
        after: After = None,
        min_depth: int = 1,
        max_depth: int = 3,
        include_inactive: bool = False,
    ) -> Page:
        return await reports_page(
            info.context, user, first, after, min_depth, max_depth, include_inactive
        )

    # Both counts are values when the org figures are at hand (``Context.ready_org_metrics``):
    # a team of 50 then completes its counts in one pass, without a coroutine per member.
    @strawberry.field(description="Number of direct reports.", graphql_type=int)
    @staticmethod
    def direct_report_count(
        user: strawberry.Parent[UserRecord], info: Info, include_inactive: bool = False
    ) -> int | Awaitable[int]:
        return info.context.direct_report_count(user.id, include_inactive)

    @strawberry.field(
        description="Number of all transitive reports, at any depth (derived once per org "
        "change, not per request).",
        graphql_type=int,
    )
    @staticmethod
    def report_count(
        user: strawberry.Parent[UserRecord], info: Info, include_inactive: bool = False
    ) -> int | Awaitable[int]:
        return info.context.report_count(user.id, include_inactive)

    @strawberry.field(
        description="Users with the same manager, excluding this user; empty without a manager.",
        graphql_type=UserConnection,
    )
    @staticmethod
    async def peers(
        user: strawberry.Parent[UserRecord],
        info: Info,
        first: First = None,
        after: After = None,
        include_inactive: bool = False,
    ) -> Page:
        return await peers_page(info.context, user, first, after, include_inactive)

    # A GroupConnection lists users again: the groups package imports this one, so this one
    # names that type lazily instead of importing it (so the name is unknown here).
    @strawberry.field(
        description="Groups this user is a member of, by displayName.",
        graphql_type=Annotated["GroupConnection", strawberry.lazy(GROUPS_MODULE)],  # noqa: F821
    )
    @staticmethod
    async def groups(
        user: strawberry.Parent[UserRecord], info: Info, first: First = None, after: After = None
    ) -> Page:
        return await groups_page_of_user(info.context, user.id, first, after)

    activity = resource_activity_field(
        ResourceType.USER,
        "This user's history in the activity log, newest first (changes made to the user, and "
        "writes about it that were refused).",
    )


def _shown_chain(path: list[UserRecord], include_inactive: bool) -> list[UserRecord]:
    """The managers of a path (the user itself left out)."""
    return [record for record in path[1:] if include_inactive or record.active]


async def _fetched_chain(
    path: Awaitable[list[UserRecord]], include_inactive: bool
) -> list[UserRecord]:
    return _shown_chain(await path, include_inactive)
