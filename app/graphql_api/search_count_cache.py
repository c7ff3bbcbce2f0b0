"""``totalCount`` of a directory list (``users(filter: …)``, a people search above all), per
tenant data version, shared by requests.

Why: the frontend asks ``totalCount`` on every page of a search, and the count of a short
term reads every user of the tenant (no index narrows ``LIKE '%ab%'``), while the count only
changes when the tenant's data does. So a count is kept with the tenant's data version it
was counted at (``db.org_changes``), and a request of the same list at that version takes
it instead of counting again. The statement is still the store's one (``UserSet.count``):
the cache only decides whether it runs.

Why it is correct:

* The data version moves with every committed write of the tenant (a user created, deleted,
  (de)activated, any attribute changed: the columns a filter or a search reads included),
  in the write's own transaction, and never with another tenant's write.
* A request reads the version before its count runs (``app.graphql_api.conditional``, first
  thing), and the count's statement starts afterwards: reads are autocommit on both
  databases, so it sees every commit the version counted, perhaps more. A count kept at
  version ``v`` is therefore a count of the data at ``v`` or later, never older.
* A request that read ``v`` takes a kept count only when it was kept at ``v`` or later, so
  it never answers from before a write it could see. After a write, the next request reads
  a larger version and counts again; an older count never replaces a newer one.
* The key is the tenant and the list's ``UserSet.count_key`` (the normalised filter, from
  which the statement's conditions are built): two requests share a count only when the
  store would run the same statement for them. Another tenant's key differs, so its writes
  neither move this tenant's version nor touch its entries.
* The version is the sum of committed counters read by one statement, on SQLite and on
  PostgreSQL alike, so it is the same for every process on the database: with several
  workers each keeps a cache of its own, and each sees a write made through another at its
  next request (its version is larger).

A request that has no version (over WebSocket, or when the ETag layer could not read it)
counts as before. Concurrent first requests of one list each count (no lock: nothing waits
on another request), and the last to finish is kept. Bounded: the least recently used
entries go first.
"""

from collections import OrderedDict
from collections.abc import Awaitable, Hashable

from db.database import Database
from db.directory_lists import UserSet

#: Entries per process: one per (tenant, list) recently asked for, its latest count only.
MAX_ENTRIES = 4096


class SearchCountCache:
    def __init__(self, database: Database, max_entries: int = MAX_ENTRIES) -> None:
        self._database = database
        self._max_entries = max_entries
        # (tenant, count key) -> (the data version it was counted at, the count)
        self._counts: OrderedDict[tuple[int, Hashable], tuple[int, int]] = OrderedDict()

    def count(self, users: UserSet, version: int) -> int | Awaitable[int]:
        """``users``' count at data ``version`` or later: a value when kept (no statement),
        else an awaitable that counts and keeps it. ``version`` must have been read before
        this call. A set without a ``count_key`` is counted every time."""
        if users.count_key is None:
            return self._read(users)
        key = (users.tenant_id, users.count_key)
        cached = self._counts.get(key)
        if cached is not None and cached[0] >= version:
            self._counts.move_to_end(key)
            return cached[1]
        return self._count(users, key, version)

    def __len__(self) -> int:
        return len(self._counts)

    async def _read(self, users: UserSet) -> int:
        # A count reads every user of the set, which grows with the tenant: off the loop.
        return await self._database.read(users.count, in_thread=True)

    async def _count(self, users: UserSet, key: tuple[int, Hashable], version: int) -> int:
        total = await self._read(users)
        cached = self._counts.get(key)
        if cached is None or cached[0] <= version:
            self._counts[key] = (version, total)
            self._counts.move_to_end(key)
            while len(self._counts) > self._max_entries:
                self._counts.popitem(last=False)
        return total
