"""The benchmark's seeded org charts and bulk rows (no store, no servers)."""

from datetime import UTC, datetime

from bench.dataset import MAX_SPAN, MIN_SPAN, generate, scim_document
from bench.rows import user_row


def test_same_seed_same_org_and_another_seed_another() -> None:
    first, again, other = generate(2_000, 7), generate(2_000, 7), generate(2_000, 8)
    assert [p.id for p in first.people] == [p.id for p in again.people]
    assert [p.manager_index for p in first.people] == [p.manager_index for p in again.people]
    assert [p.id for p in first.people] != [p.id for p in other.people]


def test_org_shape_is_realistic() -> None:
    org = generate(20_000, 42)
    assert len(org.people) == 20_000
    assert len({p.user_name.lower() for p in org.people}) == 20_000
    assert [p for p in org.people if p.manager_index is None] == [org.people[0]]
    assert 6 <= org.depth() <= 10
    spans = [len(p.reports) for p in org.people if p.reports]
    # The last manager filled may be cut short by the size; every other one has 2-15.
    assert all(MIN_SPAN <= span <= MAX_SPAN for span in spans[:-1])
    assert all(p.manager_index < p.index for p in org.people[1:])  # managers come first


def test_bulk_row_mirrors_the_document() -> None:
    org = generate(50, 1)
    person = org.people[3]
    document = scim_document(org, person)
    row = user_row(document, user_id=person.id, tenant_id=9, now=datetime.now(UTC))
    assert row["user_name"] == person.user_name
    assert row["manager_id"] == org.people[person.manager_index].id  # type: ignore[index]
    assert row["email"] == document["emails"][0]["value"]
    assert row["attributes"]["emails"] == [{"primary": True, "type": "work"}]
    assert row["attributes"]["phoneNumbers"] == [{"type": "work"}, {"type": "mobile"}]
    assert row["version"] == 2
