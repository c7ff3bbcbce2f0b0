"""User queries: one user, the directory, the roots of the org chart, and ``node``."""

from enum import Enum

import strawberry

from app.graphql_api.activity_pages import seq_of_node_id, user_with_history
from app.graphql_api.context import Info
from app.graphql_api.errors import ApiError
from app.graphql_api.limits import checked_search
from app.graphql_api.node import After, First, Node
from app.graphql_api.pages import Page
from app.graphql_api.user_pages import user_set_page, user_with_neighbourhood, user_with_team
from app.graphql_api.users.lookahead import (
    TeamPage,
    groups_wanted,
    history_wanted,
    managers_wanted,
    team_wanted,
)
from app.graphql_api.users.types import User, UserConnection
from db.activity_reads import EventRecord
from db.directory_groups import GroupRecord
from db.directory_lists import UserFilterSpec, UserSort, UserSortField, directory, roots
from db.directory_reads import UserRecord
from db.org_neighbourhood import FirstPage


def _first(path: list[UserRecord]) -> UserRecord | None:
    """The user of an upward path; None for the empty path of no such user."""
    return path[0] if path else None


def _first_page(page: TeamPage | None) -> FirstPage | None:
    """A team's page, when it is a first page (no cursor): the ones the org chart shows."""
    if page is None or page.after is not None:
        return None
    return FirstPage(page.include_inactive, page.size)


@strawberry.input(description="Narrows the users listed; all given conditions must hold.")
class UserFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Case-insensitive substring (so also prefix) of displayName, userName "
        "or email.",
    )
    department: str | None = strawberry.field(default=None, description="Exact, any case.")
    title: str | None = strawberry.field(default=None, description="Exact, any case.")
    location: str | None = strawberry.field(default=None, description="Exact, any case.")
    company: str | None = strawberry.field(default=None, description="Exact, any case.")
    active: bool | None = strawberry.field(
        default=None, description="Only active (true) or inactive (false) users; both if unset."
    )

    def spec(self) -> UserFilterSpec:
        return UserFilterSpec(
            search=checked_search(self.search),
            department=self.department,
            title=self.title,
            location=self.location,
            company=self.company,
            active=self.active,
        )


@strawberry.enum
class UserOrderField(Enum):
    DISPLAY_NAME = "display_name"
    USER_NAME = "user_name"
    CREATED_AT = "created"


@strawberry.enum
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="Sort order; ties are broken by id. Text compares byte-wise.")
class UserOrder:
    field: UserOrderField = UserOrderField.DISPLAY_NAME
    direction: OrderDirection = OrderDirection.ASC

    def sort(self) -> UserSort:
        return UserSort(UserSortField(self.field.value), self.direction is OrderDirection.DESC)


@strawberry.type
class UserQueries:
    @strawberry.field(
        description="A user by id or by userName (case-insensitive): exactly one of them. "
        "Null when no such user exists in the caller's tenant.",
        graphql_type=User | None,
    )
    @staticmethod
    async def user(
        info: Info, id: strawberry.ID | None = None, user_name: str | None = None
    ) -> UserRecord | None:
        if (id is None) == (user_name is None):
            raise ApiError("give exactly one of id and userName")
        loaders = info.context.loaders
        # Fetched with the managers its fields will show, in the same statement; or else
        # with the page of its history, or of its team, they show.
        managers = managers_wanted(info)
        history = None if managers else history_wanted(info)
        if history is not None:
            key, by_name = (str(id), False) if id is not None else (str(user_name), True)
            return await user_with_history(
                info.context, key, by_name=by_name, size=history.size, before=history.before
            )
        team = None if managers or id is None else team_wanted(info)
        if team is not None:
            return await user_with_team(
                info.context,
                str(id),
                include_inactive=team.include_inactive,
                size=team.size,
                after=team.after,
            )
        if id is not None and managers:
            # With its chain, the first pages of its team, its peers and its groups, when shown.
            first_team = _first_page(team_wanted(info))
            first_peers = _first_page(team_wanted(info, "peers"))
            first_groups = groups_wanted(info)
            if first_team is not None or first_peers is not None or first_groups is not None:
                return await user_with_neighbourhood(
                    info.context,
                    str(id),
                    managers=managers,
                    team=first_team,
                    peers=first_peers,
                    groups=first_groups,
                )
        if id is not None:
            if managers:
                return _first(await loaders.path.load((str(id), managers)))
            return await loaders.user.load(str(id))
        assert user_name is not None
        # The loaders keyed by the lowered name: one statement built once, the record primed.
        if managers:
            return _first(await loaders.path_by_name.load((user_name.lower(), managers)))
        return await loaders.user_by_name.load(user_name.lower())

    @strawberry.field(
        description="Users of the tenant (active and inactive unless filtered).",
        graphql_type=UserConnection,
    )
    @staticmethod
    async def users(
        info: Info,
        first: First = None,
        after: After = None,
        filter: UserFilter | None = None,
        order_by: UserOrder | None = None,
    ) -> Page:
        spec = filter.spec() if filter is not None else UserFilterSpec()
        sort = order_by.sort() if order_by is not None else UserSort()
        users = directory(info.context.tenant_id, spec)
        return await user_set_page(info.context, users, sort, first, after)

    @strawberry.field(
        description="Users without a manager: the tops of the org chart.",
        graphql_type=UserConnection,
    )
    @staticmethod
    async def roots(
        info: Info,
        first: First = None,
        after: After = None,
        include_inactive: bool = False,
    ) -> Page:
        users = roots(info.context.tenant_id, include_inactive=include_inactive)
        return await user_set_page(info.context, users, UserSort(), first, after)

    @strawberry.field(
        description="A user, group or activity event by its id; null when none in this tenant.",
        graphql_type=Node | None,
    )
    @staticmethod
    async def node(info: Info, id: strawberry.ID) -> UserRecord | GroupRecord | EventRecord | None:
        loaders = info.context.loaders
        seq = seq_of_node_id(str(id))
        if seq is not None:
            return await loaders.activity_event.load(seq)
        user = await loaders.user.load(str(id))
        if user is not None:
            return user
        return await loaders.group.load(str(id))
