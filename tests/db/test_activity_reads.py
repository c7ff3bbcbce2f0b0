"""Reading the activity log: pages newest first by seq, filters, one resource's history, the
events after a position, and the provisioning summary."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, insert

from db.activity import sequence_events
from db.activity_reads import (
    ActivityFilterSpec,
    activity_page,
    count_activity,
    detail_pattern,
    events_after,
    has_unnumbered,
    latest_resource_id,
    latest_seq,
    provisioning_summary,
    resource_activity_pages,
    user_changes_after,
)
from db.database import Database
from db.org_changes import tenant_versions
from db.tables import activity_events
from db.tenants import create_tenant
from tests.activity_rows import event_row, insert_events
from tests.db.test_directory_order_index import captured_statement, explain
from tests.directory_rows import count_statements

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def tenants(database: Database) -> tuple[int, int]:
    def work(connection: Connection) -> tuple[int, int]:
        return create_tenant(connection, "acme").id, create_tenant(connection, "globex").id

    return database.write_sync(work)


def all_pages(
    database: Database, tenant_id: int, spec: ActivityFilterSpec, first: int
) -> tuple[list[int], int]:
    """Every seq of the list, page by page, and the number of pages read."""
    seqs: list[int] = []
    before = None
    pages = 0
    while True:
        page = database.read_sync(
            lambda c, b=before: activity_page(c, tenant_id, spec, first=first, before=b)
        )
        pages += 1
        seqs.extend(event.seq for event in page.events)
        if not page.has_next:
            return seqs, pages
        before = page.events[-1].seq


@pytest.fixture
def mixed_log(database: Database) -> dict[str, Any]:
    """30 events of acme over 30 minutes (users and groups, all operations, some failures, one
    request with three events), 5 of globex, and 2 of acme still unnumbered."""
    acme, globex = tenants(database)
    ada, team = "ada-id", "team-id"
    operations = ["CREATE", "REPLACE", "UPDATE", "DELETE"]
    events: list[dict[str, Any]] = []
    for n in range(30):
        failed = n % 7 == 3
        events.append(
            {
                "occurred_at": T0 + timedelta(minutes=n),
                "operation": operations[n % 4],
                "outcome": "FAILURE" if failed else "SUCCESS",
                "resource_type": "Group" if n % 5 == 0 else "User",
                "resource_id": team if n % 5 == 0 else (ada if n % 3 == 0 else f"user-{n}"),
                "request_id": "shared-request" if n in (10, 11, 12) else f"request-{n}",
                "status": 409 if failed else None,
            }
        )

    def work(connection: Connection) -> None:
        insert_events(connection, acme, events)
        insert_events(connection, globex, [{"resource_id": ada} for _ in range(5)])
        connection.execute(
            insert(activity_events),
            [event_row(acme, None, resource_id=ada), event_row(acme, None, resource_id=ada)],
        )

    database.write_sync(work)
    return {"acme": acme, "globex": globex, "events": events, "ada": ada, "team": team}


def expected(events: list[dict[str, Any]], keep: Any) -> list[int]:
    """Seqs (1-based positions) of the events ``keep`` accepts, newest first."""
    return [n + 1 for n, event in reversed(list(enumerate(events))) if keep(event)]


def test_pages_go_newest_first_without_gaps_or_repeats(
    database: Database, mixed_log: dict[str, Any]
) -> None:
    for first in (1, 7, 30, 100):
        seqs, pages = all_pages(database, mixed_log["acme"], ActivityFilterSpec(), first)
        assert seqs == list(range(30, 0, -1))  # unnumbered events and globex's are not listed
        assert pages == max(1, -(-30 // first))


@pytest.mark.parametrize(
    ("spec", "keep"),
    [
        (ActivityFilterSpec(resource_id="ada-id"), lambda e: e["resource_id"] == "ada-id"),
        (ActivityFilterSpec(resource_type="Group"), lambda e: e["resource_type"] == "Group"),
        (
            ActivityFilterSpec(operations=frozenset({"CREATE", "DELETE"})),
            lambda e: e["operation"] in ("CREATE", "DELETE"),
        ),
        (ActivityFilterSpec(operations=frozenset()), lambda e: False),
        (ActivityFilterSpec(outcome="FAILURE"), lambda e: e["outcome"] == "FAILURE"),
        (
            ActivityFilterSpec(since=T0 + timedelta(minutes=5), until=T0 + timedelta(minutes=9)),
            lambda e: T0 + timedelta(minutes=5) <= e["occurred_at"] < T0 + timedelta(minutes=9),
        ),
        (
            ActivityFilterSpec(request_id="shared-request"),
            lambda e: e["request_id"] == "shared-request",
        ),
        (
            ActivityFilterSpec(resource_id="ada-id", outcome="SUCCESS", resource_type="User"),
            lambda e: e["resource_id"] == "ada-id" and e["outcome"] == "SUCCESS",
        ),
    ],
)
def test_filters(
    database: Database, mixed_log: dict[str, Any], spec: ActivityFilterSpec, keep: Any
) -> None:
    acme = mixed_log["acme"]
    want = expected(mixed_log["events"], keep)
    seqs, _ = all_pages(database, acme, spec, 4)
    assert seqs == want
    assert database.read_sync(lambda c: count_activity(c, acme, spec)) == len(want)


def test_another_tenant_sees_none_of_the_events(
    database: Database, mixed_log: dict[str, Any]
) -> None:
    globex = mixed_log["globex"]
    seqs, _ = all_pages(database, globex, ActivityFilterSpec(), 100)
    assert seqs == [5, 4, 3, 2, 1]
    page = database.read_sync(
        lambda c: activity_page(
            c, globex, ActivityFilterSpec(request_id="shared-request"), first=10, before=None
        )
    )
    assert page.events == []


def test_a_page_is_one_statement(database: Database, mixed_log: dict[str, Any]) -> None:
    spec = ActivityFilterSpec(resource_id=mixed_log["ada"], outcome="SUCCESS")
    with count_statements(*database.engines) as log:
        database.read_sync(lambda c: activity_page(c, mixed_log["acme"], spec, first=5, before=20))
    assert log.count == 1


@pytest.mark.parametrize(
    ("spec", "index"),
    [
        (ActivityFilterSpec(), "ux_activity_tenant_seq"),
        (ActivityFilterSpec(outcome="FAILURE"), "ux_activity_tenant_seq"),
    ],
)
def test_a_page_walks_an_index_in_order(
    database: Database, mixed_log: dict[str, Any], spec: ActivityFilterSpec, index: str
) -> None:
    statement, parameters = captured_statement(
        database,
        "ORDER BY",
        lambda c: activity_page(c, mixed_log["acme"], spec, first=10, before=25),
    )
    described = " ".join(explain(database, statement, parameters))
    assert index in described, described
    assert "TEMP B-TREE" not in described.upper()  # SQLite: no sort step
    assert "Sort" not in described.split("Index")[0]  # PostgreSQL: no Sort above the scan


def test_one_resources_page_walks_its_own_index(database: Database) -> None:
    """A page of one resource's events reads that resource's range of
    ix_activity_tenant_resource, in order. Measured on a log where the resource is one of
    many, with statistics: on a log of a few dozen events both indexes cost the same to the
    PostgreSQL planner, and which one it takes depends on what earlier tests left in the
    statistics."""
    acme, _ = tenants(database)
    others = [{"resource_id": f"user-{n % 400}"} for n in range(3000)]
    mine = [{"resource_id": "ada-id"} for _ in range(20)]
    database.write_sync(lambda c: insert_events(c, acme, [*others[:1500], *mine, *others[1500:]]))
    if not database.is_sqlite:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE activity_event")
    spec = ActivityFilterSpec(resource_id="ada-id")
    for before in (None, 2000):
        statement, parameters = captured_statement(
            database,
            "ORDER BY",
            lambda c, before=before: activity_page(c, acme, spec, first=10, before=before),
        )
        described = " ".join(explain(database, statement, parameters))
        assert "ix_activity_tenant_resource" in described, described
        assert "TEMP B-TREE" not in described.upper()  # SQLite: no sort step
        assert "Sort" not in described.split("Index")[0]  # PostgreSQL: no Sort above the scan


def test_the_history_of_many_resources_is_one_statement(
    database: Database, mixed_log: dict[str, Any]
) -> None:
    acme, events = mixed_log["acme"], mixed_log["events"]
    ids = ["ada-id", "user-1", "user-2", "nobody"]
    with count_statements(*database.engines) as log:
        pages = database.read_sync(
            lambda c: resource_activity_pages(
                c, acme, ids, resource_type="User", first=3, before=None
            )
        )
    assert log.count == 1
    for resource_id in ids:
        want = expected(events, lambda e, r=resource_id: e["resource_id"] == r)
        assert [e.seq for e in pages[resource_id].events] == want[:3]
        assert pages[resource_id].has_next == (len(want) > 3)
        # one resource alone pages the same way, by its own statement
        alone = database.read_sync(
            lambda c, r=resource_id: resource_activity_pages(
                c, acme, [r], resource_type="User", first=3, before=None
            )
        )
        assert alone[resource_id] == pages[resource_id]
    # the next page of ada's history continues below the last seq shown
    ada = expected(events, lambda e: e["resource_id"] == "ada-id")
    later = database.read_sync(
        lambda c: resource_activity_pages(
            c, acme, ["ada-id", "user-1"], resource_type="User", first=3, before=ada[2]
        )
    )
    assert [e.seq for e in later["ada-id"].events] == ada[3:6]
    # a group id asked for as a User finds nothing
    groups = database.read_sync(
        lambda c: resource_activity_pages(
            c, acme, ["team-id", "ada-id"], resource_type="User", first=3, before=None
        )
    )
    assert groups["team-id"].events == []


def test_events_after_a_position_come_oldest_first(
    database: Database, mixed_log: dict[str, Any]
) -> None:
    acme = mixed_log["acme"]
    after = database.read_sync(
        lambda c: events_after(c, acme, ActivityFilterSpec(), after=25, limit=3)
    )
    assert [e.seq for e in after] == [26, 27, 28]
    assert database.read_sync(lambda c: latest_seq(c, acme)) == 30
    failures = database.read_sync(
        lambda c: events_after(c, acme, ActivityFilterSpec(outcome="FAILURE"), after=0, limit=99)
    )
    assert [e.seq for e in failures] == [n + 1 for n in range(30) if n % 7 == 3]


def test_the_changes_of_one_attribute_after_a_position_come_newest_first(
    database: Database,
) -> None:
    acme, globex = tenants(database)
    manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"

    def change(attribute: str, old: object = None, new: object = "x") -> dict[str, Any]:
        return {"attribute": attribute, "oldValue": old, "newValue": new}

    moves = [change(manager, "m1", "m2")]
    log = [
        {"resource_id": "u1", "changes": moves},  # 1: before the position
        {"resource_id": "u1", "changes": [change("title"), change(manager, None, "m1")]},
        {"resource_id": "u2", "changes": [change("title", "Manager", "manager")]},
        {"resource_id": "u3", "changes": moves, "outcome": "FAILURE", "status": 409},
        {"resource_id": "g1", "changes": moves, "resource_type": "Group"},
        {"resource_id": "u4", "changes": [change("nick_name")]},
        {"resource_id": "u5", "changes": [change("nickXname"), change("title", None, manager)]},
        {"resource_id": "u6", "changes": moves, "operation": "DELETE"},
        {"resource_id": "u7", "changes": None},
    ]

    def work(connection: Connection) -> None:
        insert_events(connection, acme, log)
        insert_events(connection, globex, [{"resource_id": "u1", "changes": moves}])

    database.write_sync(work)
    found = database.read_sync(lambda c: user_changes_after(c, acme, 1, manager))
    # The path as a value (u5) is the caller's to tell apart; a title of "Manager" is not it.
    assert [user_id for user_id, _ in found] == ["u6", "u5", "u1"]
    assert found[-1][1] == log[1]["changes"]
    # LIKE's wildcards in the attribute are matched as themselves.
    wild = database.read_sync(lambda c: user_changes_after(c, acme, 0, "nick_name"))
    assert [user_id for user_id, _ in wild] == ["u4"]
    assert database.read_sync(lambda c: user_changes_after(c, globex, 0, manager)) == [
        ("u1", moves)
    ]


def test_a_records_values(database: Database) -> None:
    acme, _ = tenants(database)
    changes = [
        {"attribute": "active", "oldValue": True, "newValue": False},
        {"attribute": 'emails[type eq "work"].value', "oldValue": None, "newValue": "a@b.c"},
    ]
    database.write_sync(
        lambda c: insert_events(
            c,
            acme,
            [
                {
                    "occurred_at": T0,
                    "changes": changes,
                    "operation": "UPDATE",
                    "resource_type": "Group",
                    "members_added": ["u1", "u2"],
                    "members_removed": ["u3"],
                    "member_change_count": 1503,
                    "client_request_id": "entra-42",
                }
            ],
        )
    )
    (event,) = database.read_sync(
        lambda c: activity_page(c, acme, ActivityFilterSpec(), first=1, before=None)
    ).events
    assert event.occurred_at == T0
    assert event.changes == changes
    assert (event.members_added, event.members_removed) == (["u1", "u2"], ["u3"])
    assert event.member_change_count == 1503
    assert event.client_request_id == "entra-42"


def test_a_deleted_users_id_is_found_by_its_user_name(database: Database) -> None:
    acme, globex = tenants(database)

    def work(connection: Connection) -> None:
        insert_events(
            connection,
            acme,
            [
                {"resource_id": "old-ada", "resource_name": "ada@contoso.com"},
                {"resource_id": "new-ada", "resource_name": "Ada@Contoso.com"},
                {
                    "resource_id": "grp",
                    "resource_name": "ada@contoso.com",
                    "resource_type": "Group",
                },
            ],
        )
        insert_events(connection, globex, [{"resource_id": "x", "resource_name": "bob@x.com"}])

    database.write_sync(work)
    found = database.read_sync(lambda c: latest_resource_id(c, acme, "User", "ADA@contoso.com"))
    assert found == "new-ada"
    assert database.read_sync(lambda c: latest_resource_id(c, acme, "User", "bob@x.com")) is None


@pytest.mark.parametrize(
    ("detail", "pattern"),
    [
        ("userName 'ada@contoso.com' already exists", "userName … already exists"),
        (
            'no user "0b7c6c1e-9a43-4b4e-8a5e-2f0c3c1d9e11" in this tenant',
            "no user … in this tenant",
        ),
        (
            "manager 0b7c6c1e-9a43-4b4e-8a5e-2f0c3c1d9e11 is not a user of this tenant",
            "manager … is not a user of this tenant",
        ),
        ("operation 3: unknown attribute", "operation …: unknown attribute"),
        (
            "request body exceeds the limit of 1048576 bytes",
            "request body exceeds the limit of … bytes",
        ),
        ("write to ada@contoso.com refused", "write to … refused"),
        (None, None),
    ],
)
def test_detail_patterns_blank_what_varies(detail: str | None, pattern: str | None) -> None:
    assert detail_pattern(detail) == pattern


def test_the_provisioning_summary(database: Database) -> None:
    acme, globex = tenants(database)
    since = T0 + timedelta(hours=1)
    before_window = [{"occurred_at": T0, "outcome": "FAILURE", "status": 500}]
    in_window: list[dict[str, Any]] = []
    minute = iter(range(1, 1000))

    def at() -> datetime:
        return since + timedelta(minutes=next(minute))

    in_window += [{"occurred_at": at(), "operation": "CREATE"} for _ in range(6)]
    in_window += [{"occurred_at": at(), "operation": "UPDATE"} for _ in range(3)]
    for name in ("ada", "alan", "grace", "edsger"):
        in_window.append(
            {
                "occurred_at": at(),
                "operation": "CREATE",
                "outcome": "FAILURE",
                "status": 409,
                "scim_type": "uniqueness",
                "detail": f"userName '{name}@contoso.com' already exists",
            }
        )
    for n in range(2):
        in_window.append(
            {
                "occurred_at": at(),
                "operation": "UPDATE",
                "outcome": "FAILURE",
                "status": 400,
                "scim_type": "invalidValue",
                "detail": f"operation {n}: manager 'x{n}' is not a user of this tenant",
            }
        )
    reasons_of_one = [
        (412, None, "the resource changed: If-Match does not name its current version"),
        (404, None, "no user 'a'"),
        (400, "invalidSyntax", "malformed JSON: Expecting value: line 1 column 5 (char 4)"),
        (400, "invalidPath", "add members with path 'members' and a value list"),
    ]
    for status, scim_type, detail in reasons_of_one:
        in_window.append(
            {
                "occurred_at": at(),
                "operation": "REPLACE",
                "outcome": "FAILURE",
                "status": status,
                "scim_type": scim_type,
                "detail": detail,
            }
        )
    last = at()
    in_window.append({"occurred_at": last, "operation": "DELETE"})

    def work(connection: Connection) -> None:
        insert_events(connection, acme, before_window + in_window)
        insert_events(connection, globex, [{"occurred_at": at(), "outcome": "FAILURE"}] * 3)
        connection.execute(insert(activity_events), [event_row(acme, None, occurred_at=at())])

    database.write_sync(work)
    with count_statements(*database.engines) as log:
        summary = database.read_sync(lambda c: provisioning_summary(c, acme, since))
    assert log.count == 1
    counts = {(c.operation, c.outcome): c.count for c in summary.counts}
    assert len(summary.counts) == 8
    assert counts == {
        ("CREATE", "SUCCESS"): 6,
        ("CREATE", "FAILURE"): 4,
        ("REPLACE", "SUCCESS"): 0,
        ("REPLACE", "FAILURE"): 4,
        ("UPDATE", "SUCCESS"): 3,
        ("UPDATE", "FAILURE"): 2,
        ("DELETE", "SUCCESS"): 1,
        ("DELETE", "FAILURE"): 0,
    }
    assert summary.total == 20
    assert summary.failures == 10
    assert summary.failure_ratio == 0.5
    assert summary.last_event_at == last  # the unnumbered and globex's later events are not
    top = [(r.status, r.scim_type, r.detail_pattern, r.count) for r in summary.failure_reasons]
    assert top[:2] == [
        (409, "uniqueness", "userName … already exists", 4),
        (400, "invalidValue", "operation …: manager … is not a user of this tenant", 2),
    ]
    # then three of the four single reasons, the most recent first
    assert len(top) == 5
    assert [reason[3] for reason in top[2:]] == [1, 1, 1]
    assert top[2][2] == "add members with path … and a value list"
    assert top[3][2] == "malformed JSON: Expecting value: line … column … (char …)"
    assert summary.failure_reasons[0].last_seen == in_window[12]["occurred_at"]


def test_an_empty_summary(database: Database) -> None:
    acme, _ = tenants(database)
    summary = database.read_sync(lambda c: provisioning_summary(c, acme, T0))
    assert summary.total == summary.failures == 0
    assert summary.failure_ratio == 0.0
    assert summary.failure_reasons == []
    assert summary.last_event_at is None


def test_events_waiting_for_their_number(database: Database, mixed_log: dict[str, Any]) -> None:
    assert database.read_sync(lambda c: has_unnumbered(c, mixed_log["acme"])) is True
    assert database.read_sync(lambda c: has_unnumbered(c, mixed_log["globex"])) is False
    # the versions' statement of a GraphQL request tells the same, per tenant
    for slug, waiting in (("acme", True), ("globex", False)):
        versions = database.read_sync(lambda c, slug=slug: tenant_versions(c, mixed_log[slug]))
        assert versions.unnumbered_events is waiting
    database.write_sync(lambda c: sequence_events(c, mixed_log["acme"]))
    assert database.read_sync(lambda c: has_unnumbered(c, mixed_log["acme"])) is False
    versions = database.read_sync(lambda c: tenant_versions(c, mixed_log["acme"]))
    assert versions.unnumbered_events is False


def test_the_versions_ask_an_index_whether_events_wait(database: Database) -> None:
    """Every GraphQL request reads the versions: whether events wait is one index probe (the
    partial index of the waiting events, or the tenant's NULLs of ux_activity_tenant_seq,
    which both databases pick), never a walk over the tenant's log. Measured on a log of
    thousands of numbered events and a few waiting ones, with statistics."""
    acme, _ = tenants(database)

    def log(connection: Connection) -> None:
        insert_events(connection, acme, [{"resource_id": f"user-{n % 400}"} for n in range(3000)])
        connection.execute(insert(activity_events), [event_row(acme, None) for _ in range(3)])

    database.write_sync(log)
    if not database.is_sqlite:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE activity_event")
    statement, parameters = captured_statement(
        database, "tenant_org_version", lambda c: tenant_versions(c, acme)
    )
    described = " ".join(explain(database, statement, parameters))
    assert "activity_event" in described, described
    assert "SCAN activity_event" not in described  # SQLite
    assert "Seq Scan on activity_event" not in described  # PostgreSQL
    assert "ix_activity_unsequenced" in described or "ux_activity_tenant_seq" in described


def test_the_provisioning_health_reads_its_window_not_the_log(database: Database) -> None:
    """The summary and the latest failures since a time read that window's events through
    ix_activity_tenant_occurred_at, however long the log before it: a tenant Entra
    provisioned holds a few events per person from its first sync, and the health asks
    about the last day. Before the index each statement walked the tenant's whole log by
    position, testing every event's time (SQLite; PostgreSQL with statistics read the window
    through retention's index on the time alone). Measured with statistics on PostgreSQL."""
    acme, globex = tenants(database)
    start = T0 - timedelta(days=30)
    history = [
        {"occurred_at": start + timedelta(minutes=15 * n), "resource_id": f"user-{n % 400}"}
        for n in range(2880)  # 30 days, four events an hour
    ]
    since = T0 - timedelta(hours=6)
    failures = [
        {
            "occurred_at": since + timedelta(hours=n),
            "outcome": "FAILURE",
            "status": 409,
            "scim_type": "uniqueness",
            "detail": "a user with this userName already exists",
            "resource_id": None,
        }
        for n in range(3)
    ]
    old_failure = {**failures[0], "occurred_at": since - timedelta(days=3)}

    def log(connection: Connection) -> None:
        insert_events(connection, acme, [*history[:1000], old_failure, *history[1000:]])
        insert_events(connection, acme, failures)
        insert_events(connection, globex, [{**failures[0], "occurred_at": T0}])

    database.write_sync(log)
    if not database.is_sqlite:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE activity_event")

    summary = database.read_sync(lambda c: provisioning_summary(c, acme, since))
    in_window = sum(1 for event in history if event["occurred_at"] >= since)
    assert summary.total == in_window + 3
    assert summary.failures == 3
    spec = ActivityFilterSpec(outcome="FAILURE", since=since)
    page = database.read_sync(lambda c: activity_page(c, acme, spec, first=10, before=None))
    assert [event.occurred_at for event in page.events] == [
        failure["occurred_at"] for failure in reversed(failures)
    ]
    assert page.has_next is False

    reads = {
        "summary": lambda c: provisioning_summary(c, acme, since),
        "failures": lambda c: activity_page(c, acme, spec, first=10, before=None),
    }
    for name, read in reads.items():
        statement, parameters = captured_statement(database, "occurred_at >=", read)
        described = "\n".join(explain(database, statement, parameters))
        if database.is_sqlite:
            window = "ix_activity_tenant_occurred_at (tenant_id=? AND occurred_at>?)"
            assert window in described, (name, described)
            if name == "summary":  # the counts from the index alone
                assert "COVERING INDEX " + window in described, described
        else:
            # Either index on the time serves (the tenant's, or retention's with the tenant
            # as a filter, which PostgreSQL picks when one tenant holds nearly every event).
            assert "Index Cond: ((tenant_id = 1) AND (occurred_at >=" in described or (
                "Index Cond: (occurred_at >=" in described
            ), (name, described)
