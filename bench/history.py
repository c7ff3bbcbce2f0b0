"""What Entra's sync leaves beside the bench's people: groups and the activity log.

A tenant Entra provisioned is not a bare user table. Every person was created and then given
a manager (an event each), the groups assigned to the app were created and filled in PATCHes
of many members, and each later cycle changed a few people and had a few writes refused.
The frontend's profile card pages a person's groups, its history page reads their events and
the provisioning health reads the last day of the log, so the bench's org carries all of it.

``history(org)`` is deterministic, like ``bench.dataset.generate``: the same groups, ids,
events, request ids and times for the same org. The events are built by the SCIM layer's own
code (``scim.activity``), from the rows ``bench.rows`` builds, so they are what the service
records for the same writes; ``bench.checks`` compares them with the events of users created
over SCIM on every run. Entry ``n`` of ``History.entries`` is event number (``seq``) ``n + 1``
of the tenant's log.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.dataset import (
    DEPARTMENTS,
    LOCATIONS,
    TITLES_BY_LEVEL,
    Org,
    Person,
    location,
    scim_document,
    title,
)
from bench.rows import user_row
from db.activity import Event, Operation, Origin, Outcome, ResourceType
from db.group_members import MemberDelta
from scim.activity import group_event, user_event

#: When the first sync started: fixed, so that every build of the log holds the same times.
ANCHOR = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
#: Daily incremental cycles after the first sync.
DAYS = 30
#: The share of people whose title a daily cycle changes.
DAILY_TITLE_CHANGES = 0.003
#: People per refused write a day (Entra re-POSTs a create whose answer it lost: 409).
PEOPLE_PER_DAILY_FAILURE = 25_000
#: Members a membership PATCH of the first sync adds to a group.
MEMBERS_PER_PATCH = 100
#: Project groups per person: a group of 5-40 people for every 50.
PEOPLE_PER_PROJECT = 50
#: The actor of every event: the OAuth client Entra's gallery app signs in as (no token id).
ACTOR = "Entra ID provisioning"
#: What the service answers a repeated create with (``db.users``), as Entra sees it.
USER_EXISTS = "a user with this userName already exists"
PROJECT_WORDS = ["Atlas", "Beacon", "Comet", "Delta", "Ember", "Fjord", "Harbor", "Lumen"]


def last_day() -> datetime:
    """The start of the log's last day: the provisioning health's window in the bench."""
    return ANCHOR + timedelta(days=DAYS)


@dataclass(frozen=True, slots=True)
class BenchGroup:
    id: str
    external_id: str
    display_name: str
    #: The people's indexes, in the order the first sync added them.
    members: tuple[int, ...]

    @property
    def membership_patches(self) -> int:
        return -(-len(self.members) // MEMBERS_PER_PATCH)


@dataclass(frozen=True, slots=True)
class Entry:
    """One event of the log with the request that recorded it."""

    origin: Origin
    event: Event


@dataclass(frozen=True, slots=True)
class History:
    #: Each person's ``user`` row as the sync leaves it (by index; tenant 0, stamped
    #: ``ANCHOR``): ``bench.store`` inserts them, the floor serves them.
    rows: dict[int, dict[str, Any]]
    groups: list[BenchGroup]
    #: The people whose title a later cycle changed, with the title they had before.
    retitled: dict[int, str]
    #: The tenant's log, oldest first.
    entries: list[Entry]


def groups(org: Org) -> list[BenchGroup]:
    """Everyone's group, a group per department and per office, and small project groups."""
    rng = random.Random(f"{org.seed}:{org.size}:groups")
    people = org.people

    def group(name: str, members: list[int]) -> BenchGroup:
        return BenchGroup(_uuid(rng), _uuid(rng), name, tuple(members))

    found = [group("All employees", [person.index for person in people])]
    for department in ("Executive", *DEPARTMENTS):
        members = [person.index for person in people if person.department == department]
        if members:
            found.append(group(f"Department: {department}", members))
    for place in LOCATIONS:
        members = [person.index for person in people if location(person) == place]
        if members:
            found.append(group(f"Office: {place}", members))
    for number in range(org.size // PEOPLE_PER_PROJECT):
        size = min(org.size, rng.randint(5, 40))
        members = sorted(rng.sample(range(org.size), size))
        found.append(group(f"Project {rng.choice(PROJECT_WORDS)}-{number:04d}", members))
    return found


def history(org: Org) -> History:
    """The org's groups and the log of the first sync and the ``DAYS`` daily cycles after."""
    rng = random.Random(f"{org.seed}:{org.size}:history")
    bench_groups = groups(org)
    per_day = max(1, round(org.size * DAILY_TITLE_CHANGES))
    changed = rng.sample(range(org.size), min(org.size, per_day * DAYS))
    retitled = {index: _earlier_title(title(org.people[index]), rng) for index in changed}
    rows = {
        person.index: _row(org, person, later_writes=1 if person.index in retitled else 0)
        for person in org.people
    }
    # What the first sync wrote: the title some people had before a later cycle changed it.
    first = {
        index: {**row, "title": retitled[index]} if index in retitled else row
        for index, row in rows.items()
    }
    entries: list[Entry] = []
    clock = ANCHOR

    def record(event: Event) -> None:
        nonlocal clock
        event.occurred_at = clock
        client_request_id = _uuid(rng)
        entries.append(Entry(Origin(_request_id(rng), ACTOR, None, client_request_id), event))
        clock += timedelta(milliseconds=40)

    # The first sync: every person, then their managers, then the groups and their members.
    created = [user_events(first[person.index]) for person in org.people]
    for events in created:
        record(events[0])
    for events in created:
        for event in events[1:]:
            record(event)
    for bench_group in bench_groups:
        members = [org.people[index].id for index in bench_group.members]
        for event in group_events(bench_group, members):
            record(event)

    # The daily cycles: a few new titles, a few creates repeated after a lost answer.
    for day in range(1, DAYS + 1):
        clock = ANCHOR + timedelta(days=day, minutes=rng.randint(0, 40))
        for index in changed[(day - 1) * per_day : day * per_day]:
            change = user_event(Operation.UPDATE, first[index], rows[index])
            assert change is not None, "the earlier title differs from the current one"
            record(change)
        for _ in range(max(1, org.size // PEOPLE_PER_DAILY_FAILURE)):
            record(refused_create())
    return History(rows, bench_groups, retitled, entries)


def user_events(row: dict[str, Any]) -> list[Event]:
    """The events of Entra's create of the user of ``row`` and, if it has one, of the PATCH
    that sets its manager."""
    events = [user_event(Operation.CREATE, None, _without_manager(row))]
    if row["manager_id"] is not None:
        events.append(user_event(Operation.UPDATE, _without_manager(row), row))
    return [event for event in events if event is not None]


def group_events(group: BenchGroup, member_ids: list[str]) -> list[Event]:
    """The events of Entra's create of ``group`` and of the PATCHes that add its members."""
    fields = {"displayName": group.display_name, "externalId": group.external_id}
    events = [group_event(Operation.CREATE, group.id, None, fields)]
    for start in range(0, len(member_ids), MEMBERS_PER_PATCH):
        added = MemberDelta().add(member_ids[start : start + MEMBERS_PER_PATCH])
        events.append(group_event(Operation.UPDATE, group.id, fields, fields, added))
    return [event for event in events if event is not None]


def refused_create() -> Event:
    """The event of a create the service refused as a repeat of an existing userName."""
    return Event(
        Operation.CREATE,
        ResourceType.USER,
        None,
        outcome=Outcome.FAILURE,
        status=409,
        scim_type="uniqueness",
        detail=USER_EXISTS,
        method="POST",
        path="/Users",
    )


def _row(org: Org, person: Person, *, later_writes: int) -> dict[str, Any]:
    document = scim_document(org, person)
    # An event names no tenant and no time: the loader sets the tenant and times of the row.
    return user_row(document, user_id=person.id, tenant_id=0, now=ANCHOR, later_writes=later_writes)


def _without_manager(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "manager_id": None}


def _earlier_title(current: str, rng: random.Random) -> str:
    return rng.choice([other for other in TITLES_BY_LEVEL if other != current])


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _request_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"
