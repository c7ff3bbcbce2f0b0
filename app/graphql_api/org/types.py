"""Org-wide figures."""

import strawberry

from app.graphql_api.context import Info
from app.graphql_api.limits import checked_first
from app.graphql_api.users.types import User
from db.directory_reads import UserRecord
from db.org_metrics import OrgMetrics


@strawberry.type(description="The manager with the most active direct reports.")
class Span:
    manager: UserRecord = strawberry.field(graphql_type=User)
    direct_report_count: int


@strawberry.type(
    description="The shape and the faults of the tenant's org chart (derived once per org "
    "change). Inactive users count in the structure; counts of users say which."
)
class OrgHealth:
    metrics: strawberry.Private[OrgMetrics]

    @strawberry.field(description="All users, active or not.")
    def user_count(self) -> int:
        return self.metrics.user_count

    @strawberry.field
    def active_user_count(self) -> int:
        return self.metrics.active_user_count

    @strawberry.field(description="Active users without a manager.")
    def root_count(self) -> int:
        return self.metrics.active_root_count

    @strawberry.field(
        description="Most managers above any user (0 for a flat org); users on or under a "
        "manager loop do not count."
    )
    def max_depth(self) -> int:
        return self.metrics.max_depth

    @strawberry.field(
        description="The manager with the most active direct reports (ties: smallest id)."
    )
    async def widest_span(self, info: Info) -> Span | None:
        widest = self.metrics.widest_span
        if widest is None:
            return None
        record = await info.context.loaders.user.load(widest[0])
        return None if record is None else Span(manager=record, direct_report_count=widest[1])

    @strawberry.field(
        description="Every manager loop, as the ids on it in manager order, starting from the "
        "smallest id."
    )
    def manager_loops(self) -> list[list[strawberry.ID]]:
        return [[strawberry.ID(user_id) for user_id in loop] for loop in self.metrics.loops]

    @strawberry.field(description="Number of users whose manager is inactive.")
    def users_with_inactive_manager_count(self) -> int:
        return len(self.metrics.users_with_inactive_manager)

    @strawberry.field(
        description="Users whose manager is inactive, by id.", graphql_type=list[User]
    )
    async def users_with_inactive_manager(
        self, info: Info, first: int | None = None
    ) -> list[UserRecord]:
        ids = self.metrics.users_with_inactive_manager[: checked_first(first)]
        records = await info.context.loaders.user.load_many(ids)
        return [record for record in records if record is not None]
