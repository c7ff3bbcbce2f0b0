"""The User type with its org-chart fields, and user connections.

Inactive users: lists and counts over the org chart (managementChain, directReports,
reports, peers, roots, counts, reportingPath) leave them out unless ``includeInactive: true``;
the walk itself still passes through them, so depths stay those of the real chart. ``manager``
always shows the manager Entra set, active or not.
"""

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.dataloader import DataLoader

from app.graphql_api.context import Context, Info
from app.graphql_api.execution import direct
from app.graphql_api.limits import (
    MAX_CHAIN_DEPTH,
    checked_first,
    checked_range,
)
from app.graphql_api.node import After, First, Node
from db.directory_lists import UserPage, UserSort
from db.directory_reads import UserRecord

if TYPE_CHECKING:
    from app.graphql_api.groups.types import GroupConnection
    from app.graphql_api.users.connections import ReportConnection, UserConnection


async def _load_user(loader: DataLoader[str, UserRecord | None], user_id: str) -> "User | None":
    record = await loader.load(user_id)
    return None if record is None else User.of(record)


# The connection types refer to User; User's list fields refer to them lazily.
CONNECTIONS = "app.graphql_api.users.connections"

INCLUDE_INACTIVE = "Also list inactive users (they are left out by default)."


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
    record: strawberry.Private[UserRecord]
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
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: UserRecord) -> "User":
        return cls(
            record=record,
            id=strawberry.ID(record.id),
            user_name=record.user_name,
            external_id=record.external_id,
            display_name=record.display_name,
            given_name=record.given_name,
            family_name=record.family_name,
            title=record.title,
            email=record.email,
            work_phone=record.work_phone,
            mobile_phone=record.mobile_phone,
            department=record.department,
            employee_number=record.employee_number,
            company=record.company,
            description=record.description,
            location=record.location,
            active=record.active,
            created_at=record.created,
            updated_at=record.last_modified,
        )

    @classmethod
    def shared(cls, record: UserRecord, context: Context) -> "User":
        """The request's one User of ``record``: the managers on a page of reports are mostly
        reports on the same page, so 100 managers cost a dictionary look-up each."""
        user = context.users.get(record.id)
        if user is None or user.record is not record:
            user = context.users[record.id] = cls.of(record)
        return user

    def manager_in(self, context: Context) -> "User | None":
        manager_id = self.record.manager_id
        if manager_id is None:
            return None
        loaders = context.loaders
        known = loaders.primed_user(manager_id)
        if known is not None:
            # A manager that came with the page resolves without an await: graphql-core
            # completes 100 plain values ~1.5 ms faster than 100 awaitables.
            return User.shared(known, context)
        return cast("User | None", _load_user(loaders.user, manager_id))

    @strawberry.field(
        description="The manager Entra set, active or not; null when none (a deleted "
        "manager's reference is cleared) or when the reference names no user of this tenant.",
        metadata=direct(manager_in),
    )
    def manager(self, info: Info) -> "User | None":
        return self.manager_in(info.context)

    @strawberry.field(
        description="Managers above this user, nearest first, up to the top or `maxDepth` "
        "levels. A manager loop ends the chain before anyone repeats."
    )
    async def management_chain(
        self, info: Info, max_depth: int = 50, include_inactive: bool = False
    ) -> list["User"]:
        checked_range("maxDepth", max_depth, 1, MAX_CHAIN_DEPTH)
        chain = await info.context.loaders.chain.load((self.record.id, max_depth))
        return [User.of(record) for record in chain if include_inactive or record.active]

    @strawberry.field(description="Users whose manager is this user, by displayName.")
    async def direct_reports(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        include_inactive: bool = False,
    ) -> Annotated["UserConnection", strawberry.lazy(CONNECTIONS)]:
        from app.graphql_api.users.connections import decode_user_position, user_page_connection

        # Batched: the direct reports of every user on a page come in one statement.
        sort = UserSort()
        size = checked_first(first)
        position = decode_user_position(sort, after)
        loaders = info.context.loaders
        page = await loaders.direct_reports.load((self.record.id, include_inactive, size, position))
        count_key = (self.record.id, include_inactive)
        return user_page_connection(
            sort, page, after, partial(loaders.direct_report_count.load, count_key)
        )

    @strawberry.field(
        description="Transitive reports down to `maxDepth` levels (1 = direct reports, "
        "2 = skip-level, ...), breadth-first, then by displayName. Each appears once."
    )
    async def reports(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        min_depth: int = 1,
        max_depth: int = 3,
        include_inactive: bool = False,
    ) -> Annotated["ReportConnection", strawberry.lazy(CONNECTIONS)]:
        from app.graphql_api.users.connections import report_connection

        return await report_connection(
            info, self.record, first, after, min_depth, max_depth, include_inactive
        )

    @strawberry.field(description="Number of direct reports.")
    async def direct_report_count(self, info: Info, include_inactive: bool = False) -> int:
        return await info.context.loaders.direct_report_count.load(
            (self.record.id, include_inactive)
        )

    @strawberry.field(
        description="Number of all transitive reports, at any depth (derived once per org "
        "change, not per request)."
    )
    async def report_count(self, info: Info, include_inactive: bool = False) -> int:
        metrics = await info.context.org_metrics()
        counts = metrics.report_counts if include_inactive else metrics.active_report_counts
        return counts.get(self.record.id, 0)

    @strawberry.field(
        description="Users with the same manager, excluding this user; empty without a manager."
    )
    async def peers(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        include_inactive: bool = False,
    ) -> Annotated["UserConnection", strawberry.lazy(CONNECTIONS)]:
        from app.graphql_api.users.connections import (
            decode_user_position,
            no_count,
            user_page_connection,
        )

        # The manager's team minus this user, through the batched direct-reports loader:
        # one more row is asked for in case this user is among them.
        sort = UserSort()
        size = checked_first(first)
        position = decode_user_position(sort, after)
        manager_id = self.record.manager_id
        if manager_id is None:
            return user_page_connection(sort, UserPage([], [], False), after, no_count)
        loaders = info.context.loaders
        team = await loaders.direct_reports.load((manager_id, include_inactive, size + 1, position))
        others = [record for record in team.users if record.id != self.record.id]
        page = UserPage(others[:size], [], team.has_next or len(others) > size)
        in_team = include_inactive or self.record.active

        async def count() -> int:
            total = await loaders.direct_report_count.load((manager_id, include_inactive))
            return total - 1 if in_team else total

        return user_page_connection(sort, page, after, count)

    @strawberry.field(description="Groups this user is a member of, by displayName.")
    async def groups(
        self, info: Info, first: First = None, after: After = None
    ) -> Annotated["GroupConnection", strawberry.lazy("app.graphql_api.groups.types")]:
        from app.graphql_api.groups.types import groups_of_user_connection

        return await groups_of_user_connection(info, self.record.id, first, after)
