"""The activity log store: recording in the writer's transaction, numbering, retention."""

import random
import threading
import time
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Connection, event, select, update

from db.activity import (
    MAX_LISTED_MEMBERS,
    Event,
    Operation,
    Origin,
    Outcome,
    ResourceType,
    prune_events,
    record_events,
    sequence_events,
    with_members,
)
from db.database import Database
from db.tables import activity_events
from db.tenants import create_tenant
from db.types import utcnow
from tests.unnumbered_events import record_unnumbered

ORIGIN = Origin(request_id="req-1", actor_name="Entra", actor_token_id=7, client_request_id="c1")


@pytest.fixture
def tenants(database: Database) -> tuple[int, int]:
    def work(connection: Connection) -> tuple[int, int]:
        return create_tenant(connection, "acme").id, create_tenant(connection, "globex").id

    return database.write_sync(work)


def _event(resource_id: str, **fields: Any) -> Event:
    return Event(Operation.UPDATE, ResourceType.USER, resource_id, "ada@example.com", **fields)


def _record(database: Database, tenant_id: int, *events: Event) -> None:
    database.write_sync(lambda c: record_events(c, tenant_id, ORIGIN, events))


def _record_unnumbered(database: Database, tenant_id: int, *events: Event) -> None:
    """As PostgreSQL's writers record them (and SQLite's did before numbering at insert)."""
    database.write_sync(lambda c: record_unnumbered(c, tenant_id, ORIGIN, events))


def _sequence(database: Database, tenant_id: int) -> int:
    return database.write_sync(lambda c: sequence_events(c, tenant_id))


def _all(statement: Any, connection: Connection) -> list[Any]:
    return list(connection.execute(statement))


def _log(database: Database, tenant_id: int) -> list[dict[str, Any]]:
    statement = (
        select(activity_events)
        .where(activity_events.c.tenant_id == tenant_id)
        .order_by(activity_events.c.seq, activity_events.c.id)
    )
    return database.read_sync(lambda c: [dict(row) for row in c.execute(statement).mappings()])


def test_an_event_is_stored_with_its_origin(database: Database, tenants: tuple[int, int]) -> None:
    acme, _ = tenants
    changes = [{"attribute": "title", "oldValue": None, "newValue": "CTO"}]
    _record(database, acme, _event("u1", changes=changes))
    (row,) = _log(database, acme)
    # numbered as it is inserted on SQLite (one writer at a time), by a pass on PostgreSQL
    assert row["seq"] == (1 if database.is_sqlite else None)
    assert (row["request_id"], row["client_request_id"]) == ("req-1", "c1")
    assert (row["actor_token_id"], row["actor_name"]) == (7, "Entra")
    assert (row["operation"], row["outcome"], row["resource_type"]) == (
        "UPDATE",
        "SUCCESS",
        "User",
    )
    assert (row["resource_id"], row["resource_name"]) == ("u1", "ada@example.com")
    assert row["changes"] == changes
    assert (row["members_added"], row["members_removed"], row["member_change_count"]) == (
        None,
        None,
        0,
    )


def test_a_rolled_back_write_leaves_no_event(database: Database, tenants: tuple[int, int]) -> None:
    acme, _ = tenants

    def work(connection: Connection) -> None:
        record_events(connection, acme, ORIGIN, [_event("u1")])
        raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        database.write_sync(work)
    assert _log(database, acme) == []


def test_numbers_follow_the_tenant_and_continue_after_the_highest(
    database: Database, tenants: tuple[int, int]
) -> None:
    acme, globex = tenants
    _record_unnumbered(database, acme, _event("a1"), _event("a2"))
    _record_unnumbered(database, globex, _event("g1"))
    _record_unnumbered(database, acme, _event("a3"))
    assert _sequence(database, acme) == 3
    assert [(r["resource_id"], r["seq"]) for r in _log(database, acme)] == [
        ("a1", 1),
        ("a2", 2),
        ("a3", 3),
    ]
    # another tenant's events are neither numbered nor seen by this tenant's pass
    assert [r["seq"] for r in _log(database, globex)] == [None]
    assert _sequence(database, acme) == 0
    _record_unnumbered(database, acme, _event("a4"))
    assert _sequence(database, globex) == 1
    assert _sequence(database, acme) == 1
    assert [r["seq"] for r in _log(database, acme)] == [1, 2, 3, 4]
    assert [(r["resource_id"], r["seq"]) for r in _log(database, globex)] == [("g1", 1)]


def test_sqlite_numbers_events_as_it_inserts_them_after_the_highest(
    database: Database, tenants: tuple[int, int]
) -> None:
    """SQLite admits one writer at a time: an event commits with its number, after the
    tenant's highest (numbers a pass gave included), several of one write in order.
    PostgreSQL leaves them to the pass, which numbers them the same."""
    acme, globex = tenants
    _record_unnumbered(database, acme, _event("a1"), _event("a2"))  # left by an earlier version
    assert _sequence(database, acme) == 2
    _record(database, acme, _event("a3"))
    _record(database, globex, _event("g1"))
    _record(database, acme, _event("a4"), _event("a5"))
    numbered = [r["seq"] for r in _log(database, acme)]
    if database.is_sqlite:
        assert numbered == [1, 2, 3, 4, 5]
        assert [r["seq"] for r in _log(database, globex)] == [1]
        assert _sequence(database, acme) == 0  # nothing left for a pass
    else:
        assert numbered == [1, 2, None, None, None]
        assert _sequence(database, acme) == 3
    assert [(r["resource_id"], r["seq"]) for r in _log(database, acme)] == [
        ("a1", 1),
        ("a2", 2),
        ("a3", 3),
        ("a4", 4),
        ("a5", 5),
    ]


def test_a_pass_numbers_every_event_in_one_statement_on_postgresql(
    database: Database, tenants: tuple[int, int]
) -> None:
    """PostgreSQL: the lock, the unnumbered events, then one UPDATE of all of them by primary
    key with the NOTIFY: three statements however many events wait. SQLite (events left by an
    earlier version only): the read, then one executemany UPDATE."""
    acme, _ = tenants
    _record_unnumbered(database, acme, *(_event(f"u{n}") for n in range(50)))
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        assert _sequence(database, acme) == 50
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert len(sent) == (2 if database.is_sqlite else 3), sent
    assert [r["seq"] for r in _log(database, acme)] == list(range(1, 51))


def test_many_events_of_one_write_are_one_insert_in_order(
    database: Database, tenants: tuple[int, int]
) -> None:
    acme, _ = tenants
    _record(database, acme, *(_event(f"u{n}") for n in range(1203)))
    assert _sequence(database, acme) == (0 if database.is_sqlite else 1203)
    log = _log(database, acme)
    assert [r["resource_id"] for r in log] == [f"u{n}" for n in range(1203)]
    assert [r["seq"] for r in log] == list(range(1, 1204))


def test_member_lists_are_cut_and_counted() -> None:
    added = [f"u{n}" for n in range(MAX_LISTED_MEMBERS + 5)]
    event = with_members(Event(Operation.UPDATE, ResourceType.GROUP, "g"), added, ["x"])
    assert event.members_added == added[:MAX_LISTED_MEMBERS]
    assert event.members_removed == ["x"]
    assert event.member_change_count == MAX_LISTED_MEMBERS + 6
    empty = with_members(Event(Operation.UPDATE, ResourceType.GROUP, "g"), [], [])
    assert (empty.members_added, empty.members_removed, empty.member_change_count) == (
        None,
        None,
        0,
    )


def test_failure_fields_are_stored(database: Database, tenants: tuple[int, int]) -> None:
    acme, _ = tenants
    failure = Event(
        Operation.UPDATE,
        ResourceType.USER,
        "u1",
        outcome=Outcome.FAILURE,
        status=400,
        scim_type="invalidValue",
        detail="operation 2 (replace manager): no such user",
        method="PATCH",
        path="/Users/{user_id}",
    )
    _record(database, acme, failure)
    (row,) = _log(database, acme)
    assert (row["outcome"], row["status"], row["scim_type"], row["method"], row["path"]) == (
        "FAILURE",
        400,
        "invalidValue",
        "PATCH",
        "/Users/{user_id}",
    )


def _age(database: Database, days: int) -> None:
    """Every event so far happened ``days`` ago."""
    when = utcnow() - timedelta(days=days)
    database.write_sync(lambda c: c.execute(update(activity_events).values(occurred_at=when)))


def test_pruning_deletes_old_events_in_batches_and_keeps_each_tenants_newest(
    database: Database, tenants: tuple[int, int]
) -> None:
    acme, globex = tenants
    _record(database, acme, *(_event(f"a{n}") for n in range(7)))
    _record(database, globex, _event("g0"), _event("g1"))
    _sequence(database, acme)
    _sequence(database, globex)
    _record(database, acme, _event("unnumbered"))
    _age(database, 100)
    _record(database, acme, _event("recent"))
    _sequence(database, acme)
    cutoff = utcnow() - timedelta(days=90)
    # acme: 7 + the late-numbered one; globex: 1 of 2 (its newest stays)
    assert database.write_sync(lambda c: prune_events(c, cutoff, 4)) == 4
    assert database.write_sync(lambda c: prune_events(c, cutoff, 4)) == 4
    assert database.write_sync(lambda c: prune_events(c, cutoff, 4)) == 1
    assert database.write_sync(lambda c: prune_events(c, cutoff, 4)) == 0
    # the old "unnumbered" was numbered 8 by the last pass; "recent" is acme's newest (9)
    assert [(r["resource_id"], r["seq"]) for r in _log(database, acme)] == [("recent", 9)]
    assert [r["resource_id"] for r in _log(database, globex)] == ["g1"]
    # numbering goes on above what was pruned, never again from 1
    _record(database, globex, _event("g2"))
    _sequence(database, globex)
    assert [r["seq"] for r in _log(database, globex)] == [2, 3]


def test_pruning_never_deletes_unnumbered_events(
    database: Database, tenants: tuple[int, int]
) -> None:
    acme, _ = tenants
    _record_unnumbered(database, acme, _event("a"), _event("b"))
    _age(database, 100)
    assert database.write_sync(lambda c: prune_events(c, utcnow(), 10)) == 0
    assert len(_log(database, acme)) == 2


WRITERS = 20
TRANSACTIONS_PER_WRITER = 8


def test_a_reader_paging_by_seq_sees_every_committed_event_once_under_concurrent_writers(
    database: Database, tenants: tuple[int, int]
) -> None:
    """20 writer threads, each on its own connection, commit (or roll back) events with
    short sleeps inside their transactions, and run a numbering pass after each commit, as
    the app does; a reader numbers, then pages by seq, over and over. It must see every
    committed event exactly once, in increasing seq, and never a rolled-back one."""
    acme, _ = tenants
    committed: set[str] = set()
    committed_lock = threading.Lock()
    failures: list[BaseException] = []
    done = threading.Event()

    def writer(number: int) -> None:
        rng = random.Random(number)
        try:
            for transaction in range(TRANSACTIONS_PER_WRITER):
                ids = [f"w{number}-t{transaction}-e{n}" for n in range(rng.randint(1, 3))]
                roll_back = rng.random() < 0.2
                with database.engine.connect() as connection, connection.begin() as outer:
                    time.sleep(rng.uniform(0, 0.004))
                    record_events(connection, acme, ORIGIN, [_event(i) for i in ids])
                    time.sleep(rng.uniform(0, 0.004))
                    if roll_back:
                        outer.rollback()
                if not roll_back:
                    with committed_lock:
                        committed.update(ids)
                    database.write_sync(lambda c: sequence_events(c, acme))
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    seen: list[tuple[int, str]] = []

    def read_pages() -> None:
        after = seen[-1][0] if seen else 0
        database.write_sync(lambda c: sequence_events(c, acme))
        while True:
            statement = (
                select(activity_events.c.seq, activity_events.c.resource_id)
                .where(activity_events.c.tenant_id == acme, activity_events.c.seq > after)
                .order_by(activity_events.c.seq)
                .limit(7)
            )
            page: list[tuple[int, str]] = [
                (row.seq, row.resource_id) for row in database.read_sync(partial(_all, statement))
            ]
            if not page:
                return
            seen.extend(page)
            after = page[-1][0]

    def reader() -> None:
        try:
            while not done.is_set():
                read_pages()
                time.sleep(0.001)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    reading = threading.Thread(target=reader)
    reading.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reading.join()
    read_pages()  # whatever committed after the reader's last page
    assert failures == []
    numbers = [number for number, _ in seen]
    assert numbers == sorted(set(numbers)), "a number was seen twice or out of order"
    ids = [resource_id for _, resource_id in seen]
    assert len(ids) == len(set(ids)), "an event was seen twice"
    assert set(ids) == committed
    assert len(committed) > WRITERS  # the test wrote something worth checking
