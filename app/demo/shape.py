"""The shape of the demo organisation: how many people sit on each level, and who manages whom.

Levels grow geometrically from one CEO, so the tree is 5 to 8 levels deep (fewer only for a
handful of people, more only past two million) and every manager has 2 to 12 direct reports.
"""

import math
import random

MIN_SPAN = 2
MAX_SPAN = 12
MIN_LEVELS = 5
MAX_LEVELS = 8
# Growth per level kept well below MAX_SPAN, so rounding never pushes a level past it.
MAX_GROWTH = 8.0


def growth(total: float, terms: int) -> float:
    """The ratio r with 1 + r + ... + r**(terms - 1) == total."""
    low, high = 0.0, max(1.0, total)
    for _ in range(80):
        middle = (low + high) / 2
        found = sum(middle**term for term in range(terms))
        low, high = (middle, high) if found < total else (low, middle)
    return low


def heads(size: int) -> int:
    """The CEO's direct reports: enough for several departments even in a small demo."""
    return max(3, min(8, size // 25))


def level_growth(size: int, levels: int) -> float:
    """Growth per level below the CEO's reports."""
    return growth((size - 1) / heads(size), levels - 1)


MIN_SIZE = 1 + 3 + MIN_SPAN * (MIN_LEVELS - 2)  # five levels: 1, 3, 2, 2, 2


def choose_levels(size: int, rng: random.Random) -> int:
    if size < MIN_SIZE:
        raise ValueError(f"a demo organisation needs at least {MIN_SIZE} people")
    fitting = [
        levels
        for levels in range(MIN_LEVELS, MAX_LEVELS + 1)
        if MIN_SPAN <= level_growth(size, levels) <= MAX_GROWTH
    ]
    if fitting:
        return rng.choice(fitting)
    if level_growth(size, MIN_LEVELS) < MIN_SPAN:
        return MIN_LEVELS
    levels = MAX_LEVELS
    while level_growth(size, levels) > MAX_GROWTH:
        levels += 1
    return levels


def level_sizes(size: int, levels: int) -> list[int]:
    """People per level: one at the top, every level at least two, the rest at the bottom."""
    top, ratio = heads(size), level_growth(size, levels)
    sizes = [1, top] + [max(MIN_SPAN, int(top * ratio**level)) for level in range(1, levels - 2)]
    sizes.append(size - sum(sizes))
    return sizes


def spans(managers: int, reports: int, rng: random.Random) -> list[int]:
    """Split ``reports`` people among ``managers``, each getting 2 to 12."""
    counts = [MIN_SPAN] * managers
    open_slots = list(range(managers))
    for _ in range(reports - MIN_SPAN * managers):
        slot = rng.randrange(len(open_slots))
        manager = open_slots[slot]
        counts[manager] += 1
        if counts[manager] == MAX_SPAN:
            open_slots[slot] = open_slots[-1]
            open_slots.pop()
    return counts


def manager_count(members: int, reports: int, rng: random.Random) -> int:
    """How many of a level's ``members`` manage the ``reports`` on the level below."""
    low = math.ceil(reports / MAX_SPAN)
    high = min(members, reports // MIN_SPAN)
    wanted = round(reports / rng.uniform(3.0, 8.0))
    return min(high, max(low, wanted))


def tree(size: int, rng: random.Random) -> list[list[int]]:
    """For each level, the index (on the level above) of each person's manager.

    The top level is ``[-1]``; level k's list says, for each of its people, which person of
    level k - 1 they report to.
    """
    sizes = level_sizes(size, choose_levels(size, rng))
    result = [[-1]]
    for level in range(1, len(sizes)):
        above, here = sizes[level - 1], sizes[level]
        count = manager_count(above, here, rng)
        # Above level 2 the managers are the CEO and the heads of departments (the CEO's
        # first reports); further down, anyone may manage.
        chosen = list(range(count)) if level <= 2 else sorted(rng.sample(range(above), count))
        managers: list[int] = []
        for manager, span in zip(chosen, spans(len(chosen), here, rng), strict=True):
            managers += [manager] * span
        result.append(managers)
    return result
