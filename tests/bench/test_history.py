"""The groups and activity log of the bench's org (``bench.history``): deterministic, and
what Entra's sync would have left (no store, no servers)."""

from collections import Counter

from bench.dataset import generate
from bench.history import DAYS, MEMBERS_PER_PATCH, history, last_day
from db.activity import Operation, Outcome, ResourceType


def test_the_same_org_gets_the_same_history() -> None:
    org = generate(500, 3)
    first, again = history(org), history(org)
    assert [group.id for group in first.groups] == [group.id for group in again.groups]
    assert first.retitled == again.retitled
    assert [(e.origin, e.event) for e in first.entries] == [
        (e.origin, e.event) for e in again.entries
    ]


def test_every_person_is_created_then_given_their_manager() -> None:
    org = generate(500, 3)
    built = history(org)
    created = Counter(
        e.event.resource_id
        for e in built.entries
        if e.event.operation is Operation.CREATE
        and e.event.outcome is Outcome.SUCCESS
        and e.event.resource_type is ResourceType.USER
    )
    assert created == Counter(person.id for person in org.people)
    updates = [
        e.event
        for e in built.entries
        if e.event.operation is Operation.UPDATE and e.event.resource_type is ResourceType.USER
    ]
    managers = [u for u in updates if u.changes and u.changes[0]["attribute"].endswith("manager")]
    assert len(managers) == len(org.people) - 1  # everyone but the CEO
    titles = [u for u in updates if u.changes and u.changes[0]["attribute"] == "title"]
    assert len(titles) == len(built.retitled) > 0
    for change in titles:
        (only,) = change.changes or ()
        person = next(p for p in org.people if p.id == change.resource_id)
        assert only["oldValue"] == built.retitled[person.index] != only["newValue"]


def test_groups_are_distinct_and_their_members_people_of_the_org() -> None:
    org = generate(2_000, 3)
    built = history(org)
    names = [group.display_name.lower() for group in built.groups]
    assert len(names) == len(set(names))
    everyone = set(range(org.size))
    assert set(built.groups[0].members) == everyone  # "All employees"
    for group in built.groups:
        assert set(group.members) <= everyone
        assert len(set(group.members)) == len(group.members) > 0
    per_person = Counter(index for group in built.groups for index in group.members)
    assert min(per_person.values()) >= 3  # everyone's, a department's and an office's
    member_events = [
        e.event
        for e in built.entries
        if e.event.resource_type is ResourceType.GROUP and e.event.operation is Operation.UPDATE
    ]
    assert len(member_events) == sum(group.membership_patches for group in built.groups)
    assert max(e.member_change_count for e in member_events) == MEMBERS_PER_PATCH


def test_the_log_runs_forward_and_its_last_day_has_changes_and_failures() -> None:
    org = generate(1_000, 3)
    built = history(org)
    times = [e.event.occurred_at for e in built.entries]
    assert times == sorted(times)
    assert len({e.origin.request_id for e in built.entries}) == len(built.entries)
    window = [e.event for e in built.entries if e.event.occurred_at >= last_day()]
    outcomes = Counter(event.outcome for event in window)
    assert outcomes[Outcome.SUCCESS] == len(built.retitled) // DAYS > 0
    assert outcomes[Outcome.FAILURE] >= 1
