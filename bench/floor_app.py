"""The framework's floor for the frontend's operations: strawberry on Starlette answering the
shapes of ``graphql/operations`` from memory.

The bench's org (``bench.dataset``, size and seed from ``BENCH_FLOOR_SIZE`` and
``BENCH_FLOOR_SEED``) is loaded into dictionaries at start, each user as the SCIM layer would
store it (``bench.rows.user_row``). Every query is parsed and validated through strawberry's
public ``ParserCache`` and ``ValidationCache`` and answered as JSON by orjson, as the service
does; there is no token, no store, no limit and no ETag. Groups and activity are empty, as in
the bench's database (its users are loaded in bulk, without groups or an activity log). What
the service spends above this app is its own work: authentication, limits, the store.
"""

import os
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, TypeVar

import orjson
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache

from bench.dataset import Org, generate, scim_document
from bench.rows import user_row
from db.activity_reads import OPERATIONS, OUTCOMES

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
        return GroupConnection(
            total_count=0, page_info=PageInfo(has_next_page=False, end_cursor=None), edges=[]
        )

    @strawberry.field
    def activity(self, first: int | None = None, after: str | None = None) -> "ActivityConnection":
        return NO_ACTIVITY


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
class ActivityOutcome(Enum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


@strawberry.type
class Actor:
    token_id: int | None
    name: str | None


@strawberry.type
class AttributeChange:
    attribute: str
    old_value: str | None
    new_value: str | None


@strawberry.type
class ActivityEvent:
    id: strawberry.ID
    seq: int
    occurred_at: datetime
    operation: str
    outcome: ActivityOutcome
    resource_type: str
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


NO_ACTIVITY = ActivityConnection(page_info=PageInfo(has_next_page=False, end_cursor=None), edges=[])


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
    now = datetime.now(UTC)
    people: dict[str, User] = {}
    for person in org.people:
        row = user_row(scim_document(org, person), user_id=person.id, tenant_id=1, now=now)
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
    return Directory(
        people=people,
        by_user_name={user.user_name.lower(): user for user in people.values()},
        teams=teams,
        report_counts=counts,
        everyone=everyone,
        search_text="\n".join(lines),
        line_starts=starts,
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
        counts = [
            OperationCount(operation=operation, outcome=outcome, count=0)
            for operation in OPERATIONS
            for outcome in OUTCOMES
        ]
        return ProvisioningSummary(
            since=since,
            total=0,
            failures=0,
            failure_ratio=0.0,
            last_event_at=None,
            counts=counts,
            top_failure_reasons=[],
        )

    @strawberry.field
    def activity(
        self,
        first: int | None = None,
        after: str | None = None,
        filter: Annotated[ActivityFilter | None, strawberry.argument()] = None,
    ) -> ActivityConnection:
        return NO_ACTIVITY


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
