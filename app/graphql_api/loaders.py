"""Per-request DataLoaders: every batch of look-ups of one kind is one SQL statement.

Anything that reads user rows primes ``user`` with them, so a ``manager`` that already came
back in a path, a page or a subtree costs nothing more. Upward paths (a user and the managers
above) are kept for the request too: a chain asked for again, or asked for after the user was
fetched with it, is answered from them.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property, partial
from typing import Any, TypeVar

from sqlalchemy import Connection
from strawberry.dataloader import DataLoader

from db.activity_reads import EventPage, EventRecord, events_by_seqs, resource_activity_pages
from db.database import Database
from db.directory_groups import GroupRecord, UserGroupsPage, groups_by_ids, groups_of_users
from db.directory_lists import UserPage, direct_reports_pages
from db.directory_reads import UserRecord, users_by_ids, users_by_user_names
from db.org_chains import Path, upward_paths, upward_paths_by_name
from db.org_reports import ReportKey, ReportsPage, reports_pages

T = TypeVar("T")
V = TypeVar("V")

PathKey = tuple[str, int]  # (user id, or lowered userName; managers above, at most)
GroupsKey = tuple[str, int, tuple[str, str] | None]  # (user id, first, after)
# (root id, min depth, max depth, include inactive, first, after)
ReportsKey = tuple[str, int, int, bool, int, ReportKey | None]
# (manager id, include inactive, first, after)
TeamKey = tuple[str, bool, int, tuple[Any, str] | None]
# (resource id, resource type, first, before seq)
ActivityKey = tuple[str, str, int, int | None]


class Loaders:
    """Each loader is made when first used: a request uses one or two of them. (A loader's
    types are its property's annotation: ``DataLoader[K, V](...)`` would build the generic
    alias at run time on every request.)"""

    def __init__(self, database: Database, tenant_id: int) -> None:
        self.database = database
        self.tenant_id = tenant_id
        self._primed: dict[str, UserRecord] = {}
        # user id -> (the depth it was fetched to, its path)
        self._paths: dict[str, tuple[int, Path]] = {}

    @cached_property
    def user(self) -> DataLoader[str, UserRecord | None]:
        return DataLoader(load_fn=self._users)

    @cached_property
    def user_by_name(self) -> DataLoader[str, UserRecord | None]:
        """Keyed by the lowered userName: the names a page asks for are one statement."""
        return DataLoader(load_fn=self._users_by_names)

    @cached_property
    def group(self) -> DataLoader[str, GroupRecord | None]:
        return DataLoader(load_fn=self._groups)

    @cached_property
    def path(self) -> DataLoader[PathKey, Path]:
        """A user followed by the managers above it (``db.org_chains``); empty when no such
        user."""
        return DataLoader(load_fn=self._upward_paths)

    @cached_property
    def path_by_name(self) -> DataLoader[PathKey, Path]:
        """``path`` keyed by the lowered userName."""
        return DataLoader(load_fn=self._upward_paths_by_name)

    @cached_property
    def groups_of_user(self) -> DataLoader[GroupsKey, UserGroupsPage]:
        return DataLoader(load_fn=self._groups_of_users)

    @cached_property
    def direct_reports(self) -> DataLoader[TeamKey, UserPage]:
        return DataLoader(load_fn=self._direct_reports)

    @cached_property
    def reports(self) -> DataLoader[ReportsKey, ReportsPage]:
        return DataLoader(load_fn=self._reports)

    @cached_property
    def activity_event(self) -> DataLoader[int, EventRecord | None]:
        return DataLoader(load_fn=self._activity_events)

    @cached_property
    def resource_activity(self) -> DataLoader[ActivityKey, EventPage]:
        return DataLoader(load_fn=self._resource_activity)

    def release(self) -> None:
        """Let go of everything loaded. Each DataLoader holds a bound method of this object,
        a reference cycle: dropping them here lets reference counting free the lot."""
        self._primed.clear()
        self._paths.clear()
        for name in _LOADER_NAMES:
            self.__dict__.pop(name, None)

    async def read(self, fn: Callable[[Connection], T], *, in_thread: bool = False) -> T:
        return await self.database.read(fn, in_thread=in_thread)

    def prime(self, records: Iterable[UserRecord]) -> None:
        # Only a dictionary: ``user`` looks here before it asks the store. Priming the
        # DataLoader itself would make a future per record, and most are never asked for.
        for record in records:
            self._primed[record.id] = record

    def primed_user(self, user_id: str) -> UserRecord | None:
        """A record some page already brought (no await needed), else None."""
        return self._primed.get(user_id)

    def known_path(self, user_id: str, max_depth: int) -> Path | None:
        """The user and at most ``max_depth`` managers above, when a path already fetched
        holds them (no await needed), else None."""
        known = self._paths.get(user_id)
        if known is None:
            return None
        fetched_to, path = known
        # A path shorter than the depth it was fetched to ended there: it is whole.
        if len(path) - 1 >= max_depth or len(path) - 1 < fetched_to:
            return path[: max_depth + 1]
        return None

    def keep_path(self, path: Path, fetched_to: int) -> None:
        """A path fetched with up to ``fetched_to`` managers, for ``known_path``."""
        self._keep_paths([path], fetched_to)

    def _keep_paths(self, paths: Iterable[Path], fetched_to: int) -> None:
        for path in paths:
            if path:
                self.prime(path)
                self._paths[path[0].id] = (fetched_to, path)

    async def _users(self, ids: Sequence[str]) -> list[UserRecord | None]:
        primed = self._primed
        missing = [user_id for user_id in ids if user_id not in primed]
        if missing:
            found = await self.read(partial(users_by_ids, tenant_id=self.tenant_id, ids=missing))
            primed.update(found)
        return [primed.get(user_id) for user_id in ids]

    async def _users_by_names(self, names: Sequence[str]) -> list[UserRecord | None]:
        found = await self.read(
            partial(users_by_user_names, tenant_id=self.tenant_id, user_names=names)
        )
        self.prime(found.values())
        return [found.get(name) for name in names]

    async def _groups(self, ids: Sequence[str]) -> list[GroupRecord | None]:
        found = await self.read(partial(groups_by_ids, tenant_id=self.tenant_id, ids=ids))
        return [found.get(group_id) for group_id in ids]

    async def _grouped(
        self,
        keys: Sequence[tuple[Any, ...]],
        fetch: Callable[..., Mapping[str, V]],
        ids_as: str,
        parameters: tuple[str, ...],
        default: V | None = None,
    ) -> list[V]:
        """Answer ``keys`` — ``(id, *parameter values)`` — with one ``fetch`` per distinct set
        of parameter values: a page of users asking for the same page of each one's reports is
        one statement. ``fetch`` maps each id it was given to its value (``default`` for the
        ids it leaves out, if given)."""
        groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        for key in keys:
            groups[key[1:]].append(key[0])
        found: dict[tuple[Any, ...], V] = {}
        for values, ids in groups.items():
            arguments = dict(zip(parameters, values, strict=True))
            results = await self.read(
                partial(fetch, tenant_id=self.tenant_id, **{ids_as: ids}, **arguments)
            )
            for item_id in ids:
                value = results[item_id] if default is None else results.get(item_id, default)
                found[(item_id, *values)] = value
        return [found[key] for key in keys]

    async def _upward_paths(self, keys: Sequence[PathKey]) -> list[Path]:
        missing = [key for key in keys if self.known_path(*key) is None]
        if missing:
            # One statement to the deepest depth asked for; each key gets its own part.
            deepest = max(depth for _, depth in missing)
            ids = {user_id for user_id, _ in missing}
            found = await self.read(
                partial(upward_paths, tenant_id=self.tenant_id, user_ids=ids, max_depth=deepest)
            )
            self._keep_paths(found.values(), deepest)
        return [self.known_path(*key) or [] for key in keys]

    async def _upward_paths_by_name(self, keys: Sequence[PathKey]) -> list[Path]:
        deepest = max(depth for _, depth in keys)
        found = await self.read(
            partial(
                upward_paths_by_name,
                tenant_id=self.tenant_id,
                user_names={name for name, _ in keys},
                max_depth=deepest,
            )
        )
        self._keep_paths(found.values(), deepest)
        return [found[name][: depth + 1] for name, depth in keys]

    async def _reports(self, keys: Sequence[ReportsKey]) -> list[ReportsPage]:
        pages = await self._grouped(
            keys,
            reports_pages,
            "root_ids",
            ("min_depth", "max_depth", "include_inactive", "first", "after"),
        )
        for page in pages:
            self.prime(row.user for row in page.rows)
            self.prime(page.managers)
        return pages

    async def _direct_reports(self, keys: Sequence[TeamKey]) -> list[UserPage]:
        # Pages of different sizes (the org chart's peers and team) share one statement: the
        # largest size asked for is fetched, and each key gets its own first rows of it.
        widest: dict[tuple[bool, tuple[Any, str] | None], int] = {}
        for _, include_inactive, first, after in keys:
            shape = (include_inactive, after)
            widest[shape] = max(first, widest.get(shape, 0))
        wide = [(m, inactive, widest[(inactive, after)], after) for m, inactive, _, after in keys]
        pages = await self._grouped(
            wide, direct_reports_pages, "manager_ids", ("include_inactive", "first", "after")
        )
        trimmed = []
        for (_, _, first, _), page in zip(keys, pages, strict=True):
            self.prime(page.users)
            more = page.has_next or len(page.users) > first
            trimmed.append(UserPage(page.users[:first], page.managers, more))
        return trimmed

    async def _groups_of_users(self, keys: Sequence[GroupsKey]) -> list[UserGroupsPage]:
        return await self._grouped(keys, groups_of_users, "user_ids", ("first", "after"))

    async def _activity_events(self, seqs: Sequence[int]) -> list[EventRecord | None]:
        found = await self.read(partial(events_by_seqs, tenant_id=self.tenant_id, seqs=seqs))
        return [found.get(seq) for seq in seqs]

    async def _resource_activity(self, keys: Sequence[ActivityKey]) -> list[EventPage]:
        return await self._grouped(
            keys, resource_activity_pages, "resource_ids", ("resource_type", "first", "before")
        )


#: The loaders' names: each is made when first used and kept in the instance's ``__dict__``.
_LOADER_NAMES = tuple(
    name for name, value in vars(Loaders).items() if isinstance(value, cached_property)
)
