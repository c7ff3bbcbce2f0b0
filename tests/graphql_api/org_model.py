"""A generated org chart and an independent, obviously-correct model of its answers.

The model walks plain dictionaries; it shares no code with the service, so a query answer
that matches it is right by construction.
"""

import random
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

FIRST_NAMES = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia"]
LAST_NAMES = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]
TITLES = ["Engineer", "Manager", "Director", "Designer", "Analyst", "VP"]
DEPARTMENTS = ["Sales", "Engineering", "Finance", "Support"]
LOCATIONS = ["Berlin", "Lisbon", "Oslo", "Austin"]


@dataclass
class Person:
    id: str
    user_name: str
    display_name: str | None
    title: str
    department: str
    location: str
    email: str
    manager_id: str | None = None
    active: bool = True


@dataclass
class Org:
    people: dict[str, Person]
    loop: list[str] = field(default_factory=list)

    def with_ids(self, assigned: Mapping[str, str]) -> "Org":
        """The same org, in the same order, with each id renamed as ``assigned`` says (ids it
        does not name, e.g. a manager seeded earlier, stay as they are)."""

        def rename(user_id: str) -> str:
            return assigned.get(user_id, user_id)

        people = [
            replace(
                person,
                id=rename(person.id),
                manager_id=None if person.manager_id is None else rename(person.manager_id),
            )
            for person in self.people.values()
        ]
        return Org({person.id: person for person in people}, [rename(u) for u in self.loop])

    # -- structure ------------------------------------------------------------------------
    @cached_property
    def _children(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for person in self.people.values():
            if person.manager_id is not None:
                found[person.manager_id].append(person.id)
        return found

    def children(self) -> dict[str, list[str]]:
        return self._children

    def sort_key(self, user_id: str) -> tuple[str, str]:
        return (self.people[user_id].display_name or "", user_id)

    def visible(self, user_id: str, include_inactive: bool) -> bool:
        return include_inactive or self.people[user_id].active

    # -- answers ----------------------------------------------------------------------------
    def chain(self, user_id: str, include_inactive: bool = False, max_depth: int = 50) -> list[str]:
        seen = {user_id}
        found: list[str] = []
        manager = self.people[user_id].manager_id
        while manager is not None and manager not in seen and len(found) < max_depth:
            seen.add(manager)
            found.append(manager)
            manager = self.people[manager].manager_id
        return [m for m in found if self.visible(m, include_inactive)]

    def direct_reports(self, user_id: str, include_inactive: bool = False) -> list[str]:
        found = [c for c in self.children().get(user_id, []) if self.visible(c, include_inactive)]
        return sorted(found, key=self.sort_key)

    def reports(
        self,
        user_id: str,
        min_depth: int = 1,
        max_depth: int = 3,
        include_inactive: bool = False,
    ) -> list[tuple[int, str]]:
        children = self.children()
        depth_of: dict[str, int] = {}
        level = [user_id]
        depth = 0
        while level and depth < max_depth:
            depth += 1
            following = []
            for manager in level:
                for child in children.get(manager, []):
                    if child != user_id and child not in depth_of:
                        depth_of[child] = depth
                        following.append(child)
            level = following
        found = [
            (d, u)
            for u, d in depth_of.items()
            if d >= min_depth and self.visible(u, include_inactive)
        ]
        return sorted(found, key=lambda item: (item[0], *self.sort_key(item[1])))

    def report_count(self, user_id: str, include_inactive: bool = False) -> int:
        return len(self.reports(user_id, 1, len(self.people) + 1, include_inactive))

    def peers(self, user_id: str, include_inactive: bool = False) -> list[str]:
        manager = self.people[user_id].manager_id
        if manager is None:
            return []
        return [p for p in self.direct_reports(manager, include_inactive) if p != user_id]

    def _upward(self, user_id: str) -> list[str]:
        return [user_id, *self.chain(user_id, include_inactive=True, max_depth=100)]

    def common_manager(self, a: str, b: str, include_inactive: bool = False) -> str | None:
        on_b = set(self._upward(b))
        meets = [u for u in self._upward(a) if u in on_b]
        if not meets:
            return None
        for candidate in meets:
            if self.visible(candidate, include_inactive):
                return candidate
        return None

    def reporting_path(self, a: str, b: str, include_inactive: bool = False) -> list[str] | None:
        up_a, up_b = self._upward(a), self._upward(b)
        meeting = next((u for u in up_a if u in set(up_b)), None)
        if meeting is None:
            return None
        path = up_a[: up_a.index(meeting) + 1] + list(reversed(up_b[: up_b.index(meeting)]))
        return [
            u
            for i, u in enumerate(path)
            if i in (0, len(path) - 1) or self.visible(u, include_inactive)
        ]

    def depth(self, user_id: str) -> int | None:
        """Managers above the user up to the top; None on or under a loop."""
        seen = {user_id}
        count = 0
        manager = self.people[user_id].manager_id
        while manager is not None:
            if manager in seen:
                return None
            seen.add(manager)
            count += 1
            manager = self.people[manager].manager_id
        return count

    def sorted_users(self) -> list[str]:
        return sorted(self.people, key=self.sort_key)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate_org(size: int, seed: int = 5) -> Org:
    """A random org: a few roots, random depth and span, ~6% inactive, one 3-person loop."""
    rng = random.Random(seed)
    people: dict[str, Person] = {}
    order: list[str] = []
    by_depth: dict[int, list[str]] = defaultdict(list)
    for index in range(size):
        user_id = _uuid(rng)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        person = Person(
            id=user_id,
            user_name=f"{first}.{last}.{index}@example.com".lower(),
            # Many people share a name, so ordering ties are broken by id; some have none.
            display_name=None if index % 97 == 13 else f"{first} {last}",
            title=rng.choice(TITLES),
            department=rng.choice(DEPARTMENTS),
            location=rng.choice(LOCATIONS),
            email=f"{first}.{last}.{index}@example.com".lower(),
            active=rng.random() > 0.06,
        )
        depth = 0
        if index >= 3:  # the first three are roots; the others sit 1 to 9 levels below one
            depth = rng.choice([d for d in range(1, 10) if by_depth[d - 1]])
            # Favour recent managers at that depth: spans range from one to dozens.
            candidates = by_depth[depth - 1]
            pool = candidates[-5:] if rng.random() < 0.5 else candidates
            person.manager_id = rng.choice(pool)
        by_depth[depth].append(user_id)
        people[user_id] = person
        order.append(user_id)
    org = Org(people)
    # One manager loop with people hanging below it.
    loop = [order[-1], order[-2], order[-3]]
    for user_id, manager_id in zip(loop, loop[1:] + loop[:1], strict=True):
        people[user_id].manager_id = manager_id
    org.loop = loop
    for user_id in order[-9:-3]:
        people[user_id].manager_id = rng.choice(loop)
    return org
