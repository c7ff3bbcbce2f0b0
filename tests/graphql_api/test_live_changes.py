"""``Subscription.directoryChanges`` over real WebSockets against a real server (uvicorn in a
thread of the test process), on SQLite and PostgreSQL."""

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

import app.graphql_api.live.subscriptions as subscriptions
import app.graphql_api.manager_snapshots as manager_snapshots
from app.graphql_api.live.subtree import MANAGER_PATH
from app.settings import Settings
from db.database import Database
from db.tokens import TokenScope, list_tokens, revoke_token
from tests.conftest import TenantTokens
from tests.graphql_api.live_client import (
    Subscription,
    create_user,
    scim_client,
    set_manager,
    ws_url,
)
from tests.live_server import live_server
from tests.threads import record_where


@pytest.fixture
def base(database_url: str) -> Iterator[str]:
    with live_server(
        Settings(
            database_url=database_url,
            token_cache_seconds=1.0,
            request_log=False,
            db_analyze_seconds=0,
        ),
        ws="auto",
    ) as url:
        yield url


def test_a_subscriber_sees_a_write_and_after_resumes_exactly(
    base: str, tenant: TenantTokens
) -> None:
    with scim_client(base, tenant.scim) as scim, Subscription(base, tenant.graphql) as live:
        assert live.ack["type"] == "connection_ack"
        first = create_user(scim)
        [event] = live.events(1)
        assert (event["operation"], event["resourceId"]) == ("CREATE", first)
        more = [create_user(scim) for _ in range(4)]
        seen = live.events(4)
        assert [e["resourceId"] for e in seen] == more
        seqs = [event["seq"], *(e["seq"] for e in seen)]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == 5
    # Resume after the second event: the three logged after it, then live ones, no repeat.
    with (
        scim_client(base, tenant.scim) as scim,
        Subscription(base, tenant.graphql, {"after": seqs[1]}) as resumed,
    ):
        replayed = resumed.events(3)
        assert [e["seq"] for e in replayed] == seqs[2:]
        later = create_user(scim)
        [live_one] = resumed.events(1)
        assert live_one["resourceId"] == later
        assert live_one["seq"] > seqs[-1]


def test_a_burst_of_writes_arrives_complete_and_in_order(base: str, tenant: TenantTokens) -> None:
    with scim_client(base, tenant.scim) as scim, Subscription(base, tenant.graphql) as live:
        created = [create_user(scim) for _ in range(1000)]
        events = live.events(1000, timeout=60)
    assert [e["resourceId"] for e in events] == created
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 1000


WITH_USER = """subscription Changes {
  directoryChanges { seq resourceId user { title manager { id } } }
}"""


def _set_title(scim: httpx.Client, user_id: str, title: str) -> None:
    response = scim.patch(
        f"/scim/Users/{user_id}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": title}],
        },
    )
    assert response.status_code == 200, response.text


def test_each_event_shows_the_user_as_they_are_when_it_is_delivered(
    base: str, tenant: TenantTokens
) -> None:
    # The connection's context outlives one event: records loaded for an earlier event must
    # not be shown for a later one. Two subscribers of the process share each event's reads.
    with (
        scim_client(base, tenant.scim) as scim,
        Subscription(base, tenant.graphql, query=WITH_USER) as live,
        Subscription(base, tenant.graphql, query=WITH_USER) as other,
    ):
        boss = create_user(scim)
        person = create_user(scim, manager=boss)
        live.events(2)
        other.events(2)
        for title in ("First", "Second", "Third"):
            _set_title(scim, person, title)
            for subscription in (live, other):
                [event] = subscription.events(1)
                assert event["resourceId"] == person
                assert event["user"] == {"title": title, "manager": {"id": boss}}


def test_events_never_cross_tenants_and_types_filter(
    base: str, make_tenant: Callable[[str], TenantTokens]
) -> None:
    acme, globex = make_tenant("acme"), make_tenant("globex")
    with (
        scim_client(base, acme.scim) as acme_scim,
        scim_client(base, globex.scim) as globex_scim,
        Subscription(base, globex.graphql) as globex_live,
        Subscription(base, globex.graphql, {"types": ["GROUP"]}) as groups_only,
    ):
        create_user(acme_scim)
        mine = create_user(globex_scim)
        [event] = globex_live.events(1)
        assert event["resourceId"] == mine
        response = globex_scim.post(
            "/scim/Groups",
            json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G"},
        )
        assert response.status_code == 201
        [group_event] = groups_only.events(1)
        assert group_event["resourceType"] == "GROUP"
        assert group_event["resourceId"] == response.json()["id"]


@pytest.mark.parametrize(
    ("credentials", "code"),
    [("none", 4401), ("unknown", 4401), ("scim", 4403)],
)
def test_bad_tokens_close_the_socket(
    base: str, tenant: TenantTokens, credentials: str, code: int
) -> None:
    token = {"none": None, "unknown": "bdir_nope", "scim": tenant.scim}[credentials]
    with Subscription(base, token) as live:
        assert live.ack == {}
        assert live.closed is not None
        assert live.closed.rcvd is not None
        assert live.closed.rcvd.code == code


def test_the_upgrade_header_authenticates_too(base: str, tenant: TenantTokens) -> None:
    with (
        scim_client(base, tenant.scim) as scim,
        Subscription(base, tenant.graphql, header=True) as live,
    ):
        assert live.ack["type"] == "connection_ack"
        created = create_user(scim)
        assert live.events(1)[0]["resourceId"] == created


def test_the_legacy_protocol_is_refused(base: str) -> None:
    try:
        with connect(ws_url(base), subprotocols=["graphql-ws"]) as socket:  # type: ignore[list-item]
            assert socket.subprotocol is None
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4406
    except InvalidStatus:
        pass  # refused at the handshake: refused all the same


OPERATION = (
    Path(__file__).resolve().parents[2] / "graphql" / "operations" / "directory_changes.graphql"
).read_text()


def test_under_delivers_the_subtree_and_moves_into_and_out_of_it(
    base: str, tenant: TenantTokens
) -> None:
    with scim_client(base, tenant.scim) as scim:
        boss = create_user(scim)
        report = create_user(scim, manager=boss)
        other = create_user(scim)
        with Subscription(base, tenant.graphql, {"under": boss}, query=OPERATION) as live:
            set_manager(scim, other, None)  # outside: nothing stored changes, nothing logged
            retitle = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}
            outside = scim.patch(
                f"/scim/Users/{other}",
                json={**retitle, "Operations": [{"op": "replace", "path": "title", "value": "X"}]},
            )
            assert outside.status_code == 200
            set_manager(scim, other, report)  # moves in
            set_manager(scim, report, None)  # moves out, taking `other` along
            scim.patch(
                f"/scim/Users/{other}",
                json={**retitle, "Operations": [{"op": "replace", "path": "title", "value": "Y"}]},
            )
            final = create_user(scim, manager=boss)  # a new report
            events = live.events(3, timeout=30)
    assert [e["resourceId"] for e in events] == [other, report, final]
    assert events[0]["changes"] == [
        {"attribute": MANAGER_PATH, "oldValue": None, "newValue": report}
    ]
    assert events[2]["user"]["manager"]["id"] == boss


def test_under_knows_a_move_committed_while_the_subscription_starts(
    base: str, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user who moves into the subtree just after the subscription read the tenant's
    managers is delivered from then on: the subscription fixed the seq it starts after
    before it read them, so the move is one of its events."""
    read_subtree = subscriptions.read_subtree
    with scim_client(base, tenant.scim) as scim:
        boss = create_user(scim)
        newcomer = create_user(scim)

        moved = threading.Event()

        def read_then_move(connection: Connection, **arguments: Any) -> object:
            found = read_subtree(connection, **arguments)
            with scim_client(base, tenant.scim) as other_client:  # from the worker thread
                set_manager(other_client, newcomer, boss)
            moved.set()
            return found

        monkeypatch.setattr(subscriptions, "read_subtree", read_then_move)
        with Subscription(base, tenant.graphql, {"under": boss}, query=OPERATION) as live:
            assert moved.wait(timeout=30)  # the retitle comes after the move, however slow
            _set_title(scim, newcomer, "Arrived")
            events = live.events(2, timeout=10)
    assert [(e["resourceId"], e["operation"]) for e in events] == [
        (newcomer, "UPDATE"),
        (newcomer, "UPDATE"),
    ]
    assert events[0]["changes"] == [{"attribute": MANAGER_PATH, "oldValue": None, "newValue": boss}]


def test_a_replay_under_someone_judges_each_event_by_the_managers_of_its_time(
    base: str, tenant: TenantTokens
) -> None:
    """Replayed with ``after``, the subtree is the one at that seq, whatever the managers are
    when the subscription starts."""
    # The watch reads the tenant's log from its start: no race with its own start.
    watching = Subscription(base, tenant.graphql, {"after": 0})
    with scim_client(base, tenant.scim) as scim, watching as watch:
        boss = create_user(scim)
        report = create_user(scim, manager=boss)
        other = create_user(scim)
        start = watch.events(3)[-1]["seq"]
        set_manager(scim, other, report)  # moves in
        set_manager(scim, report, None)  # moves out, taking `other` along
        _set_title(scim, other, "Out")  # outside by then
        _set_title(scim, report, "Out")  # outside
        watch.events(4)
        # Now report and other are outside; at `start` report was inside, other was not.
        variables = {"under": boss, "after": start}
        with Subscription(base, tenant.graphql, variables, query=OPERATION) as live:
            replayed = live.events(2)
            final = create_user(scim, manager=boss)
            [later] = live.events(1)
    assert [(e["resourceId"], e["changes"][0]["attribute"]) for e in replayed] == [
        (other, MANAGER_PATH),
        (report, MANAGER_PATH),
    ]
    assert later["resourceId"] == final


def test_under_subscriptions_share_the_tenants_managers_until_the_tree_changes(
    base: str, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ``under`` subscription needs every user's manager: the subscriptions of a tenant
    read them once, and again only once the org chart has changed."""
    reads: list[int] = []
    read_edges = manager_snapshots.read_org_edges

    def counted(connection: Connection, tenant_id: int) -> Any:
        reads.append(tenant_id)
        return read_edges(connection, tenant_id)

    monkeypatch.setattr(manager_snapshots, "read_org_edges", counted)
    with scim_client(base, tenant.scim) as scim:
        boss = create_user(scim)
        report = create_user(scim, manager=boss)
        variables = {"under": boss, "after": 0}
        first = Subscription(base, tenant.graphql, variables, query=OPERATION)
        second = Subscription(base, tenant.graphql, {"under": report, "after": 0}, query=OPERATION)
        with first as one, second as two:
            assert [e["resourceId"] for e in one.events(2)] == [boss, report]
            assert [e["resourceId"] for e in two.events(1)] == [report]
            assert len(reads) == 1
            newcomer = create_user(scim, manager=report)
            assert [e["resourceId"] for e in one.events(1)] == [newcomer]
            assert [e["resourceId"] for e in two.events(1)] == [newcomer]
        with Subscription(base, tenant.graphql, variables, query=OPERATION) as three:
            assert [e["resourceId"] for e in three.events(3)] == [boss, report, newcomer]
    assert len(reads) == 2  # the newcomer changed the tree


def test_under_reads_the_tenant_in_a_worker_thread_and_names_an_unknown_id(
    base: str, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``under`` reads every user of the tenant: off the event loop, which every request of
    the process shares."""
    on_loop = record_where(monkeypatch, subscriptions, "read_subtree")
    with scim_client(base, tenant.scim) as scim:
        boss = create_user(scim)
        report = create_user(scim, manager=boss)
        create_user(scim)  # outside the subtree
        # From the start of the log: what it delivers does not race the subscription's start.
        variables = {"under": boss, "after": 0}
        with Subscription(base, tenant.graphql, variables, query=OPERATION) as live:
            events = live.events(2)
        assert [event["resourceId"] for event in events] == [boss, report]
        with Subscription(base, tenant.graphql, {"under": "nobody"}, query=OPERATION) as live:
            message = live.receive(timeout=10)
    [error] = message["payload"]["errors"]
    assert (error["message"], error["extensions"]["code"]) == (
        "under: no user has the id 'nobody'",
        "BAD_USER_INPUT",
    )
    assert on_loop == [False, False]


def test_a_revoked_token_ends_its_subscription(
    base: str, tenant: TenantTokens, database: Database
) -> None:
    with Subscription(base, tenant.graphql) as live:
        assert live.ack["type"] == "connection_ack"

        def revoke(connection: Connection) -> None:
            for token in list_tokens(connection, tenant.slug):
                if token.scope == TokenScope.GRAPHQL:
                    revoke_token(connection, token.id)

        database.write_sync(revoke)
        message = live.receive(timeout=10)  # within the cache's 1 s and the 1 s check
    assert message["type"] == "next"
    assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_subscription_over_the_cost_budget_is_refused(base: str, tenant: TenantTokens) -> None:
    nested = "directReports(first: 100) { edges { node { id %s } } }"
    query = "subscription { directoryChanges { user { %s } } }" % (
        nested % (nested % (nested % ""))
    )
    with Subscription(base, tenant.graphql, query=query) as live:
        message = live.receive(timeout=10)
    assert message["type"] in ("next", "error")
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert "exceeds the budget" in errors[0]["message"]
