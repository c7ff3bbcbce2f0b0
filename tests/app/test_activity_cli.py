"""``blink-directory activity``: the table, JSON lines, the filters, tenant isolation, and
``--follow`` printing new events until Ctrl-C."""

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from rich.console import Console
from sqlalchemy import Connection, insert
from starlette.testclient import TestClient
from typer.testing import CliRunner

from app.activity_listing import ActivityLog, event_table, parse_since, what_changed
from app.cli import cli
from db.activity_reads import ActivityFilterSpec, EventRecord
from db.database import Database
from db.tables import activity_events
from db.tenants import get_tenant
from tests.activity_rows import event_row, insert_events
from tests.conftest import TenantTokens
from tests.directory_rows import insert_users

runner = CliRunner()
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
NOW = datetime.now(UTC)


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def tenant_id(database: Database, slug: str) -> int:
    return database.read_sync(lambda c: get_tenant(c, slug).id)


@pytest.fixture
def acme_log(database: Database, make_tenant: Callable[[str], TenantTokens]) -> dict[str, Any]:
    """acme: user ada (and a deleted user gone@…) with 8 events over the last 5 hours, two
    refused; globex: 3 events of its own."""
    make_tenant("acme"), make_tenant("globex")
    acme, globex = tenant_id(database, "acme"), tenant_id(database, "globex")

    def work(connection: Connection) -> dict[str, Any]:
        (ada,) = insert_users(connection, acme, 1, prefix="ada")
        specs: list[dict[str, Any]] = [
            {"operation": "CREATE", "resource_id": ada, "resource_name": "ada0@example.com"},
            {"operation": "CREATE", "resource_id": "gone-id", "resource_name": "gone@example.com"},
            {
                "resource_id": ada,
                "resource_name": "ada0@example.com",
                "changes": [{"attribute": "title", "oldValue": "Engineer", "newValue": "CTO"}],
            },
            {
                "outcome": "FAILURE",
                "operation": "CREATE",
                "resource_id": None,
                "resource_name": None,
                "status": 409,
                "scim_type": "uniqueness",
                "detail": "userName 'ada0@example.com' already exists",
                "changes": None,
            },
            {"operation": "DELETE", "resource_id": "gone-id", "resource_name": "gone@example.com"},
            {
                "resource_type": "Group",
                "resource_id": "group-id",
                "resource_name": "Engineering",
                "changes": [],
                "members_added": [ada],
                "member_change_count": 1,
            },
            {
                "outcome": "FAILURE",
                "resource_id": ada,
                "resource_name": "ada0@example.com",
                "status": 400,
                "scim_type": "invalidValue",
                "detail": "manager 'x' is not a user of this tenant",
                "changes": None,
            },
            {
                "resource_id": ada,
                "resource_name": "ada0@example.com",
                "changes": [{"attribute": "active", "oldValue": True, "newValue": False}],
            },
        ]
        events = [
            {"occurred_at": NOW - timedelta(hours=5) + timedelta(minutes=40 * n), **spec}
            for n, spec in enumerate(specs)
        ]
        insert_events(connection, acme, events)
        insert_events(connection, globex, [{"request_id": f"globex-{n}"} for n in range(3)])
        return {"ada": ada, "events": events}

    return database.write_sync(work)


def listed(database_url: str, *options: str) -> list[dict[str, Any]]:
    code, out, err = run("activity", "--json", "--database-url", database_url, *options)
    assert code == 0, err
    return json_lines(out)


def test_json_lines_list_the_newest_oldest_first(
    database_url: str, acme_log: dict[str, Any]
) -> None:
    documents = listed(database_url, "--tenant", "acme")
    assert [d["seq"] for d in documents] == list(range(1, 9))
    limited = listed(database_url, "--tenant", "acme", "--limit", "3")
    assert [d["seq"] for d in limited] == [6, 7, 8]
    last = limited[-1]
    assert last["operation"] == "UPDATE"
    assert last["outcome"] == "SUCCESS"
    assert last["resourceType"] == "User"
    assert last["resourceId"] == acme_log["ada"]
    assert last["changes"] == [{"attribute": "active", "oldValue": True, "newValue": False}]
    assert last["actor"] == {"tokenId": 1, "name": "Entra provisioning"}
    assert datetime.fromisoformat(last["occurredAt"]) == acme_log["events"][7]["occurred_at"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (("--failures",), [4, 7]),
        (("--user", "ada0@example.com"), [1, 3, 7, 8]),
        (("--user", "ADA0@EXAMPLE.COM", "--failures"), [7]),
        (("--user", "gone@example.com"), [2, 5]),  # deleted: found by its events
        (("--user", "gone-id"), [2, 5]),
        (("--since", "2h"), [6, 7, 8]),
        (("--since", "150m", "--limit", "2"), [7, 8]),
    ],
)
def test_filters(
    database_url: str, acme_log: dict[str, Any], options: tuple[str, ...], expected: list[int]
) -> None:
    assert [d["seq"] for d in listed(database_url, "--tenant", "acme", *options)] == expected


def test_user_by_id_and_since_an_iso_time(database_url: str, acme_log: dict[str, Any]) -> None:
    since = (NOW - timedelta(minutes=130)).isoformat()
    documents = listed(
        database_url, "--tenant", "acme", "--user", acme_log["ada"], "--since", since
    )
    assert [d["seq"] for d in documents] == [7, 8]


def test_the_table(database_url: str, acme_log: dict[str, Any]) -> None:
    code, out, _ = run("activity", "--tenant", "acme", "--database-url", database_url)
    assert code == 0
    header, *_ = out.splitlines()
    for column in ("time (UTC)", "operation", "resource", "outcome", "what changed"):
        assert column in header
    for fragment in ("ada0@example.com", "FAILURE 409", "Engineering", "SUCCESS"):
        assert fragment in out
    # oldest first
    assert out.index("gone@example.com") < out.index("Engineering")


def test_a_tables_rows(database: Database, acme_log: dict[str, Any]) -> None:
    log = ActivityLog(database, tenant_id(database, "acme"), ActivityFilterSpec())
    events, _ = log.newest(10)
    console = Console(width=200, record=True)
    console.print(event_table(events))
    _header, _rule, *rows = console.export_text().splitlines()
    assert len(rows) == 8  # one per event, none wrapped
    assert "User ada0@example.com" in rows[2]
    assert 'title: "Engineer" → "CTO"' in rows[2]
    assert "FAILURE 409" in rows[3]
    assert "uniqueness: userName 'ada0@" in rows[3]
    assert "Group Engineering" in rows[5]
    assert "members +1 -0" in rows[5]
    later = Console(width=200, record=True)
    later.print(event_table(events[-1:], header=False))
    # rows printed by --follow line up under the table's columns
    (follow_row,) = later.export_text().splitlines()
    assert follow_row.index("UPDATE") == rows[-1].index("UPDATE")
    assert follow_row.index("SUCCESS") == rows[-1].index("SUCCESS")


def test_another_tenant_never_sees_an_event(database_url: str, acme_log: dict[str, Any]) -> None:
    documents = listed(database_url, "--tenant", "globex")
    assert [d["requestId"] for d in documents] == ["globex-0", "globex-1", "globex-2"]
    # acme's user is nobody in globex
    code, _, err = run(
        "activity", "--tenant", "globex", "--user", acme_log["ada"], "--database-url", database_url
    )
    assert code == 1
    assert err == f"error: no user {acme_log['ada']!r} in tenant 'globex'\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--tenant", "nope"), "error: no tenant 'nope'"),
        ((), "error: --tenant is required"),
        (("--tenant", "acme", "--since", "yesterday"), "error: --since 'yesterday'"),
        (("--tenant", "acme", "--user", "nobody@example.com"), "error: no user 'nobody@"),
    ],
)
def test_bad_options_are_one_line(
    database_url: str, acme_log: dict[str, Any], options: tuple[str, ...], message: str
) -> None:
    code, _, err = run("activity", *options, "--database-url", database_url)
    assert code == 1
    assert err.startswith(message)
    assert len(err.splitlines()) == 1


def test_an_empty_log(database_url: str, make_tenant: Callable[[str], TenantTokens]) -> None:
    make_tenant("acme")
    code, out, _ = run("activity", "--tenant", "acme", "--database-url", database_url)
    assert (code, out) == (0, "no matching events\n")
    assert listed(database_url, "--tenant", "acme") == []


def test_parse_since() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("45s", now) == now - timedelta(seconds=45)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("1w", now) == now - timedelta(weeks=1)
    assert parse_since("2026-11-29T10:00:00", now) == datetime(2026, 11, 29, 10, tzinfo=UTC)
    assert parse_since("2026-11-29T11:00:00+01:00", now) == datetime(2026, 11, 29, 10, tzinfo=UTC)
    for bad in ("2", "h", "-2h", "2 hours", "tomorrow"):
        with pytest.raises(ValueError, match="give a duration"):
            parse_since(bad, now)


def record(**values: Any) -> EventRecord:
    row = event_row(1, 1, **values)
    return EventRecord(**{k: v for k, v in row.items() if k in EventRecord.__slots__})


def test_what_changed_in_short() -> None:
    manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
    update = record(
        changes=[
            {"attribute": manager, "oldValue": None, "newValue": {"value": "m1"}},
            {"attribute": "name.givenName", "oldValue": "Ada", "newValue": "Augusta"},
        ]
    )
    assert what_changed(update) == (
        'manager: null → {"value":"m1"}; name.givenName: "Ada" → "Augusta"'
    )
    create = record(
        operation="CREATE",
        changes=[
            {"attribute": "userName", "oldValue": None, "newValue": "a@b.c"},
            {"attribute": "title", "oldValue": None, "newValue": "CTO"},
        ],
    )
    assert what_changed(create) == "set userName, title"
    assert what_changed(record(operation="DELETE", changes=[])) == "deleted"
    members = record(changes=[], members_added=["a", "b"], member_change_count=2)
    assert what_changed(members) == "members +2 -0"
    many = record(changes=[], members_added=["a"] * 1000, member_change_count=2500)
    assert what_changed(many) == "members +1000 -0 listed, 2500 changed in all"
    failure = record(
        outcome="FAILURE", status=412, scim_type=None, detail="the resource changed", changes=None
    )
    assert what_changed(failure) == "the resource changed"
    long = record(changes=[{"attribute": "description", "oldValue": "x" * 300, "newValue": "y"}])
    assert len(what_changed(long)) <= 120


def test_following_emits_each_new_event_once_in_order(
    database: Database, make_tenant: Callable[[str], TenantTokens]
) -> None:
    make_tenant("acme"), make_tenant("globex")
    acme, globex = tenant_id(database, "acme"), tenant_id(database, "globex")
    database.write_sync(lambda c: insert_events(c, acme, [{}, {}]))
    log = ActivityLog(database, acme, ActivityFilterSpec(outcome="SUCCESS"))
    events, position = log.newest(10)
    assert ([e.seq for e in events], position) == ([1, 2], 2)
    emitted: list[list[int]] = []
    polls = 0

    def sleep(seconds: float) -> None:
        # Between polls, writers commit events still to be numbered.
        nonlocal polls
        polls += 1
        assert seconds == 0.5
        rows = {
            1: [event_row(acme, None), event_row(acme, None, outcome="FAILURE")],
            2: [event_row(globex, None)],
            3: [event_row(acme, None)],
        }.get(polls)
        if rows:
            database.write_sync(lambda c: c.execute(insert(activity_events), rows))
        if polls == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        log.follow(position, lambda batch: emitted.append([e.seq for e in batch]), 0.5, sleep)
    assert emitted == [[3], [5]]  # 4 is acme's refusal, filtered out; globex's is not acme's


def _interruptible(command: list[str]) -> list[str]:
    """``command`` run with Ctrl-C's default disposition, as a terminal's foreground job. A test
    run started in the background of a non-interactive shell (``cmd &``) ignores SIGINT, and a
    child inherits that: its Python would never see the signal. A disposition set before
    ``exec`` carries over to the program exec'd, in the same process (no ``preexec_fn``, which
    is unsafe beside the test client's threads)."""
    reset = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    return [sys.executable, "-c", reset, *command]


def test_follow_prints_new_events_until_ctrl_c(
    database_url: str, client: TestClient, make_tenant: Callable[[str], TenantTokens]
) -> None:
    acme, globex = make_tenant("acme"), make_tenant("globex")

    def create(tokens: TenantTokens, user_name: str, request_id: str) -> None:
        response = client.post(
            "/scim/v2/Users",
            json={"schemas": [CORE_USER], "userName": user_name},
            headers={**tokens.scim_headers(), "X-Request-ID": request_id},
        )
        assert response.status_code == 201, response.text

    create(acme, "before@example.com", "before")
    command = [
        str(Path(sys.executable).with_name("blink-directory")),
        "activity",
        "--tenant",
        "acme",
        "--json",
        "--follow",
        "--interval",
        "0.1",
        "--database-url",
        database_url,
    ]
    with subprocess.Popen(
        _interruptible(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            lines, reader = line_reader(process.stdout)
            assert json.loads(lines.get(timeout=60))["requestId"] == "before"
            # SCIM writes commit while the command follows: another tenant's, then acme's
            create(globex, "other@example.com", "globex's")
            create(acme, "new@example.com", "new")
            new = json.loads(lines.get(timeout=60))
            assert (new["seq"], new["requestId"]) == (2, "new")
            assert new["resourceName"] == "new@example.com"
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
            reader.join(timeout=60)
            assert process.stderr is not None
            err = process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0
    assert "Traceback" not in err
    assert lines.empty()  # nothing else was printed (globex's event above all)


def line_reader(stream: IO[str] | None) -> tuple["queue.Queue[str]", threading.Thread]:
    """The stream's lines as they come, read by a thread (a pipe read blocks) that ends at
    the end of the stream."""
    assert stream is not None
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return lines, thread
