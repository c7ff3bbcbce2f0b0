"""A believable organisation, deterministic from its seed: people, their managers, groups."""

import random
import uuid
from dataclasses import dataclass, replace

from app.demo import words
from app.demo.shape import tree

INACTIVE_SHARE = 70  # one person in this many has left (is inactive), at the bottom level


@dataclass(frozen=True, slots=True)
class DemoPerson:
    external_id: str
    user_name: str
    given_name: str
    family_name: str
    title: str
    department: str
    location: str
    company: str
    work_phone: str
    mobile_phone: str | None
    employee_number: str
    description: str
    manager: str | None  # the manager's external_id
    level: int
    active: bool

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def email(self) -> str:
        return self.user_name


@dataclass(frozen=True, slots=True)
class DemoGroup:
    external_id: str
    display_name: str
    members: tuple[str, ...]  # external_ids


@dataclass(frozen=True, slots=True)
class DemoOrg:
    people: tuple[DemoPerson, ...]  # every manager before their reports
    groups: tuple[DemoGroup, ...]

    def levels(self) -> list[list[DemoPerson]]:
        found: list[list[DemoPerson]] = []
        for person in self.people:
            if person.level == len(found):
                found.append([])
            found[person.level].append(person)
        return found


class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.user_names: set[str] = set()
        self.people: list[DemoPerson] = []

    def object_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def user_name(self, given: str, family: str) -> str:
        stem = f"{given}.{family}".lower()
        candidate, number = stem, 1
        while candidate in self.user_names:
            number += 1
            candidate = f"{stem}{number}"
        self.user_names.add(candidate)
        return f"{candidate}@{words.EMAIL_DOMAIN}"

    def office(self, manager: DemoPerson | None) -> tuple[str, str, str]:
        if manager is not None and self.rng.random() < 0.75:
            return next(office for office in words.OFFICES if office[0] == manager.location)
        return self.rng.choice(words.OFFICES)

    def person(
        self, level: int, manager: DemoPerson | None, title: str, department: str
    ) -> DemoPerson:
        rng = self.rng
        given, family = rng.choice(words.GIVEN_NAMES), rng.choice(words.FAMILY_NAMES)
        location, company, prefix = self.office(manager)
        country = prefix.split()[0]
        mobile = f"{country} {rng.randint(150, 179)} {rng.randint(1_000_000, 9_999_999)}"
        person = DemoPerson(
            external_id=self.object_id(),
            user_name=self.user_name(given, family),
            given_name=given,
            family_name=family,
            title=title,
            department=department,
            location=location,
            company=company,
            work_phone=f"{prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            mobile_phone=mobile if rng.random() < 0.85 else None,
            employee_number=str(10_000 + len(self.people)),
            description=f"With Contoso since {rng.randint(2008, 2026)}.",
            manager=None if manager is None else manager.external_id,
            level=level,
            active=True,
        )
        self.people.append(person)
        return person


def _title(level: int, is_manager: bool, department: str, rng: random.Random) -> str:
    if level == 0:
        return "Chief Executive Officer"
    individual = next((d[2] for d in words.DEPARTMENTS if d[0] == department), None)
    if not is_manager:
        if individual is None:  # the CEO's own office
            return rng.choice(("Chief of Staff", "Executive Assistant", "Strategy Advisor"))
        return rng.choice(individual)
    title = words.MANAGER_TITLES[min(level - 2, len(words.MANAGER_TITLES) - 1)]
    return f"{title}, {department}"


def generate_org(size: int, seed: int = 0) -> DemoOrg:
    """``size`` people (at least 10) in 5-8 levels, spans 2-12, and their groups."""
    rng = random.Random(seed)  # noqa: S311 - made-up people, not secrets
    shape = tree(size, rng)
    builder = _Builder(rng)
    levels: list[list[DemoPerson]] = [
        [builder.person(0, None, _title(0, True, "", rng), "Executive")]
    ]
    for level, managers in enumerate(shape[1:], start=1):
        has_reports = set(shape[level + 1]) if level + 1 < len(shape) else set()
        here: list[DemoPerson] = []
        for index, manager_index in enumerate(managers):
            manager = levels[level - 1][manager_index]
            is_manager = index in has_reports
            if level == 1:
                head = words.DEPARTMENTS[index % len(words.DEPARTMENTS)]
                department = head[0] if is_manager else "Executive"
                title = head[1] if is_manager else _title(1, False, department, rng)
            else:
                department = manager.department
                title = _title(level, is_manager, department, rng)
            here.append(builder.person(level, manager, title, department))
        levels.append(here)
    people = _with_leavers(builder.people, levels[-1], rng)
    return DemoOrg(tuple(people), _groups(people, builder))


def _with_leavers(
    people: list[DemoPerson], bottom: list[DemoPerson], rng: random.Random
) -> list[DemoPerson]:
    leavers = {p.external_id for p in rng.sample(bottom, max(1, len(people) // INACTIVE_SHARE))}
    return [replace(p, active=False) if p.external_id in leavers else p for p in people]


def _groups(people: list[DemoPerson], builder: _Builder) -> tuple[DemoGroup, ...]:
    managers = {person.manager for person in people if person.manager is not None}
    selections: list[tuple[str, list[DemoPerson]]] = [
        ("Leadership Team", [p for p in people if p.level <= 1 and p.external_id in managers]),
        ("People Managers", [p for p in people if p.external_id in managers]),
    ]
    for department in sorted({p.department for p in people}):
        selections.append((f"{department} Team", [p for p in people if p.department == department]))
    for office in sorted({p.location for p in people}):
        selections.append((f"Office {office}", [p for p in people if p.location == office]))
    return tuple(
        DemoGroup(builder.object_id(), name, tuple(p.external_id for p in members))
        for name, members in selections
    )
