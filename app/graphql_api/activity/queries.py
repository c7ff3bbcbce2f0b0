"""Activity queries: the tenant's log with a filter, and the provisioning summary."""

from datetime import UTC, datetime
from functools import partial

import strawberry

from app.graphql_api.activity.types import (
    ActivityConnection,
    ActivityOperation,
    ActivityOutcome,
    ProvisioningSummary,
    ResourceType,
)
from app.graphql_api.activity_pages import activity_page_of_tenant
from app.graphql_api.context import Info
from app.graphql_api.errors import ApiError
from app.graphql_api.node import After, First
from app.graphql_api.pages import Page
from db.activity_reads import ActivityFilterSpec, provisioning_summary

TIMES = "A time without an offset is taken as UTC."


def utc(value: datetime) -> datetime:
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first UTC time
        raise ApiError(f"{value.isoformat()} is out of range") from None


@strawberry.input(description="Narrows the events listed; all given conditions must hold.")
class ActivityFilter:
    resource_id: strawberry.ID | None = strawberry.field(
        default=None, description="Events about this user or group (also once deleted)."
    )
    resource_type: ResourceType | None = None
    operations: list[ActivityOperation] | None = strawberry.field(
        default=None, description="Any of these operations (an empty list matches nothing)."
    )
    outcome: ActivityOutcome | None = None
    since: datetime | None = strawberry.field(
        default=None, description=f"Events that occurred at or after this time. {TIMES}"
    )
    until: datetime | None = strawberry.field(
        default=None, description=f"Events that occurred before this time. {TIMES}"
    )
    request_id: str | None = strawberry.field(
        default=None, description="The events of one request (its X-Request-ID)."
    )

    def spec(self) -> ActivityFilterSpec:
        since = None if self.since is None else utc(self.since)
        until = None if self.until is None else utc(self.until)
        if since is not None and until is not None and since > until:
            raise ApiError("filter.since must not be after filter.until")
        return ActivityFilterSpec(
            resource_id=None if self.resource_id is None else str(self.resource_id),
            resource_type=None if self.resource_type is None else self.resource_type.value,
            operations=None
            if self.operations is None
            else frozenset(operation.value for operation in self.operations),
            outcome=None if self.outcome is None else self.outcome.value,
            since=since,
            until=until,
            request_id=self.request_id,
        )


@strawberry.type
class ActivityQueries:
    @strawberry.field(
        description="The tenant's activity log, newest first: every change a SCIM client "
        "made and every write it was refused.",
        graphql_type=ActivityConnection,
    )
    @staticmethod
    async def activity(
        info: Info,
        first: First = None,
        after: After = None,
        filter: ActivityFilter | None = None,
    ) -> Page:
        spec = filter.spec() if filter is not None else ActivityFilterSpec()
        return await activity_page_of_tenant(info.context, spec, first, after)

    @strawberry.field(
        description="Counts by operation and outcome since a time, the failure ratio, the "
        f"most frequent failure reasons and the latest event's time. {TIMES}",
    )
    @staticmethod
    async def provisioning_summary(info: Info, since: datetime) -> ProvisioningSummary:
        context = info.context
        await context.sequenced_activity()
        summary = await context.loaders.read(
            partial(provisioning_summary, tenant_id=context.tenant_id, since=utc(since))
        )
        return ProvisioningSummary.of(summary)
