"""The live feeds against the store (SQLite and PostgreSQL), without a transport: a slow
subscriber is bounded and closed with where to resume, idle subscribers cost a bounded number
of objects, and the ``under`` model follows manager moves."""

import asyncio
import dataclasses
import gc
import weakref
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import Connection

from app.graphql_api import live_feeds
from app.graphql_api.live.subtree import MANAGER_PATH, SubtreeFilter, read_subtree
from app.graphql_api.live_feeds import FellBehind, LiveFeeds, Subscriber
from app.graphql_api.manager_snapshots import ManagerSnapshot, ManagerSnapshots
from db.activity_reads import EventRecord
from db.database import Database
from db.tenants import create_tenant
from db.users import create_user_row, get_user, update_user
from scim.user_changes import MANAGER_PATH as SCIM_MANAGER_PATH
from tests.activity_rows import insert_events


def _tenant(database: Database) -> int:
    return database.write_sync(lambda connection: create_tenant(connection, "acme").id)


def _log(database: Database, tenant: int, count: int) -> list[int]:
    def work(connection: Connection) -> list[int]:
        return insert_events(connection, tenant, [{"resource_id": f"u{n}"} for n in range(count)])

    return database.write_sync(work)


async def _drain(subscriber: Subscriber, count: int) -> list[int]:
    seqs = []
    while len(seqs) < count:
        event = await subscriber.next(timeout=5)
        assert event is not None
        subscriber.delivered = event.seq
        seqs.append(event.seq)
    return seqs


def test_a_slow_subscriber_stays_bounded_and_is_closed_with_where_to_resume(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_feeds, "QUEUE_LIMIT", 5)
    monkeypatch.setattr(live_feeds, "LAG_LIMIT", 40)
    monkeypatch.setattr(live_feeds, "PAGE_SIZE", 10)
    tenant = _tenant(database)
    feeds = LiveFeeds(database)

    async def run() -> None:
        async with feeds.subscribe(tenant, None, lambda event: True) as subscriber:
            first = _log(database, tenant, 3)
            feeds.wake(tenant)
            assert await _drain(subscriber, 3) == first
            # It stops reading while 100 events arrive: its queue never holds more than 5.
            _log(database, tenant, 100)
            feeds.wake(tenant)
            for _ in range(50):
                await asyncio.sleep(0.01)
                assert subscriber.queued <= 5
            with pytest.raises(FellBehind) as behind:
                await _drain(subscriber, 100)
            assert behind.value.resume_after == first[-1]
            assert f"after: {first[-1]}" in str(behind.value)
        feeds.close()

    asyncio.run(run())


def test_a_subscriber_that_falls_back_reads_on_from_the_log_without_a_gap(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_feeds, "QUEUE_LIMIT", 5)
    monkeypatch.setattr(live_feeds, "PAGE_SIZE", 10)
    tenant = _tenant(database)
    feeds = LiveFeeds(database)

    async def run() -> None:
        async with feeds.subscribe(tenant, None, lambda event: True) as subscriber:
            seqs = _log(database, tenant, 60)  # far more than its queue, within LAG_LIMIT
            feeds.wake(tenant)
            await asyncio.sleep(0.2)
            assert subscriber.queued <= 5
            assert await _drain(subscriber, 60) == seqs
            later = _log(database, tenant, 2)
            feeds.wake(tenant)
            assert await _drain(subscriber, 2) == later
        feeds.close()

    asyncio.run(run())


def test_a_thousand_idle_subscribers_share_one_feed_and_hold_only_their_events(
    database: Database,
) -> None:
    tenant = _tenant(database)
    feeds = LiveFeeds(database)

    async def run() -> None:
        async with AsyncExitStack() as stack:
            subscribers = [
                await stack.enter_async_context(feeds.subscribe(tenant, None, lambda e: True))
                for _ in range(1000)
            ]
            tasks_before = len(asyncio.all_tasks())
            assert feeds.feed_count == 1
            _log(database, tenant, 3)
            feeds.wake(tenant)
            await asyncio.sleep(0.3)
            assert {subscriber.queued for subscriber in subscribers} == {3}
            assert len(asyncio.all_tasks()) == tasks_before  # no task per subscriber
        assert feeds.feed_count == 0  # the last one gone, the feed goes too

    asyncio.run(run())


def test_the_subscribers_of_a_feed_share_one_set_of_loaders_per_page_read(
    database: Database,
) -> None:
    tenant = _tenant(database)
    feeds = LiveFeeds(database)

    async def run() -> None:
        replayed = _log(database, tenant, 2)
        async with (
            feeds.subscribe(tenant, None, lambda e: True) as one,
            feeds.subscribe(tenant, None, lambda e: True) as two,
            feeds.subscribe(tenant, replayed[0] - 1, lambda e: True) as replaying,
        ):
            assert await _drain(replaying, 2) == replayed
            assert replaying.loaders is None  # read from the log by itself: its own loaders
            _log(database, tenant, 1)
            feeds.wake(tenant)
            await _drain(one, 1)
            await _drain(two, 1)
            await _drain(replaying, 1)
            assert one.loaders is not None
            assert one.loaders is two.loaders is replaying.loaders
            assert one.loaders.tenant_id == tenant
            first_page = one.loaders
            _log(database, tenant, 1)
            feeds.wake(tenant)
            await _drain(one, 1)
            assert one.loaders is not first_page  # a new page, new reads
        feeds.close()

    asyncio.run(run())


def _move(seq: int, user: str, old: str | None, new: str | None) -> EventRecord:
    from datetime import UTC, datetime

    return EventRecord(
        seq=seq,
        occurred_at=datetime.now(UTC),
        actor_token_id=None,
        actor_name="t",
        request_id="r",
        client_request_id=None,
        operation="UPDATE",
        outcome="SUCCESS",
        resource_type="User",
        resource_id=user,
        resource_name=None,
        status=None,
        scim_type=None,
        detail=None,
        method=None,
        path=None,
        changes=[{"attribute": MANAGER_PATH, "oldValue": old, "newValue": new}],
        members_added=None,
        members_removed=None,
        member_change_count=0,
    )


def _delete(seq: int, user: str) -> EventRecord:
    return dataclasses.replace(_move(seq, user, None, None), operation="DELETE", changes=None)


def test_under_follows_moves_into_and_out_of_the_subtree() -> None:
    assert MANAGER_PATH == SCIM_MANAGER_PATH
    # root <- a <- b ; c elsewhere, d under c
    edges = [("root", None, True), ("a", "root", True), ("b", "a", True), ("c", None, True)]
    edges.append(("d", "c", True))
    under = SubtreeFilter("a", ManagerSnapshot(0, edges))
    assert under(_move(1, "b", "a", "a"))  # in it
    assert not under(_move(2, "d", "c", "c"))  # elsewhere
    assert under(_move(3, "c", None, "b"))  # moves in, with d below it
    assert under(_move(4, "d", "c", "c"))  # now in it through c
    assert under(_move(5, "c", "b", None))  # moves out: still delivered
    assert not under(_move(6, "d", "c", "c"))  # out again
    assert not under(_move(7, "root", None, None))  # above the subtree


def test_under_rolls_the_model_back_to_where_it_starts() -> None:
    """Read now, taken back to the seq it starts after: every manager change logged since is
    undone, newest first, by the manager it replaced."""
    # Now: c moved from b to nobody (seq 2) after moving from nobody to b (seq 1); e created
    # under a since (seq 3); d has no manager change.
    now = [("a", None, True), ("b", "a", True), ("c", None, True), ("d", "c", True)]
    now.append(("e", "a", True))
    under = SubtreeFilter("a", ManagerSnapshot(0, now))
    under.roll_back(
        [
            ("e", [{"attribute": MANAGER_PATH, "oldValue": None, "newValue": "a"}]),
            ("c", [{"attribute": "title", "oldValue": "x", "newValue": "y"}]),
            ("c", [{"attribute": MANAGER_PATH, "oldValue": "b", "newValue": None}]),
            ("c", [{"attribute": MANAGER_PATH, "oldValue": None, "newValue": "b"}]),
        ]
    )
    assert [under.contains(user) for user in "abcde"] == [True, True, False, False, False]
    # Replayed from there: c moves in (d with it), then out; e is created under a.
    assert under(_move(1, "c", None, "b"))
    assert under.contains("d")
    assert under(_move(2, "c", "b", None))
    assert not under.contains("d")
    assert under(_move(3, "e", None, "a"))


def test_under_places_a_moved_user_by_the_manager_the_event_replaced() -> None:
    """The model may already hold the change it is asked about (read after a change that the
    subscription then delivers, or replaying from an older ``after``): the event's old value,
    not the model, says where its user was."""
    # The model after c moved out of a's subtree (c had been under b); d is under c.
    edges = [("root", None, True), ("a", "root", True), ("b", "a", True), ("c", None, True)]
    edges.append(("d", "c", True))
    under = SubtreeFilter("a", ManagerSnapshot(0, edges))
    assert under(_move(5, "c", "b", None))  # the move out, replayed: c was in it
    assert not under(_move(6, "d", "c", "c"))  # and d, below c, is out with it
    # The model after e moved in under b: replayed, the move in is seen, and so is the next.
    under = SubtreeFilter(
        "a", ManagerSnapshot(0, [("a", None, True), ("b", "a", True), ("e", "b", True)])
    )
    assert under(_move(7, "e", None, "b"))
    assert under(_move(8, "e", "b", "b"))
    # A move between two places outside the subtree, onto a model that placed it inside.
    under = SubtreeFilter(
        "a", ManagerSnapshot(0, [("a", None, True), ("x", None, True), ("f", "a", True)])
    )
    assert not under(_move(9, "f", "x", "y"))
    # The root itself, whatever its managers.
    assert under(_move(10, "a", "x", None))


def test_filters_over_one_snapshot_keep_their_changes_to_themselves() -> None:
    """Subscriptions share the tenant's managers: what one undoes or follows changes neither
    the snapshot nor another subscription."""
    snapshot = ManagerSnapshot(5, [("a", None, True), ("b", "a", True), ("c", None, True)])
    moved, still = SubtreeFilter("a", snapshot), SubtreeFilter("a", snapshot)
    moved.roll_back([("b", [{"attribute": MANAGER_PATH, "oldValue": "c", "newValue": "a"}])])
    assert [moved.contains(user) for user in "abc"] == [True, False, False]
    assert [still.contains(user) for user in "abc"] == [True, True, False]
    assert moved(_move(1, "c", None, "a"))  # c moves in, with b below it
    assert [moved.contains(user) for user in "abc"] == [True, True, True]
    assert not still.contains("c")
    assert still(_delete(2, "b"))
    assert not still.contains("b")
    assert moved.contains("b")
    assert (moved.manager_of("b"), still.manager_of("b")) == ("c", None)
    assert dict(snapshot.manager) == {"b": "a"}


def test_subscriptions_share_the_managers_until_the_tree_changes(database: Database) -> None:
    snapshots = ManagerSnapshots()

    def build(connection: Connection) -> tuple[int, int, str, str, str]:
        tenant, other = create_tenant(connection, "acme").id, create_tenant(connection, "b").id
        boss = create_user_row(connection, tenant, {"user_name": "boss"})["id"]
        report = create_user_row(connection, tenant, {"user_name": "r", "manager_id": boss})
        loner = create_user_row(connection, tenant, {"user_name": "loner"})["id"]
        create_user_row(connection, other, {"user_name": "boss"})
        return tenant, other, boss, report["id"], loner

    tenant, other, boss, report, loner = database.write_sync(build)

    def read(tenant_id: int) -> ManagerSnapshot:
        return database.read_sync(lambda connection: snapshots.read(connection, tenant_id))

    def change(user_id: str, values: dict[str, object]) -> None:
        def work(connection: Connection) -> None:
            previous = get_user(connection, tenant, user_id)
            assert previous is not None
            update_user(connection, tenant, previous, values)

        database.write_sync(work)

    first = read(tenant)
    assert read(tenant) is first
    assert dict(first.manager) == {report: boss}
    assert read(other) is not first
    assert dict(read(other).manager) == {}
    change(loner, {"title": "Still alone"})  # not the tree: the same managers
    assert read(tenant) is first
    change(loner, {"manager_id": boss})
    moved = read(tenant)
    assert moved is not first
    assert moved.version > first.version
    assert dict(moved.manager) == {report: boss, loner: boss}
    assert dict(first.manager) == {report: boss}  # kept as it was for its subscriptions
    # Kept only while used: once no subscription holds it, it is freed.
    gone = weakref.ref(moved)
    del first, moved
    gc.collect()
    assert gone() is None
    assert dict(read(tenant).manager) == {report: boss, loner: boss}


def test_a_subtree_under_a_root_without_a_manager(database: Database) -> None:
    """The snapshot leaves out users without a manager: the root is looked up by its id."""

    def build(connection: Connection) -> tuple[int, str]:
        tenant = create_tenant(connection, "acme").id
        boss = create_user_row(connection, tenant, {"user_name": "boss"})["id"]
        create_user_row(connection, tenant, {"user_name": "r", "manager_id": boss})
        return tenant, boss

    tenant, boss = database.write_sync(build)
    snapshots = ManagerSnapshots()
    found = database.read_sync(lambda c: read_subtree(c, snapshots, tenant, boss, 0))
    assert found is not None
    assert found.root == boss
    assert database.read_sync(lambda c: read_subtree(c, snapshots, tenant, "nobody", 0)) is None
