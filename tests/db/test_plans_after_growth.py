"""Entra's requests keep their index plans while a tenant grows, with or without statistics.

A tenant is born small: whatever statistics the database gathered then (autovacuum's ANALYZE
of a nearly empty table, or none at all where autovacuum is off) describe a few rows. Entra
then provisions tens of thousands of people one request at a time, and nothing promises a
fresh ANALYZE meanwhile. The plans of its requests must not depend on that: each one reads
what the request is about (a user, a group, a few memberships, the unnumbered activity), not
the tenant.

The test gathers statistics on a small tenant, grows it in bulk to ``GROWN`` users (with as
many activity events, ``GROWN_GROUPS`` groups and a large group), and sends one Entra
provisioning cycle through the SCIM app: look-ups, creates, a manager and a title PATCH,
group member adds and removes, a delete; then a PATCH that adds ``BULK_MEMBERS`` of the
grown users to the group at once (a client syncing a large group). Every statement the store
runs for it is explained on the spot, on its own connection and with its own parameters:

* SELECTs run under ``EXPLAIN ANALYZE`` on PostgreSQL: no step of a plan may read more than
  ``MAX_ROWS_READ`` rows of a grown table, whatever the planner estimated. Each runs twice:
  as sent, and as a prepared statement's generic plan (``plan_cache_mode =
  force_generic_plan``), which PostgreSQL may switch to after five runs of a prepared
  statement (asyncpg prepares every statement, psycopg the ones it has run five times);
* UPDATEs and DELETEs (which EXPLAIN ANALYZE would perform) must not scan a grown table
  sequentially;
* on SQLite, no statement may scan a grown table (``SCAN user``) rather than search it, nor
  search it by the tenant alone (``SEARCH group USING INDEX ... (tenant_id=?)``: the tenant's
  every row).

The same cycle then runs again after an ANALYZE of the grown tenant, as autovacuum would do.
"""

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, event, insert, text
from starlette.testclient import TestClient

from db.activity import Event, Operation, Origin, ResourceType, sequence_events
from db.database import Database
from db.tables import activity_events, group_members
from db.tenants import create_tenant
from db.types import utcnow
from tests.conftest import TenantTokens
from tests.directory_rows import insert_groups, insert_users
from tests.unnumbered_events import record_unnumbered

GROWN = 20_000
GROWN_GROUPS = 3_000
SMALL = 20
LARGE_GROUP = 5_000
#: Members one PATCH adds at once: the store checks them in chunks of this size.
BULK_MEMBERS = 1_000
# A member PATCH answers with the group, whose members come in a page of at most
# max_results (1,000): that page is what the request is about; the tenant is 20 times more.
MAX_ROWS_READ = 1_500
GROWN_TABLES = ("user", "activity_event", "group_member", "group")
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ORIGIN = Origin(request_id="burst", actor_name="entra")
BURST_EVENT = Event(Operation.CREATE, ResourceType.USER, "someone", "someone@contoso.com")
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MANAGER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"


#: A WITH statement that writes (PostgreSQL's user writes carry their stripe bump and event
#: as data-modifying CTEs): explained without ANALYZE, which would run it a second time.
_MODIFYING = re.compile(r"\b(INSERT INTO|UPDATE|DELETE FROM)\b")
#: A search of a table's index by the tenant alone: the tenant's every row, in that index.
_TENANT_RANGE = re.compile(r"SEARCH (\w+) USING (?:COVERING )?INDEX \w+ \(tenant_id=\?\)$")


class PlanLog:
    """Every statement of the engines, explained right after it ran."""

    def __init__(self, database: Database, tables: tuple[str, ...] = GROWN_TABLES) -> None:
        self.database = database
        self.tables = tables
        self.findings: list[str] = []
        self.explained = 0

    def __call__(
        self, conn: Connection, cursor: Any, statement: str, parameters: Any, *_: Any
    ) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb not in {"SELECT", "WITH", "UPDATE", "DELETE"}:
            return
        if "pg_advisory_xact_lock" in statement or "pg_notify" in statement:
            return
        self.explained += 1
        own = conn.connection.cursor()  # the statement's own connection, a cursor of its own
        try:
            if self.database.is_sqlite:
                own.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                self._check_sqlite(statement, [str(row[-1]) for row in own.fetchall()])
            elif verb == "SELECT" or (verb == "WITH" and not _MODIFYING.search(statement)):
                own.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
                self._check_postgres_reads(statement, _plan_of(own.fetchall()[0][0]))
                own.execute("SET plan_cache_mode = force_generic_plan")
                try:
                    # asyncpg prepares every statement; psycopg is asked to.
                    prepared = {"prepare": True} if _is_psycopg(own) else {}
                    own.execute(
                        "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters, **prepared
                    )
                    self._check_postgres_reads(
                        "(generic plan) " + statement, _plan_of(own.fetchall()[0][0])
                    )
                finally:
                    own.execute("RESET plan_cache_mode")
            else:
                own.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
                self._check_postgres_writes(statement, _plan_of(own.fetchall()[0][0]))
        finally:
            own.close()

    def _check_sqlite(self, statement: str, lines: list[str]) -> None:
        for line in lines:
            match = re.match(r"SCAN (\w+)", line) or _TENANT_RANGE.match(line)
            if match and match.group(1) in self.tables:
                self.findings.append(f"{line!r} in {statement}")

    def _check_postgres_reads(self, statement: str, plan: dict[str, Any]) -> None:
        for node in _nodes(plan):
            table = node.get("Relation Name")
            if table not in self.tables:
                continue
            read = node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
            read += node.get("Rows Removed by Filter", 0) + node.get(
                "Rows Removed by Index Recheck", 0
            )
            if read > MAX_ROWS_READ:
                self.findings.append(
                    f"{node['Node Type']} on {table} ({node.get('Index Name')}) read {read} rows"
                    f" in {statement}"
                )

    def _check_postgres_writes(self, statement: str, plan: dict[str, Any]) -> None:
        for node in _nodes(plan):
            if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in self.tables:
                self.findings.append(f"Seq Scan on {node['Relation Name']} in {statement}")


def _is_psycopg(cursor: Any) -> bool:
    return type(cursor).__module__.startswith("psycopg")


def _plan_of(explained: Any) -> dict[str, Any]:
    document = json.loads(explained) if isinstance(explained, str) else explained
    return dict(document[0]["Plan"])


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def grow(connection: Connection, tenant_id: int, group_id: str) -> list[str]:
    """The small tenant grows to ``GROWN`` users, as many events, ``GROWN_GROUPS`` groups and
    a large group; the grown users' ids."""
    ids = insert_users(connection, tenant_id, GROWN, prefix="grown", display_names=True)
    insert_groups(connection, tenant_id, GROWN_GROUPS, prefix="Grown group")
    now = utcnow()
    last = connection.execute(
        text("SELECT coalesce(max(seq), 0) FROM activity_event WHERE tenant_id = :t"),
        {"t": tenant_id},
    ).scalar_one()
    events = [
        {
            "tenant_id": tenant_id,
            "seq": last + number + 1,
            "occurred_at": now,
            "actor_name": "entra",
            "request_id": str(uuid.uuid4()),
            "operation": "CREATE",
            "outcome": "SUCCESS",
            "resource_type": "User",
            "resource_id": user_id,
            "resource_name": f"grown{number}@example.com",
            "member_change_count": 0,
        }
        for number, user_id in enumerate(ids)
    ]
    for start in range(0, len(events), 5000):
        connection.execute(insert(activity_events), events[start : start + 5000])
    connection.execute(
        insert(group_members), [{"group_id": group_id, "user_id": i} for i in ids[:LARGE_GROUP]]
    )
    return ids


def analyze(database: Database) -> None:
    database.write_sync(lambda c: c.exec_driver_sql("ANALYZE"))


def provisioning_cycle(scim: TestClient, round_: str, group_id: str) -> None:
    """One Entra cycle over new and existing people, as the dialect reference shows it."""
    manager_id = ""
    for number in range(3):
        user_name = f"{round_}-{number}@contoso.com"
        found = scim.get("/scim/Users", params={"filter": f'userName eq "{user_name}"'})
        assert found.status_code == 200
        assert found.json()["totalResults"] == 0
        created = scim.post(
            "/scim/Users",
            json={
                "schemas": [USER_SCHEMA],
                "userName": user_name,
                "active": True,
                "displayName": f"{round_} {number}",
                "emails": [{"type": "work", "primary": True, "value": user_name}],
            },
        )
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        if manager_id:
            patched = scim.patch(
                f"/scim/Users/{user_id}",
                json={
                    "schemas": [PATCH_SCHEMA],
                    "Operations": [{"op": "Add", "path": MANAGER, "value": manager_id}],
                },
            )
            assert patched.status_code in (200, 204), patched.text
        manager_id = user_id
        assert scim.get(f"/scim/Users/{user_id}").status_code == 200
        title = scim.patch(
            f"/scim/Users/{user_id}",
            json={
                "schemas": [PATCH_SCHEMA],
                "Operations": [{"op": "Replace", "path": "title", "value": "Engineer"}],
            },
        )
        assert title.status_code in (200, 204), title.text
        in_group = scim.get(
            "/scim/Groups",
            params={
                "filter": f'id eq "{group_id}" and members[value eq "{user_id}"]',
                "excludedAttributes": "members",
            },
        )
        assert in_group.status_code == 200
        assert in_group.json()["totalResults"] == 0
        for op in ("Add", "Remove"):
            member = scim.patch(
                f"/scim/Groups/{group_id}",
                json={
                    "schemas": [PATCH_SCHEMA],
                    "Operations": [{"op": op, "path": "members", "value": [{"value": user_id}]}],
                },
            )
            assert member.status_code in (200, 204), member.text
    lookup = scim.get(
        "/scim/Groups",
        params={"filter": 'displayName eq "Everyone"', "excludedAttributes": "members"},
    )
    assert lookup.status_code == 200
    assert lookup.json()["totalResults"] == 1
    read = scim.get(f"/scim/Groups/{group_id}", params={"excludedAttributes": "members"})
    assert read.status_code == 200
    assert "members" not in read.json()
    assert scim.delete(f"/scim/Users/{manager_id}").status_code == 204


@pytest.mark.slow
def test_entra_cycle_keeps_index_plans_as_the_tenant_grows(
    database: Database, scim: TestClient, tenant: TenantTokens
) -> None:
    group = scim.post(
        "/scim/Groups",
        json={"schemas": [GROUP_SCHEMA], "displayName": "Everyone"},
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    provisioning_cycle(scim, "small", group_id)
    for number in range(SMALL):
        scim.post("/scim/Users", json={"schemas": [USER_SCHEMA], "userName": f"s{number}@c.com"})
        # A few groups too: with one, every (tenant_id, ...) group index costs the same as
        # the one a look-up names, and PostgreSQL's choice between them is a toss-up.
        if number % 4 == 0:
            scim.post(
                "/scim/Groups",
                json={"schemas": [GROUP_SCHEMA], "displayName": f"Small group {number}"},
            )
    # Statistics of the small tenant, as an early autovacuum would leave them: taken while
    # another tenant's burst of events still waited for its numbers (most ``seq`` NULL).
    other = database.write_sync(lambda c: create_tenant(c, "other").id)
    database.write_sync(lambda c: record_unnumbered(c, other, ORIGIN, [BURST_EVENT] * 500))
    analyze(database)
    assert database.write_sync(lambda c: sequence_events(c, other)) == 500
    tenant_id = database.read_sync(
        lambda c: c.execute(
            text("SELECT id FROM tenant WHERE slug = :s"), {"s": tenant.slug}
        ).scalar_one()
    )
    grown = database.write_sync(lambda c: grow(c, tenant_id, group_id))
    # Not members yet: a batch for each round.
    batches = iter(
        grown[start : start + BULK_MEMBERS]
        for start in range(LARGE_GROUP, LARGE_GROUP + 2 * BULK_MEMBERS, BULK_MEMBERS)
    )

    for round_, gather in (("stale", False), ("fresh", True)):
        if gather:
            analyze(database)
        served: Database = scim.app.state.database  # type: ignore[attr-defined]
        tables: tuple[str, ...] = GROWN_TABLES
        if served.is_sqlite:
            # SQLite follows statistics that say the tenant has one group: it scans ``group``
            # for any join with it, the membership's and the listed ids' alike. Its
            # connections keep the statistics they loaded until their schema changes, so the
            # app's see the small tenant's in both rounds. The app gathers none on SQLite
            # (db.statistics); the plans without any, SQLite's own state, are
            # test_group_lookups'.
            tables = tuple(table for table in GROWN_TABLES if table != "group")
        log = PlanLog(served, tables)
        for engine in served.engines:
            event.listen(engine, "after_cursor_execute", log)
        try:
            provisioning_cycle(scim, round_, group_id)
            bulk = scim.patch(
                f"/scim/Groups/{group_id}",
                json={
                    "schemas": [PATCH_SCHEMA],
                    "Operations": [
                        {
                            "op": "Add",
                            "path": "members",
                            "value": [{"value": user_id} for user_id in next(batches)],
                        }
                    ],
                },
            )
            assert bulk.status_code in (200, 204), bulk.text
        finally:
            for engine in served.engines:
                event.remove(engine, "after_cursor_execute", log)
        assert log.explained >= 20, "the cycle's statements were not seen"
        assert log.findings == [], f"{round_} statistics:\n" + "\n".join(log.findings)
