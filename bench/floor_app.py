"""The framework's floor for the frontend's operations: strawberry on Starlette answering the
shapes of ``graphql/operations`` from memory.

The bench's org (``bench.dataset``, size and seed from ``BENCH_FLOOR_SIZE`` and
``BENCH_FLOOR_SEED``) is loaded into dictionaries at start, each user as the SCIM layer would
store it (``bench.history``'s rows, built by ``bench.rows.user_row``). Every query is parsed
and validated through strawberry's public ``ParserCache`` and ``ValidationCache`` and
answered as JSON by orjson, as the service does; there is no token, no store, no limit and
no ETag. The org's groups and activity log (``bench.history``, as in the bench's database)
are kept the same way: each person's groups and events in the order the service pages them,
the provisioning summary of a window kept once computed. What the service spends above this
app is its own work: authentication, limits, the store.
"""

import os
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, TypeVar

import orjson
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.scalars import JSON

from app.graphql_api.activity_pages import NODE_ID_PREFIX
from bench.dataset import Org, generate
from bench.history import Entry, history
from db.activity import Outcome
from db.activity_reads import OPERATIONS, OUTCOMES, TOP_FAILURE_REASONS, detail_pattern

DEFAULT_FIRST = 20
T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class User:
    id: strawberry.ID
    user_name: str
    display_name: str | None
    given_name: str | None
    family_name: str | None
    title: str | None
    email: str | None
    work_phone: str | None
    mobile_phone: str | None
    department: str | None
    location: str | None
    company: str | None
    active: bool
    manager_id: strawberry.Private[str | None]

    @strawberry.field
    def manager(self) -> "User | None":
        return None if self.manager_id is None else DIRECTORY.people[self.manager_id]

    @strawberry.field
    def direct_report_count(self) -> int:
        return len(DIRECTORY.team(self.id))

    @strawberry.field
    def report_count(self) -> int:
        return DIRECTORY.report_counts[self.id]

    @strawberry.field
    def management_chain(self, max_depth: int = 100) -> list["User"]:
        return DIRECTORY.chain(self)[:max_depth]

    @strawberry.field
    def peers(self, first: int | None = None, after: str | None = None) -> "UserConnection":
        team = () if self.manager_id is None else DIRECTORY.team(self.manager_id)
        return user_page([peer for peer in team if peer is not self], first, after)

    @strawberry.field
    def direct_reports(
        self, first: int | None = None, after: str | None = None
    ) -> "UserConnection":
        return user_page(DIRECTORY.team(self.id), first, after)

    @strawberry.field
    def reports(
        self,
        first: int | None = None,
        after: str | None = None,
        min_depth: int = 1,
        max_depth: int = 1,
    ) -> "ReportConnection":
        found = DIRECTORY.below(self, min_depth, max_depth)
        rows, has_next, start = page(found, first, after)
        edges = [
            ReportEdge(cursor=str(start + n), depth=depth, node=user)
            for n, (depth, user) in enumerate(rows)
        ]
        return ReportConnection(
            total_count=len(found),
            page_info=PageInfo(
                has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None
            ),
            edges=edges,
        )

    @strawberry.field
    def groups(self, first: int | None = None, after: str | None = None) -> "GroupConnection":
        found = DIRECTORY.groups_of.get(self.id, ())
        rows, has_next, start = page(found, first, after)
        edges = [GroupEdge(cursor=str(start + n), node=group) for n, group in enumerate(rows)]
        return GroupConnection(
            total_count=len(found),
            page_info=PageInfo(
                has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None
            ),
            edges=edges,
        )

    @strawberry.field
    def activity(self, first: int | None = None, after: str | None = None) -> "ActivityConnection":
        return activity_page(DIRECTORY.activity_of.get(self.id, ()), first, after)


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    total_count: int
    page_info: PageInfo
    edges: list[UserEdge]


@strawberry.type
class ReportEdge:
    cursor: str
    depth: int
    node: User


@strawberry.type
class ReportConnection:
    total_count: int
    page_info: PageInfo
    edges: list[ReportEdge]


@strawberry.type
class Group:
    id: strawberry.ID
    display_name: str | None


@strawberry.type
class GroupEdge:
    cursor: str
    node: Group


@strawberry.type
class GroupConnection:
    total_count: int
    page_info: PageInfo
    edges: list[GroupEdge]


@strawberry.enum
class ActivityOperation(Enum):
    CREATE = "CREATE"
    REPLACE = "REPLACE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


@strawberry.enum
class ActivityOutcome(Enum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


@strawberry.enum
class ResourceType(Enum):
    USER = "User"
    GROUP = "Group"


@strawberry.type
class Actor:
    token_id: int | None
    name: str | None


@strawberry.type
class AttributeChange:
    attribute: str
    old_value: JSON | None
    new_value: JSON | None


@strawberry.type
class ActivityEvent:
    id: strawberry.ID
    seq: int
    occurred_at: datetime
    operation: ActivityOperation
    outcome: ActivityOutcome
    resource_type: ResourceType
    resource_id: str | None
    resource_name: str | None
    actor: Actor
    request_id: str | None
    client_request_id: str | None
    changes: list[AttributeChange]
    status: int | None
    scim_type: str | None
    detail: str | None


@strawberry.type
class ActivityEdge:
    cursor: str
    node: ActivityEvent


@strawberry.type
class ActivityConnection:
    page_info: PageInfo
    edges: list[ActivityEdge]


def activity_page(
    events: Sequence[ActivityEvent], first: int | None, after: str | None
) -> ActivityConnection:
    rows, has_next, start = page(events, first, after)
    edges = [ActivityEdge(cursor=str(start + n), node=event) for n, event in enumerate(rows)]
    return ActivityConnection(
        page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
        edges=edges,
    )


@strawberry.type
class OperationCount:
    operation: str
    outcome: str
    count: int


@strawberry.type
class FailureReason:
    status: int | None
    scim_type: str | None
    detail_pattern: str | None
    count: int
    last_seen_at: datetime


@strawberry.type
class ProvisioningSummary:
    since: datetime
    total: int
    failures: int
    failure_ratio: float
    last_event_at: datetime | None
    counts: list[OperationCount]
    top_failure_reasons: list[FailureReason]


@strawberry.input
class UserFilter:
    search: str | None = None
    active: bool | None = None


@strawberry.input
class ActivityFilter:
    outcome: ActivityOutcome | None = None
    since: datetime | None = None


def page(items: Sequence[T], first: int | None, after: str | None) -> tuple[Sequence[T], bool, int]:
    """Rows of one page, whether more follow, and the offset of the first (a cursor is an
    offset)."""
    size = DEFAULT_FIRST if first is None else first
    start = 0 if after is None else int(after) + 1
    return items[start : start + size], start + size < len(items), start


def user_page(users: Sequence[User], first: int | None, after: str | None) -> UserConnection:
    rows, has_next, start = page(users, first, after)
    edges = [UserEdge(cursor=str(start + n), node=user) for n, user in enumerate(rows)]
    return UserConnection(
        total_count=len(users),
        page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
        edges=edges,
    )


@dataclass(slots=True)
class Directory:
    people: dict[str, User]
    by_user_name: dict[str, User]
    teams: dict[str, list[User]]  # by manager id, each by displayName
    report_counts: dict[str, int]
    everyone: list[User]  # by displayName
    #: Each of ``everyone``'s lowered displayName, userName and email on a line of its own,
    #: and where each line starts: a search is ``str.find`` over one string.
    search_text: str
    line_starts: list[int]
    #: Each person's groups by displayName (binary, then id), as the service pages them.
    groups_of: dict[str, list[Group]] = field(default_factory=dict)
    #: Each person's events, newest first.
    activity_of: dict[str, list[ActivityEvent]] = field(default_factory=dict)
    #: Every event, oldest first.
    events: list[ActivityEvent] = field(default_factory=list)
    #: The refused writes, newest first.
    failures: list[ActivityEvent] = field(default_factory=list)
    #: Each window's provisioning summary, once asked for (the log never changes here).
    summaries: dict[datetime, "ProvisioningSummary"] = field(default_factory=dict)

    def summary(self, since: datetime) -> "ProvisioningSummary":
        """The provisioning summary of the events since ``since``, computed once."""
        if since not in self.summaries:
            self.summaries[since] = self._summary(since)
        return self.summaries[since]

    def _summary(self, since: datetime) -> "ProvisioningSummary":
        window = [event for event in self.events if event.occurred_at >= since]
        counted = Counter((event.operation.value, event.outcome.value) for event in window)
        reasons: dict[tuple[int | None, str | None, str | None], FailureReason] = {}
        for event in window:
            if event.outcome is not ActivityOutcome.FAILURE:
                continue
            key = (event.status, event.scim_type, detail_pattern(event.detail))
            status, scim_type, pattern = key
            reason = reasons.setdefault(
                key,
                FailureReason(
                    status=status,
                    scim_type=scim_type,
                    detail_pattern=pattern,
                    count=0,
                    last_seen_at=event.occurred_at,
                ),
            )
            reason.count += 1
            reason.last_seen_at = max(reason.last_seen_at, event.occurred_at)
        counts = [
            OperationCount(operation=operation, outcome=outcome, count=counted[operation, outcome])
            for operation in OPERATIONS
            for outcome in OUTCOMES
        ]
        total = len(window)
        failures = sum(counted[operation, Outcome.FAILURE.value] for operation in OPERATIONS)
        top = sorted(
            reasons.values(),
            key=lambda r: (-r.count, -r.last_seen_at.timestamp(), r.detail_pattern or ""),
        )
        return ProvisioningSummary(
            since=since,
            total=total,
            failures=failures,
            failure_ratio=failures / total if total else 0.0,
            last_event_at=self.events[-1].occurred_at if self.events else None,
            counts=counts,
            top_failure_reasons=top[:TOP_FAILURE_REASONS],
        )

    def failures_since(self, since: datetime | None) -> list[ActivityEvent]:
        return [event for event in self.failures if since is None or event.occurred_at >= since]

    def matching(self, text: str) -> list[User]:
        """Everyone whose displayName, userName or email contains ``text`` (lowered)."""
        if "\n" in text or "\0" in text:
            return []
        found, position, starts = [], 0, self.line_starts
        while (hit := self.search_text.find(text, position)) >= 0:
            line = bisect_right(starts, hit) - 1
            found.append(self.everyone[line])
            position = starts[line + 1] if line + 1 < len(starts) else len(self.search_text)
        return found

    def team(self, manager_id: str) -> list[User]:
        return self.teams.get(manager_id, [])

    def chain(self, user: User) -> list[User]:
        chain: list[User] = []
        while user.manager_id is not None:
            user = self.people[user.manager_id]
            chain.append(user)
        return chain

    def below(self, user: User, min_depth: int, max_depth: int) -> list[tuple[int, User]]:
        found: list[tuple[int, User]] = []
        level = [user]
        for depth in range(1, max_depth + 1):
            level = [report for manager in level for report in self.team(manager.id)]
            if depth >= min_depth:
                found.extend((depth, report) for report in sorted(level, key=_sort_key))
        return found


def _sort_key(user: User) -> tuple[str, str]:
    return (user.display_name or "", user.id)  # the service's order: binary, then id


def load(org: Org) -> Directory:
    built = history(org)
    people: dict[str, User] = {}
    for person in org.people:
        row = built.rows[person.index]
        people[person.id] = User(
            id=strawberry.ID(person.id),
            user_name=row["user_name"],
            display_name=row["display_name"],
            given_name=row["given_name"],
            family_name=row["family_name"],
            title=row["title"],
            email=row["email"],
            work_phone=row["work_phone"],
            mobile_phone=row["mobile_phone"],
            department=row["department"],
            location=row["location"],
            company=row["company"],
            active=row["active"],
            manager_id=row["manager_id"],
        )
    teams: dict[str, list[User]] = {}
    for user in people.values():
        if user.manager_id is not None:
            teams.setdefault(user.manager_id, []).append(user)
    for team in teams.values():
        team.sort(key=_sort_key)
    counts = dict.fromkeys(people, 0)
    for person in reversed(org.people):  # managers come first: reports are counted before
        manager = org.manager_id(person)
        if manager is not None:
            counts[manager] += 1 + counts[person.id]
    everyone = sorted(people.values(), key=_sort_key)
    lines = [
        "\0".join((user.display_name or "", user.user_name, user.email or "")).lower()
        for user in everyone
    ]
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    groups_of: dict[str, list[Group]] = {}
    for group in built.groups:
        node = Group(id=strawberry.ID(group.id), display_name=group.display_name)
        for index in group.members:
            groups_of.setdefault(org.people[index].id, []).append(node)
    for found in groups_of.values():
        found.sort(key=lambda group: (group.display_name or "", group.id))
    events = [_event(seq, entry) for seq, entry in enumerate(built.entries, 1)]
    activity_of: dict[str, list[ActivityEvent]] = {}
    for event in reversed(events):
        if event.resource_type is ResourceType.USER and event.resource_id is not None:
            activity_of.setdefault(event.resource_id, []).append(event)
    return Directory(
        people=people,
        by_user_name={user.user_name.lower(): user for user in people.values()},
        teams=teams,
        report_counts=counts,
        everyone=everyone,
        search_text="\n".join(lines),
        line_starts=starts,
        groups_of=groups_of,
        activity_of=activity_of,
        events=events,
        failures=[event for event in reversed(events) if event.outcome is ActivityOutcome.FAILURE],
    )


def _event(seq: int, entry: Entry) -> ActivityEvent:
    event, origin = entry.event, entry.origin
    return ActivityEvent(
        id=strawberry.ID(f"{NODE_ID_PREFIX}{seq}"),
        seq=seq,
        occurred_at=event.occurred_at,
        operation=ActivityOperation(event.operation.value),
        outcome=ActivityOutcome(event.outcome.value),
        resource_type=ResourceType(event.resource_type.value),
        resource_id=event.resource_id,
        resource_name=event.resource_name,
        actor=Actor(token_id=origin.actor_token_id, name=origin.actor_name),
        request_id=origin.request_id,
        client_request_id=origin.client_request_id,
        changes=[
            AttributeChange(
                attribute=change["attribute"],
                old_value=change["oldValue"],
                new_value=change["newValue"],
            )
            for change in event.changes or ()
        ],
        status=event.status,
        scim_type=event.scim_type,
        detail=event.detail,
    )


DIRECTORY = Directory({}, {}, {}, {}, [], "", [])


def _paths(a_name: str | None, b_name: str | None) -> tuple[list[User], list[User]] | None:
    a = DIRECTORY.by_user_name.get((a_name or "").lower())
    b = DIRECTORY.by_user_name.get((b_name or "").lower())
    if a is None or b is None:
        return None
    return [a, *DIRECTORY.chain(a)], [b, *DIRECTORY.chain(b)]


@strawberry.type
class Query:
    @strawberry.field
    def user(self, id: strawberry.ID | None = None, user_name: str | None = None) -> User | None:
        if id is not None:
            return DIRECTORY.people.get(str(id))
        return DIRECTORY.by_user_name.get((user_name or "").lower())

    @strawberry.field
    def users(
        self, first: int | None = None, after: str | None = None, filter: UserFilter | None = None
    ) -> UserConnection:
        found: Sequence[User] = DIRECTORY.everyone
        if filter is not None and filter.search:
            found = DIRECTORY.matching(filter.search.lower())
        if filter is not None and filter.active is not None:
            found = [user for user in found if user.active == filter.active]
        return user_page(found, first, after)

    @strawberry.field
    def common_manager(
        self, a_user_name: str | None = None, b_user_name: str | None = None
    ) -> User | None:
        paths = _paths(a_user_name, b_user_name)
        if paths is None:
            return None
        on_b = {user.id for user in paths[1]}
        return next((user for user in paths[0] if user.id in on_b), None)

    @strawberry.field
    def reporting_path(
        self,
        from_user_name: str | None = None,
        to_user_name: str | None = None,
    ) -> list[User] | None:
        paths = _paths(from_user_name, to_user_name)
        if paths is None:
            return None
        up, down = paths
        on_down = [user.id for user in down]
        for index, user in enumerate(up):
            if user.id in on_down:
                return up[: index + 1] + list(reversed(down[: on_down.index(user.id)]))
        return None

    @strawberry.field
    def provisioning_summary(self, since: datetime) -> ProvisioningSummary:
        return DIRECTORY.summary(since)

    @strawberry.field
    def activity(
        self,
        first: int | None = None,
        after: str | None = None,
        filter: Annotated[ActivityFilter | None, strawberry.argument()] = None,
    ) -> ActivityConnection:
        if filter is None or filter.outcome is not ActivityOutcome.FAILURE:
            raise NotImplementedError("the frontend's operations ask for failures only")
        return activity_page(DIRECTORY.failures_since(filter.since), first, after)


class FloorGraphQL(GraphQL[None, None]):
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def build_schema() -> strawberry.Schema:
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    return strawberry.Schema(query=Query, extensions=extensions)


def create_app(org: Org | None = None) -> Starlette:
    global DIRECTORY
    if org is None:
        size = int(os.environ.get("BENCH_FLOOR_SIZE", "1000"))
        org = generate(size, int(os.environ.get("BENCH_FLOOR_SEED", "42")))
    DIRECTORY = load(org)
    view: Any = FloorGraphQL(build_schema(), allow_queries_via_get=True)
    return Starlette(routes=[Route("/graphql", view, methods=["GET", "POST"])])
