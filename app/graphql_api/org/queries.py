"""Questions about two people or the whole chart: common manager, reporting path, health."""

import asyncio
from collections.abc import Awaitable
from typing import Annotated

import strawberry

from app.graphql_api.context import Info
from app.graphql_api.errors import ApiError
from app.graphql_api.limits import MAX_CHAIN_DEPTH
from app.graphql_api.org.types import OrgHealth
from app.graphql_api.users.types import User
from db.directory_reads import UserRecord

ID_OR_USER_NAME = "Give each person by id or by userName (case-insensitive), not both."


def _upward_path(
    info: Info, user_id: strawberry.ID | None, user_name: str | None, names: str
) -> Awaitable[list[UserRecord]]:
    """A person given by id or by userName followed by their whole management chain; empty
    when no such user. Both people of both fields (commonManager and reportingPath on one
    page) come in one statement."""
    if (user_id is None) == (user_name is None):
        raise ApiError(f"give exactly one of {names}")
    loaders = info.context.loaders
    if user_id is not None:
        return loaders.path.load((str(user_id), MAX_CHAIN_DEPTH))
    assert user_name is not None
    return loaders.path_by_name.load((user_name.lower(), MAX_CHAIN_DEPTH))


async def _paths(
    info: Info,
    first: tuple[strawberry.ID | None, str | None, str],
    second: tuple[strawberry.ID | None, str | None, str],
) -> tuple[list[UserRecord], list[UserRecord], int] | None:
    """Both upward paths and where the first one first meets the second (index in it)."""
    # The loaders' futures themselves: gathered without a task per person.
    path_a, path_b = await asyncio.gather(_upward_path(info, *first), _upward_path(info, *second))
    if not path_a or not path_b:
        return None
    on_b = {record.id for record in path_b}
    for index, record in enumerate(path_a):
        if record.id in on_b:
            return path_a, path_b, index
    return None


@strawberry.type
class OrgQueries:
    @strawberry.field(
        description="The lowest user on both management chains, each chain starting at the "
        "user itself (so if a manages b, it is a). An inactive one is passed over for the next "
        "active manager above, unless includeInactive. Null if the chains never meet. "
        + ID_OR_USER_NAME,
        graphql_type=User | None,
    )
    @staticmethod
    async def common_manager(
        info: Info,
        a: strawberry.ID | None = None,
        b: strawberry.ID | None = None,
        a_user_name: str | None = None,
        b_user_name: str | None = None,
        include_inactive: bool = False,
    ) -> UserRecord | None:
        found = await _paths(
            info, (a, a_user_name, "a and aUserName"), (b, b_user_name, "b and bUserName")
        )
        if found is None:
            return None
        path_a, path_b, index = found
        on_b = {record.id for record in path_b}
        for record in path_a[index:]:
            if record.id in on_b and (include_inactive or record.active):
                return record
        return None

    @strawberry.field(
        description="From `from` up to the common manager and down to `to`, both ends "
        "included; inactive users in between are left out unless includeInactive. Null if "
        "the chains never meet. " + ID_OR_USER_NAME,
        graphql_type=list[User] | None,
    )
    @staticmethod
    async def reporting_path(
        info: Info,
        from_: Annotated[strawberry.ID | None, strawberry.argument(name="from")] = None,
        to: strawberry.ID | None = None,
        from_user_name: str | None = None,
        to_user_name: str | None = None,
        include_inactive: bool = False,
    ) -> list[UserRecord] | None:
        found = await _paths(
            info,
            (from_, from_user_name, "from and fromUserName"),
            (to, to_user_name, "to and toUserName"),
        )
        if found is None:
            return None
        path_a, path_b, index = found
        meeting = path_a[index]
        down = [record.id for record in path_b]
        path = path_a[: index + 1] + list(reversed(path_b[: down.index(meeting.id)]))
        last = len(path) - 1
        return [
            record
            for position, record in enumerate(path)
            if include_inactive or record.active or position in (0, last)
        ]

    @strawberry.field(description="The shape and the faults of the org chart.")
    @staticmethod
    async def org_health(info: Info) -> OrgHealth:
        return OrgHealth(metrics=await info.context.org_metrics())
