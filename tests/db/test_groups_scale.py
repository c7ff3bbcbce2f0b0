"""Membership at scale and under concurrency: constant statement counts, no lost members."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from db import groups as repo
from db.database import Database
from db.errors import Conflict
from db.group_members import count_members
from db.tenants import create_tenant
from tests.directory_rows import count_statements, insert_users

T = TypeVar("T")
LARGE = 100_000


@pytest.fixture
def tenant_id(database: Database) -> int:
    return database.write_sync(lambda c: create_tenant(c, "acme")).id


def _in_parallel(workers: int, job: Callable[[int], T]) -> list[T | Exception]:
    """Run ``job(i)`` on ``workers`` threads released at once; results or raised errors."""
    barrier = threading.Barrier(workers)

    def run(number: int) -> T | Exception:
        barrier.wait()
        try:
            return job(number)
        except Exception as error:
            return error

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


def test_concurrent_single_member_adds_lose_nothing(database: Database, tenant_id: int) -> None:
    user_ids = database.write_sync(lambda c: insert_users(c, tenant_id, 50))
    group = database.write_sync(lambda c: repo.create_group(c, tenant_id, "Sales"))

    def add(number: int) -> None:
        database.write_sync(lambda c: repo.add_members(c, tenant_id, group.id, [user_ids[number]]))

    results = _in_parallel(50, add)
    assert results == [None] * 50  # add() returns nothing
    assert database.read_sync(lambda c: count_members(c, group.id)) == 50
    after = database.read_sync(lambda c: repo.get_group(c, tenant_id, group.id))
    assert after.version == 51


def test_concurrent_adds_of_the_same_member_store_it_once(
    database: Database, tenant_id: int
) -> None:
    user_id = database.write_sync(lambda c: insert_users(c, tenant_id, 1))[0]
    group = database.write_sync(lambda c: repo.create_group(c, tenant_id, "Sales"))
    results = _in_parallel(
        20,
        lambda _: database.write_sync(
            lambda c: repo.add_members(c, tenant_id, group.id, [user_id])
        ),
    )
    # exactly one of them added the member (and says so: the activity log lists it once)
    assert sorted(list(delta.added) for delta in results) == [[]] * 19 + [[user_id]]
    assert database.read_sync(lambda c: count_members(c, group.id)) == 1


def test_concurrent_duplicate_creates_one_wins(database: Database, tenant_id: int) -> None:
    def create(number: int) -> str:
        name = "Sales" if number % 2 else "SALES"
        return database.write_sync(lambda c: repo.create_group(c, tenant_id, name)).id

    results = _in_parallel(10, create)
    created = [r for r in results if isinstance(r, str)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(created) == 1
    assert len(conflicts) == 9
    assert database.read_sync(lambda c: repo.count_groups(c, tenant_id)) == 1


@pytest.mark.slow
def test_statement_counts_do_not_grow_with_group_size(database: Database, tenant_id: int) -> None:
    user_ids = database.write_sync(lambda c: insert_users(c, tenant_id, LARGE + 1))
    newcomer = user_ids[-1]
    empty = database.write_sync(lambda c: repo.create_group(c, tenant_id, "Empty"))
    large = database.write_sync(lambda c: repo.create_group(c, tenant_id, "Large"))
    for start in range(0, LARGE, 5000):
        batch = user_ids[start : start + 5000]
        database.write_sync(lambda c, b=batch: repo.add_members(c, tenant_id, large.id, b))  # type: ignore[misc]
    assert database.read_sync(lambda c: count_members(c, large.id)) == LARGE

    engines = database.engines

    def costs(group_id: str) -> list[int]:
        counts = []
        for work in (
            lambda c: repo.add_members(c, tenant_id, group_id, [newcomer]),
            lambda c: repo.remove_members(c, tenant_id, group_id, [newcomer]),
        ):
            with count_statements(*engines) as log:
                database.write_sync(work)
            counts.append(log.count)
        with count_statements(*engines) as log:
            assert not database.read_sync(
                lambda c: repo.has_member(c, tenant_id, group_id, newcomer)
            )
        counts.append(log.count)
        with count_statements(*engines) as log:
            database.read_sync(lambda c: repo.get_group(c, tenant_id, group_id, with_members=False))
        counts.append(log.count)
        return counts

    assert costs(large.id) == costs(empty.id)
    assert database.read_sync(lambda c: repo.has_member(c, tenant_id, large.id, user_ids[7]))
    assert database.read_sync(lambda c: count_members(c, large.id)) == LARGE
