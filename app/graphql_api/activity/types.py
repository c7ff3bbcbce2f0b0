"""The activity log's types: an event, the connection that lists events, and the
provisioning summary.

An ``ActivityEvent`` is the store's event record itself; its plain fields read the record's
attributes of the same name. ``user`` and ``group`` are the resource as it is now, through the
request's DataLoaders, so a page of events costs one statement per kind of resource.
"""

from collections.abc import Awaitable
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from app.graphql_api.activity_pages import event_node_id
from app.graphql_api.context import Info
from app.graphql_api.groups.types import Group
from app.graphql_api.node import Node, PageInfo
from app.graphql_api.pages import Page
from app.graphql_api.users.types import User
from db.activity import Operation, Outcome
from db.activity import ResourceType as StoredResourceType
from db.activity_reads import (
    EventRecord,
    FailureReason,
    OperationCount,
)
from db.activity_reads import ProvisioningSummary as SummaryRecord
from db.directory_groups import GroupRecord
from db.directory_reads import UserRecord


@strawberry.enum(description="The kind of resource an event is about.")
class ResourceType(Enum):
    USER = StoredResourceType.USER.value
    GROUP = StoredResourceType.GROUP.value


@strawberry.enum(description="What a client asked for: SCIM POST, PUT, PATCH or DELETE.")
class ActivityOperation(Enum):
    CREATE = Operation.CREATE.value
    REPLACE = Operation.REPLACE.value
    UPDATE = Operation.UPDATE.value
    DELETE = Operation.DELETE.value


@strawberry.enum(description="SUCCESS: the change was stored. FAILURE: the write was refused.")
class ActivityOutcome(Enum):
    SUCCESS = Outcome.SUCCESS.value
    FAILURE = Outcome.FAILURE.value


@strawberry.type(description="One stored attribute whose value changed, with both values.")
class AttributeChange:
    attribute: str = strawberry.field(
        description='A SCIM attribute path: `title`, `name.givenName`, `emails[type eq "work"]'
        ".value`, the enterprise extension's `manager`, ..."
    )
    old_value: JSON | None = strawberry.field(description="Null when it had none.")
    new_value: JSON | None = strawberry.field(description="Null when it was removed.")


@strawberry.type(description="Who made a change: a token, or `cli` for the command line.")
class ActivityActor:
    token_id: strawberry.ID | None = strawberry.field(
        description="The token's id (its events outlive it); null for the command line."
    )
    name: str


def _id(record: strawberry.Parent[EventRecord]) -> strawberry.ID:
    return strawberry.ID(event_node_id(record))


def _actor(record: strawberry.Parent[EventRecord]) -> ActivityActor:
    token_id = record.actor_token_id
    return ActivityActor(
        token_id=None if token_id is None else strawberry.ID(str(token_id)),
        name=record.actor_name,
    )


def _changes(record: strawberry.Parent[EventRecord]) -> list[AttributeChange]:
    return [
        AttributeChange(
            attribute=change["attribute"],
            old_value=change.get("oldValue"),
            new_value=change.get("newValue"),
        )
        for change in record.changes or ()
    ]


def _members_added(record: strawberry.Parent[EventRecord]) -> list[strawberry.ID]:
    return [strawberry.ID(member) for member in record.members_added or ()]


def _members_removed(record: strawberry.Parent[EventRecord]) -> list[strawberry.ID]:
    return [strawberry.ID(member) for member in record.members_removed or ()]


@strawberry.type(
    description="One change a client made to one user or group, or one write it was refused "
    "(append-only). Its id resolves through `node(id:)`."
)
class ActivityEvent(Node):
    id: strawberry.ID = strawberry.field(resolver=_id)
    seq: int = strawberry.field(
        description="The event's position in the tenant's log: increases in commit order."
    )
    occurred_at: datetime
    # The record holds each enum's stored value ("CREATE", "User"), which is the enum's
    # value in the schema too: GraphQL serializes it by that value, with no resolver to call
    # for each event.
    operation: ActivityOperation
    outcome: ActivityOutcome
    resource_type: ResourceType
    resource_id: strawberry.ID | None = strawberry.field(
        description="Null for a refused write that named no resource."
    )
    resource_name: str | None = strawberry.field(
        description="The user's userName or the group's displayName as of the event."
    )
    actor: ActivityActor = strawberry.field(resolver=_actor)
    request_id: str = strawberry.field(
        description="The request's X-Request-ID: every event of one request shares it "
        "(a delete's side effects too)."
    )
    client_request_id: str | None = strawberry.field(
        description="The client-request-id header the client sent, if any."
    )
    status: int | None = strawberry.field(description="A refused write: the HTTP status.")
    scim_type: str | None = strawberry.field(description="A refused write: the scimType.")
    detail: str | None = strawberry.field(description="A refused write: the error's detail.")
    changes: list[AttributeChange] = strawberry.field(
        resolver=_changes, description="Every stored attribute whose value changed."
    )
    members_added: list[strawberry.ID] = strawberry.field(
        resolver=_members_added,
        description="Ids of the users a group gained (the first 1,000; see memberChangeCount).",
    )
    members_removed: list[strawberry.ID] = strawberry.field(
        resolver=_members_removed,
        description="Ids of the users a group lost (the first 1,000; see memberChangeCount).",
    )
    member_change_count: int = strawberry.field(
        description="Members added plus members removed, all of them."
    )

    @strawberry.field(
        description="The user as it is now; null once deleted.", graphql_type=User | None
    )
    @staticmethod
    def user(
        record: strawberry.Parent[EventRecord], info: Info
    ) -> Awaitable[UserRecord | None] | None:
        if record.resource_type != ResourceType.USER.value or record.resource_id is None:
            return None
        return info.context.loaders.user.load(record.resource_id)

    @strawberry.field(
        description="The group as it is now; null once deleted.", graphql_type=Group | None
    )
    @staticmethod
    def group(
        record: strawberry.Parent[EventRecord], info: Info
    ) -> Awaitable[GroupRecord | None] | None:
        if record.resource_type != ResourceType.GROUP.value or record.resource_id is None:
            return None
        return info.context.loaders.group.load(record.resource_id)

    @classmethod
    def is_type_of(cls, obj: object, info: object) -> bool:
        return isinstance(obj, EventRecord)


@strawberry.type
class ActivityEdge:
    cursor: str
    node: ActivityEvent


@strawberry.type(description="A page of the activity log, newest first.")
class ActivityConnection:
    edges: list[ActivityEdge]
    page_info: PageInfo

    @strawberry.field(
        description="Number of events in the whole list, not just this page (a count over "
        "the log: ask for it only when needed).",
        graphql_type=int,
    )
    @staticmethod
    def total_count(page: strawberry.Parent[Page]) -> int | Awaitable[int]:
        return page.count()


#: Each stored operation's and outcome's GraphQL value, looked up once per count.
_OPERATIONS = {member.value: member for member in ActivityOperation}
_OUTCOMES = {member.value: member for member in ActivityOutcome}


@strawberry.type(description="How many events of one operation had one outcome.")
class OperationOutcomeCount:
    operation: ActivityOperation
    outcome: ActivityOutcome
    count: int

    @classmethod
    def of(cls, entry: OperationCount) -> "OperationOutcomeCount":
        return cls(
            operation=_OPERATIONS[entry.operation],
            outcome=_OUTCOMES[entry.outcome],
            count=entry.count,
        )


@strawberry.type(
    description="Refused writes of one kind: the same status, scimType and detail once "
    "quoted values, ids and numbers are blanked (as `…`)."
)
class ProvisioningFailureReason:
    status: int | None
    scim_type: str | None
    detail_pattern: str | None
    count: int
    last_seen: datetime = strawberry.field(name="lastSeenAt")


@strawberry.type(
    description="How provisioning went since a time: Entra quarantines a job when most of "
    "its requests fail, so a rising failure ratio is the warning.",
)
class ProvisioningSummary:
    """Built from the store's summary as a whole (``of``), so that each of its fields, and
    each count's, is a plain attribute: no resolver to call per field."""

    since: datetime
    total: int = strawberry.field(description="Events since `since`.")
    failures: int = strawberry.field(description="Refused writes since `since`.")
    failure_ratio: float = strawberry.field(
        description="failures / total (0 when there were no events)."
    )
    last_event_at: datetime | None = strawberry.field(
        description="When the tenant's latest event occurred (also before `since`); null "
        "when it has none."
    )
    counts: list[OperationOutcomeCount] = strawberry.field(
        description="Every operation with every outcome, zeros included."
    )
    top_failure_reasons: list[FailureReason] = strawberry.field(
        description="The five most frequent kinds of refused write.",
        graphql_type=list[ProvisioningFailureReason],
    )

    @classmethod
    def of(cls, summary: SummaryRecord) -> "ProvisioningSummary":
        return cls(
            since=summary.since,
            total=summary.total,
            failures=summary.failures,
            failure_ratio=summary.failure_ratio,
            counts=[OperationOutcomeCount.of(entry) for entry in summary.counts],
            top_failure_reasons=summary.failure_reasons,
            last_event_at=summary.last_event_at,
        )
