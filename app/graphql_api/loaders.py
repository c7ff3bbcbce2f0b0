"""Per-request DataLoaders: every batch of look-ups of one kind is one SQL statement.

Anything that reads user rows primes ``user`` with them, so a ``manager`` that already came
back in a chain, a page or a subtree costs nothing more.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection
from strawberry.dataloader import DataLoader

from db.database import Database
from db.directory_groups import GroupRecord, groups_by_ids, groups_of_users
from db.directory_lists import UserPage, direct_reports_pages
from db.directory_reads import UserRecord, direct_report_counts, users_by_ids
from db.org_chains import management_chains
from db.org_reports import ReportKey, ReportsPage, reports_pages

T = TypeVar("T")

GroupsPage = tuple[list[GroupRecord], bool]
ChainKey = tuple[str, int]  # (user id, max depth)
CountKey = tuple[str, bool]  # (user id, include inactive)
GroupsKey = tuple[str, int, tuple[str, str] | None]  # (user id, first, after)
# (root id, min depth, max depth, include inactive, first, after)
ReportsKey = tuple[str, int, int, bool, int, ReportKey | None]
# (manager id, include inactive, first, after)
TeamKey = tuple[str, bool, int, tuple[Any, str] | None]


class Loaders:
    def __init__(self, database: Database, tenant_id: int) -> None:
        self.database = database
        self.tenant_id = tenant_id
        self._primed: dict[str, UserRecord] = {}
        self.user = DataLoader[str, UserRecord | None](load_fn=self._users)
        self.group = DataLoader[str, GroupRecord | None](load_fn=self._groups)
        self.chain = DataLoader[ChainKey, list[UserRecord]](load_fn=self._chains)
        self.direct_report_count = DataLoader[CountKey, int](load_fn=self._direct_report_counts)
        self.groups_of_user = DataLoader[GroupsKey, GroupsPage](load_fn=self._groups_of_users)
        self.direct_reports = DataLoader[TeamKey, UserPage](load_fn=self._direct_reports)
        self.reports = DataLoader[ReportsKey, ReportsPage](load_fn=self._reports)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        return await self.database.read(fn)

    def prime(self, records: Iterable[UserRecord]) -> None:
        # Only a dictionary: ``user`` looks here before it asks the store. Priming the
        # DataLoader itself makes a future per record (~0.15 ms for a page of 100).
        for record in records:
            self._primed[record.id] = record

    def primed_user(self, user_id: str) -> UserRecord | None:
        """A record some page already brought (no await needed), else None."""
        return self._primed.get(user_id)

    async def _users(self, ids: Sequence[str]) -> list[UserRecord | None]:
        primed = self._primed
        missing = [user_id for user_id in ids if user_id not in primed]
        if missing:
            found = await self.read(partial(users_by_ids, tenant_id=self.tenant_id, ids=missing))
            primed.update(found)
        return [primed.get(user_id) for user_id in ids]

    async def _groups(self, ids: Sequence[str]) -> list[GroupRecord | None]:
        found = await self.read(partial(groups_by_ids, tenant_id=self.tenant_id, ids=ids))
        return [found.get(group_id) for group_id in ids]

    async def _chains(self, keys: Sequence[ChainKey]) -> list[list[UserRecord]]:
        by_depth: dict[int, set[str]] = defaultdict(set)
        for user_id, max_depth in keys:
            by_depth[max_depth].add(user_id)
        found: dict[ChainKey, list[UserRecord]] = {}
        for max_depth, ids in by_depth.items():
            chains = await self.read(
                partial(
                    management_chains,
                    tenant_id=self.tenant_id,
                    user_ids=ids,
                    max_depth=max_depth,
                )
            )
            for user_id, chain in chains.items():
                found[(user_id, max_depth)] = chain
                self.prime(chain)
        return [found[key] for key in keys]

    async def _direct_report_counts(self, keys: Sequence[CountKey]) -> list[int]:
        found: dict[CountKey, int] = {}
        for include_inactive in {flag for _, flag in keys}:
            ids = [user_id for user_id, flag in keys if flag is include_inactive]
            counts = await self.read(
                partial(
                    direct_report_counts,
                    tenant_id=self.tenant_id,
                    manager_ids=ids,
                    include_inactive=include_inactive,
                )
            )
            for user_id in ids:
                found[(user_id, include_inactive)] = counts.get(user_id, 0)
        return [found[key] for key in keys]

    async def _reports(self, keys: Sequence[ReportsKey]) -> list[ReportsPage]:
        by_page: dict[tuple[int, int, bool, int, ReportKey | None], set[str]] = defaultdict(set)
        for root_id, min_depth, max_depth, include_inactive, first, after in keys:
            by_page[(min_depth, max_depth, include_inactive, first, after)].add(root_id)
        found: dict[ReportsKey, ReportsPage] = {}
        for (min_depth, max_depth, include_inactive, first, after), ids in by_page.items():
            pages = await self.read(
                partial(
                    reports_pages,
                    tenant_id=self.tenant_id,
                    root_ids=ids,
                    min_depth=min_depth,
                    max_depth=max_depth,
                    include_inactive=include_inactive,
                    first=first,
                    after=after,
                )
            )
            for root_id, page in pages.items():
                found[(root_id, min_depth, max_depth, include_inactive, first, after)] = page
                self.prime(row.user for row in page.rows)
                self.prime(row.manager for row in page.rows if row.manager is not None)
        return [found[key] for key in keys]

    async def _direct_reports(self, keys: Sequence[TeamKey]) -> list[UserPage]:
        by_page: dict[tuple[bool, int, tuple[Any, str] | None], set[str]] = defaultdict(set)
        for manager_id, include_inactive, first, after in keys:
            by_page[(include_inactive, first, after)].add(manager_id)
        found: dict[TeamKey, UserPage] = {}
        for (include_inactive, first, after), ids in by_page.items():
            pages = await self.read(
                partial(
                    direct_reports_pages,
                    tenant_id=self.tenant_id,
                    manager_ids=ids,
                    include_inactive=include_inactive,
                    first=first,
                    after=after,
                )
            )
            for manager_id, page in pages.items():
                found[(manager_id, include_inactive, first, after)] = page
                self.prime(page.users)
        return [found[key] for key in keys]

    async def _groups_of_users(self, keys: Sequence[GroupsKey]) -> list[GroupsPage]:
        by_page: dict[tuple[int, tuple[str, str] | None], set[str]] = defaultdict(set)
        for user_id, first, after in keys:
            by_page[(first, after)].add(user_id)
        found: dict[GroupsKey, GroupsPage] = {}
        for (first, after), ids in by_page.items():
            pages = await self.read(
                partial(
                    groups_of_users,
                    tenant_id=self.tenant_id,
                    user_ids=ids,
                    first=first,
                    after=after,
                )
            )
            for user_id, page in pages.items():
                found[(user_id, first, after)] = page
        return [found[key] for key in keys]
