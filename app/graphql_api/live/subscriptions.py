"""``Subscription.directoryChanges``: the tenant's successful changes, live, in seq order."""

from collections.abc import AsyncGenerator, Callable
from functools import partial
from time import monotonic

import strawberry

from app.graphql_api.activity.types import ActivityEvent, ResourceType
from app.graphql_api.context import Info
from app.graphql_api.errors import ApiError
from app.graphql_api.live.subtree import SubtreeFilter, read_subtree
from app.graphql_api.live_feeds import FellBehind
from db.activity import Outcome
from db.activity_reads import EventRecord, latest_seq

#: Seconds between checks that the subscription's token is still valid (the verifier's cache
#: answers most of them; a revoked token is seen once its cache entry expires).
TOKEN_CHECK_SECONDS = 1.0


class SubscriptionClosed(ApiError):
    extensions = {"code": "SUBSCRIPTION_CLOSED"}


class TokenRevoked(ApiError):
    extensions = {"code": "UNAUTHENTICATED"}


def _matcher(
    kinds: frozenset[str] | None, subtree: SubtreeFilter | None
) -> Callable[[EventRecord], bool]:
    def matches(event: EventRecord) -> bool:
        # The subtree model sees every event, in order, before anything else filters it out.
        in_subtree = subtree is None or subtree(event)
        return (
            in_subtree
            and event.outcome == Outcome.SUCCESS.value
            and (kinds is None or event.resource_type in kinds)
        )

    return matches


@strawberry.type
class LiveSubscriptions:
    @strawberry.subscription(
        description="The tenant's successful changes as they happen, in `seq` order. With "
        "`after`, every logged event after that `seq` first, then live ones, with no gap and "
        "no repeat; without it, from now. `under`: only events about that user and the users "
        "in their subtree at the time of the event (moves into and out of it included; never "
        "groups). A subscriber that falls too far behind is closed with an error naming the "
        "`after` to resume from. Served over WebSocket (graphql-transport-ws) on /graphql.",
        graphql_type=ActivityEvent,
    )
    @staticmethod
    async def directory_changes(
        info: Info,
        after: int | None = None,
        resource_types: list[ResourceType] | None = None,
        under: strawberry.ID | None = None,
    ) -> AsyncGenerator[EventRecord, None]:
        context = info.context
        session = context.live
        if session is None:
            raise ApiError("subscriptions are served over WebSocket (graphql-transport-ws)")
        grant = context.grant
        if after is not None and after < 0:
            raise ApiError("after must be a seq (0 or more)")
        if after is None:
            # "From now" includes every change committed before now: number those first.
            await context.sequenced_activity()
            after = await context.database.read(partial(latest_seq, tenant_id=grant.tenant_id))
        subtree = None
        if under is not None:
            # After the seq it starts from, never before (see app.graphql_api.live.subtree).
            subtree = await context.database.read(
                partial(
                    read_subtree,
                    snapshots=session.feeds.managers,
                    tenant_id=grant.tenant_id,
                    root=str(under),
                    after=after,
                ),
                in_thread=True,
            )
            if subtree is None:
                raise ApiError(f"under: no user has the id {str(under)!r}")
        kinds = None if resource_types is None else frozenset(t.value for t in resource_types)
        matches = _matcher(kinds, subtree)
        next_check = monotonic() + TOKEN_CHECK_SECONDS

        async def check_token() -> None:
            nonlocal next_check
            if monotonic() < next_check:
                return
            next_check = monotonic() + TOKEN_CHECK_SECONDS
            if not await session.still_valid(grant):
                raise TokenRevoked("the token was revoked: this subscription has ended")

        async with session.feeds.subscribe(grant.tenant_id, after, matches) as subscriber:
            while True:
                try:
                    event = await subscriber.next(timeout=TOKEN_CHECK_SECONDS)
                except FellBehind as behind:
                    raise SubscriptionClosed(str(behind)) from None
                await check_token()
                if event is not None:
                    subscriber.delivered = event.seq
                    context.next_event(subscriber.loaders)
                    yield event
