"""The demo organisation: its shape, its people, and that a seed always gives the same one."""

from collections import Counter

import pytest

from app.demo.org import DemoOrg, generate_org
from app.demo.shape import MIN_SIZE


def depth_of(org: DemoOrg) -> int:
    return max(person.level for person in org.people) + 1


@pytest.mark.parametrize("size", [MIN_SIZE, 60, 250, 1000, 10_000])
@pytest.mark.parametrize("seed", [0, 7])
def test_spans_and_levels(size: int, seed: int) -> None:
    org = generate_org(size, seed)
    assert len(org.people) == size
    spans = Counter(person.manager for person in org.people if person.manager is not None)
    assert min(spans.values()) >= 2
    assert max(spans.values()) <= 12
    assert 5 <= depth_of(org) <= 8


def test_managers_come_before_their_reports_and_levels_follow_managers() -> None:
    org = generate_org(250)
    seen: dict[str, int] = {}
    for person in org.people:
        if person.manager is None:
            assert person.level == 0
        else:
            assert seen[person.manager] == person.level - 1
        seen[person.external_id] = person.level
    assert [p.level for p in org.people] == sorted(p.level for p in org.people)


def test_people_look_like_people() -> None:
    org = generate_org(250)
    assert len({p.user_name.lower() for p in org.people}) == 250
    assert len({p.external_id for p in org.people}) == 250
    ceo = org.people[0]
    assert ceo.title == "Chief Executive Officer"
    managers = {p.manager for p in org.people}
    for person in org.people:
        assert person.user_name.endswith("@contoso.example")
        assert person.work_phone.startswith("+")
        assert person.company.startswith("Contoso")
        if person.level >= 2 and person.external_id in managers:
            assert person.title.endswith(f", {person.department}")
        if person.external_id not in managers:
            assert "Chief" not in person.title or person.title == "Chief of Staff"
    assert len({p.department for p in org.people}) >= 3
    assert len({p.location for p in org.people}) >= 3
    assert any(p.mobile_phone for p in org.people)
    assert any(p.mobile_phone is None for p in org.people)


def test_a_few_people_are_inactive_and_none_of_them_manages() -> None:
    org = generate_org(1000)
    inactive = [p for p in org.people if not p.active]
    managers = {p.manager for p in org.people}
    assert 1 <= len(inactive) <= 30
    assert not any(p.external_id in managers for p in inactive)


def test_groups_have_members_of_the_org() -> None:
    org = generate_org(250)
    everyone = {p.external_id for p in org.people}
    names = [g.display_name for g in org.groups]
    assert "Leadership Team" in names
    assert "People Managers" in names
    assert len(names) == len({name.lower() for name in names})
    for group in org.groups:
        assert group.members
        assert set(group.members) <= everyone


def test_the_same_seed_gives_the_same_org_and_another_seed_another() -> None:
    assert generate_org(250, seed=3) == generate_org(250, seed=3)
    assert generate_org(250, seed=3) != generate_org(250, seed=4)


def test_too_small_an_org_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        generate_org(MIN_SIZE - 1)
