"""Deterministic org charts and the SCIM User documents Entra would send for them.

``generate(size, seed)`` always returns the same people, ids and tree for the same arguments:
a single CEO, managers with 2-15 direct reports each, no manager deeper than level 9 (so the
tree is at most 10 levels deep), and most people individual contributors. The tree is built
breadth-first, so every manager precedes their reports in the returned list (bulk inserts and
the SCIM sync can rely on it).
"""

import math
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

#: Bump when the generated data changes, so cached databases are rebuilt.
DATASET_VERSION = 3
MAX_MANAGER_LEVEL = 8  # managers on levels 0-8, people on levels 0-9: 10 levels
MIN_SPAN, MAX_SPAN = 2, 15

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BLINK = "urn:ietf:params:scim:schemas:extension:blink:2.0:User"

GIVEN = [
    "Ada",
    "Alan",
    "Amara",
    "Ana",
    "Anton",
    "Aria",
    "Ben",
    "Bo",
    "Carla",
    "Chen",
    "Dara",
    "Dev",
    "Elena",
    "Emil",
    "Eva",
    "Farah",
    "Felix",
    "Gia",
    "Hana",
    "Hugo",
    "Ines",
    "Ivan",
    "Jana",
    "Jon",
    "Kai",
    "Kira",
    "Lars",
    "Lea",
    "Lina",
    "Luca",
    "Maya",
    "Mia",
    "Nia",
    "Noah",
    "Omar",
    "Ola",
    "Pia",
    "Raj",
    "Rosa",
    "Sam",
    "Sara",
    "Tariq",
    "Tess",
    "Uma",
    "Vera",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoe",
    "Zeynep",
]
FAMILY = [
    "Abbott",
    "Baker",
    "Chandra",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Müller",
    "Nakamura",
    "Novak",
    "O'Brien",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
]
DEPARTMENTS = [
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Operations",
    "Legal",
    "Support",
    "Research",
    "Design",
    "People",
]
LOCATIONS = ["Berlin", "Lisbon", "Nairobi", "Seattle", "São Paulo", "Tokyo", "Toronto"]
TITLES_BY_LEVEL = [
    "Chief Executive Officer",
    "Vice President",
    "Senior Director",
    "Director",
    "Senior Manager",
    "Manager",
    "Team Lead",
    "Team Lead",
    "Team Lead",
]
IC_TITLES = ["Engineer", "Analyst", "Specialist", "Consultant", "Associate", "Designer"]


@dataclass(slots=True)
class Person:
    index: int
    id: str
    external_id: str
    user_name: str
    given_name: str
    family_name: str
    level: int
    manager_index: int | None
    department: str
    reports: list[int] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


@dataclass(slots=True)
class Org:
    size: int
    seed: int
    people: list[Person]

    def manager_id(self, person: Person) -> str | None:
        return None if person.manager_index is None else self.people[person.manager_index].id

    def depth(self) -> int:
        return 1 + max(person.level for person in self.people)

    def reports_within(self, person: Person, max_depth: int) -> int:
        """Transitive reports of ``person`` down to ``max_depth`` levels below them."""
        count, frontier = 0, [person.index]
        for _ in range(max_depth):
            frontier = [r for i in frontier for r in self.people[i].reports]
            count += len(frontier)
        return count


def _manager_probability(size: int) -> float:
    """Chance that a person manages others, chosen so ``size`` people fit in ~9 levels."""
    branching = math.pow(max(size, 2), 1 / (MAX_MANAGER_LEVEL + 0.5))
    mean_span = (MIN_SPAN + MAX_SPAN) / 2
    return min(1.0, max(0.15, branching / mean_span))


def generate(size: int, seed: int) -> Org:
    rng = random.Random(f"{seed}:{size}")
    probability = _manager_probability(size)
    people: list[Person] = []

    def add(level: int, manager: int | None, department: str) -> Person:
        index = len(people)
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        person = Person(
            index=index,
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            external_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            # Mixed case on purpose: userName look-ups are case-insensitive.
            user_name=f"{given}.{family}.{index:06d}@Contoso.example",
            given_name=given,
            family_name=family,
            level=level,
            manager_index=manager,
            department=department,
        )
        people.append(person)
        if manager is not None:
            people[manager].reports.append(index)
        return person

    add(0, None, "Executive")
    cursor = 0
    while len(people) < size:
        if cursor == len(people):  # nobody left to process: make more people managers
            cursor, probability = 0, 1.0
        person = people[cursor]
        cursor += 1
        is_manager = person.level == 0 or rng.random() < probability
        if not is_manager or person.reports or person.level >= MAX_MANAGER_LEVEL:
            continue
        for _ in range(rng.randint(MIN_SPAN, MAX_SPAN)):
            if len(people) >= size:
                break
            department = rng.choice(DEPARTMENTS) if person.level == 0 else person.department
            add(person.level + 1, person.index, department)
    return Org(size=size, seed=seed, people=people)


def title(person: Person) -> str:
    if person.reports or person.level == 0:
        return TITLES_BY_LEVEL[min(person.level, len(TITLES_BY_LEVEL) - 1)]
    return IC_TITLES[person.index % len(IC_TITLES)]


def location(person: Person) -> str:
    """The office the person works at (the Blink extension's ``location``)."""
    return LOCATIONS[person.index % len(LOCATIONS)]


def scim_document(org: Org, person: Person, *, with_manager: bool = True) -> dict[str, Any]:
    """The user as Entra POSTs it (legacy dialect), with every attribute of the seed's table.

    Entra sends ``manager`` in a separate PATCH after the create; ``with_manager=False`` gives
    that create body, ``with_manager=True`` the document a GET returns afterwards.
    """
    i = person.index
    enterprise: dict[str, Any] = {
        "department": person.department,
        "employeeNumber": f"E{i:06d}",
    }
    manager_id = org.manager_id(person)
    if with_manager and manager_id is not None:
        enterprise["manager"] = {"value": manager_id}
    return {
        "schemas": [CORE, ENTERPRISE, BLINK],
        "externalId": person.external_id,
        "userName": person.user_name,
        "active": True,
        "displayName": person.display_name,
        "title": title(person),
        "emails": [
            {
                "primary": True,
                "type": "work",
                "value": f"{person.given_name}.{person.family_name}.{i:06d}@contoso.example",
            }
        ],
        "name": {
            "formatted": person.display_name,
            "familyName": person.family_name,
            "givenName": person.given_name,
        },
        "phoneNumbers": [
            {"type": "work", "value": f"+1 555 01{i % 100:02d} x{i:06d}"},
            {"type": "mobile", "value": f"+44 7700 9{i % 100000:05d}"},
        ],
        ENTERPRISE: enterprise,
        BLINK: {
            "company": "Contoso Ltd",
            "description": f"{title(person)} in {person.department}",
            "location": location(person),
        },
    }
