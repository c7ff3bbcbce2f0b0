"""Checks that the benchmark measures what production would hold.

``check_bulk_rows`` provisions a few users and a group through the SCIM API exactly as Entra
does (POST, then a manager PATCH; a group POST, then a PATCH adding its members; a create
repeated after a lost answer), reads back the rows and the activity log the service stored,
and compares them, column by column and event by event, with what ``bench.rows`` and
``bench.history`` build for the bulk path. Identity and meta columns (id, tenant,
timestamps) and each event's request, time and position are left out: they differ by
construction.
"""

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from bench import store
from bench.client import HttpConnection
from bench.dataset import ENTERPRISE, Org, generate, scim_document
from bench.history import BenchGroup, group_events, refused_create, user_events
from bench.rows import group_row, user_row
from bench.scim_load import PATCH_OP, sync
from bench.servers import HOST, serve
from db.activity import EVENT_PARAMETER, Event, Origin, event_values
from db.database import Database
from db.tables import activity_events, groups, users
from db.types import utcnow

IGNORED = {"id", "tenant_id", "created", "last_modified"}
#: What an event holds that the same write would not repeat.
EVENT_IGNORED = {
    "id",
    "tenant_id",
    "seq",
    "occurred_at",
    "request_id",
    "client_request_id",
    "actor_token_id",
    "actor_name",
}
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
CHECK_GROUP = BenchGroup("", "check-group-external-id", "Department: Checked", ())


def check_bulk_rows(data: Path, logs: Path, factory: str) -> str:
    """How the bulk rows and events compare with SCIM-written ones, in one line."""
    url = store.sqlite_url(data, "rowcheck.sqlite")
    token, _ = store.prepare_empty(url)
    org = generate(30, 7)
    with serve("ours-rowcheck", factory, {"BLINK_DATABASE_URL": url}, logs) as server:
        result = sync(HOST, server.port, token, "/scim", org, connections=1)
        if result.errors:
            return f"not checked (SCIM load failed: {result.first_error})"
        scim_ids = result.ids
        group_id = asyncio.run(_group_and_repeat(server.port, token, org, scim_ids))
    database = Database(url)
    try:
        stored_users, stored_group, stored_events = database.read_sync(_stored)
    finally:
        database.dispose()
    problems: list[str] = []
    expected: list[Event] = []
    for person in org.people:
        document = scim_document(org, person)
        manager = document[ENTERPRISE].get("manager")
        if manager:  # the SCIM layer gave the manager another id than the dataset's
            manager["value"] = scim_ids[person.manager_index]  # type: ignore[index]
        user_id = scim_ids[person.index]
        built = user_row(document, user_id=user_id, tenant_id=0, now=utcnow())
        _compare(stored_users[user_id], built, problems)
        expected += user_events(built)
    everyone = tuple(person.index for person in org.people)
    group = BenchGroup(group_id, CHECK_GROUP.external_id, CHECK_GROUP.display_name, everyone)
    built_group = group_row(
        group_id=group_id,
        tenant_id=0,
        display_name=group.display_name,
        external_id=group.external_id,
        now=utcnow(),
        membership_patches=group.membership_patches,
    )
    _compare(stored_group, built_group, problems)
    expected += group_events(group, [scim_ids[index] for index in everyone])
    expected.append(refused_create())
    _compare_events(stored_events, expected, problems)
    if problems:
        return "DIFFER: " + "; ".join(sorted(set(problems))[:5])
    return (
        f"identical ({len(org.people)} users, a group and its members created over SCIM, "
        f"a create repeated; every column and {len(expected)} events compared)"
    )


async def _group_and_repeat(port: int, token: str, org: Org, scim_ids: dict[int, str]) -> str:
    """Create the check's group and add everyone to it as Entra does, then repeat a user's
    create; the group's id."""
    connection = await HttpConnection(HOST, port, token).open()
    try:
        document = {
            "schemas": [GROUP_SCHEMA],
            "displayName": CHECK_GROUP.display_name,
            "externalId": CHECK_GROUP.external_id,
            "members": [],
        }
        reply = await connection.send_json("POST", "/scim/Groups", document)
        assert reply.status == 201, reply.body
        group_id = str(reply.json()["id"])  # type: ignore[index]
        members = [{"value": scim_ids[person.index]} for person in org.people]
        patch = {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Add", "path": "members", "value": members}],
        }
        reply = await connection.send_json("PATCH", f"/scim/Groups/{group_id}", patch)
        assert reply.status in (200, 204), reply.body
        first = scim_document(org, org.people[0], with_manager=False)
        reply = await connection.send_json("POST", "/scim/Users", first)
        assert reply.status == 409, reply.body
        return group_id
    finally:
        await connection.close()


def _stored(
    connection: Connection,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    stored_users = {row["id"]: dict(row) for row in connection.execute(select(users)).mappings()}
    (group,) = connection.execute(select(groups)).mappings()
    events = connection.execute(select(activity_events)).mappings()
    return stored_users, dict(group), [dict(event) for event in events]


def _compare(row: Mapping[str, Any], built: Mapping[str, Any], problems: list[str]) -> None:
    for column, value in built.items():
        if column not in IGNORED and row.get(column) != value:
            problems.append(f"{column}: SCIM {row.get(column)!r} != bulk {value!r}")
    for column in row.keys() - built.keys() - IGNORED:
        problems.append(f"{column}: set by SCIM ({row[column]!r}), not by the bulk path")


def _compare_events(
    stored: list[dict[str, Any]], expected: list[Event], problems: list[str]
) -> None:
    """The stored log against the expected events, in any order (the sync's writes of one
    person may interleave with another's)."""

    def key(event: Mapping[str, Any]) -> str:
        return repr(sorted((k, repr(v)) for k, v in event.items() if k not in EVENT_IGNORED))

    built = sorted(key(_event_columns(event)) for event in expected)
    found = sorted(key(event) for event in stored)
    if found != built:
        only_stored = [event for event in found if event not in built]
        only_built = [event for event in built if event not in found]
        problems.append(
            f"events: {len(found)} stored, {len(built)} built; "
            f"first stored only {only_stored[:1]}, first built only {only_built[:1]}"
        )


def _event_columns(event: Event) -> dict[str, Any]:
    """The columns ``event`` is stored as, by the store's own ``event_values``."""
    values = event_values(0, Origin("", ""), event)
    return {name.removeprefix(EVENT_PARAMETER): value for name, value in values.items()}
