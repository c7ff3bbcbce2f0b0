"""Paginated user lists: the directory, roots, direct reports, peers, group members.

A list is a ``UserSet`` (conditions on the ``user`` table, optionally through group
membership) read a page at a time in a ``UserSort`` order, or counted.
"""

from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    CompoundSelect,
    Connection,
    FromClause,
    Integer,
    Select,
    String,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    tuple_,
    union_all,
)
from sqlalchemy import (
    column as table_column,
)
from sqlalchemy.sql.visitors import ExternallyTraversible, iterate, replacement_traverse

from db.directory_pages import (
    BinaryText,
    keyset_after,
    keyset_order,
    keyset_page,
    keyset_rows,
    keyset_select,
)
from db.directory_reads import (
    USER_COLUMNS,
    UserRecord,
    in_tenant,
    in_tenant_beside_the_key,
    manager_record,
    user_record,
    with_managers,
)
from db.tables import group_members, users


class UserSortField(Enum):
    DISPLAY_NAME = "display_name"
    USER_NAME = "user_name"
    CREATED = "created"


@dataclass(frozen=True, slots=True)
class UserSort:
    field: UserSortField = UserSortField.DISPLAY_NAME
    descending: bool = False

    def key_expression(self) -> ColumnElement[Any]:
        if self.field is UserSortField.DISPLAY_NAME:
            # A literal '' (not a bound parameter), so the expression is the index's.
            return BinaryText(func.coalesce(users.c.display_name, literal_column("''")))
        if self.field is UserSortField.USER_NAME:
            return BinaryText(users.c.user_name)
        return users.c.created

    def key_of(self, record: UserRecord) -> tuple[Any, str]:
        """The keyset position of a record: (sort value, id)."""
        if self.field is UserSortField.DISPLAY_NAME:
            return (record.display_name or "", record.id)
        if self.field is UserSortField.USER_NAME:
            return (record.user_name, record.id)
        return (record.created, record.id)

    def key_to_json(self, key: tuple[Any, str]) -> list[Any]:
        value, user_id = key
        return [value.isoformat() if isinstance(value, datetime) else value, user_id]

    def key_from_json(self, raw: object) -> tuple[Any, str]:
        """Inverse of ``key_to_json``; ValueError when ``raw`` is not such a key."""
        if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[1], str)):
            raise ValueError("not a user position")
        value = raw[0]
        if not isinstance(value, str):
            raise ValueError("not a user position")
        if self.field is UserSortField.CREATED:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError("not a user position")
            return (parsed, raw[1])
        return (value, raw[1])


@dataclass(frozen=True, slots=True)
class UserFilterSpec:
    search: str | None = None
    department: str | None = None
    title: str | None = None
    location: str | None = None
    company: str | None = None
    active: bool | None = None

    def normalised(self) -> "UserFilterSpec":
        """The same filter in the one form every spelling of it shares: the texts are
        compared lowered (``conditions``, ``search_conditions``) and an empty search is no
        search. Specs whose normalised forms are equal select the same users, so a count is
        kept by it (``UserSet.count_key``)."""
        return UserFilterSpec(
            search=self.search.lower() if self.search else None,
            department=_lowered(self.department),
            title=_lowered(self.title),
            location=_lowered(self.location),
            company=_lowered(self.company),
            active=self.active,
        )

    def conditions(self) -> list[ColumnElement[bool]]:
        """The conditions other than ``search`` (see ``search_conditions``)."""
        found: list[ColumnElement[bool]] = []
        for column, value in (
            (users.c.department, self.department),
            (users.c.title, self.title),
            (users.c.location, self.location),
            (users.c.company, self.company),
        ):
            if value is not None:
                found.append(func.lower(column) == value.lower())
        if self.active is not None:
            found.append(users.c.active.is_(self.active))
        return found


def _lowered(value: str | None) -> str | None:
    return None if value is None else value.lower()


#: The people search's index serves texts of this many characters or more (trigrams); a
#: shorter text matches the same users, found by reading the tenant.
SEARCH_INDEX_MIN_LENGTH = 3

#: SQLite's FTS5 table of the search and the key of each user's row in it (migration 0010),
#: kept in step with ``user`` by triggers.
_user_search = table("user_search", table_column("rowid", Integer))
_user_search_key = table(
    "user_search_key", table_column("key", Integer), table_column("user_id", String)
)


#: PostgreSQL's lowered displayName, userName and email of each user, one per line (NULL as
#: empty), a stored generated column of ``user`` (migration 0012) that the models leave out.
SEARCH_TEXT: ColumnElement[str] = literal_column('"user".search_text', type_=String)


def search_conditions(tenant_id: int, search: str, dialect: str) -> list[ColumnElement[bool]]:
    """Users of the tenant whose displayName, userName or email contains ``search``, in any
    case.

    The answer is the condition ``lower(column) LIKE %search%`` on both databases (on SQLite
    written ``column LIKE``, on PostgreSQL ``search_text LIKE`` or ``strpos``, each the same
    condition there, see below). A text of ``SEARCH_INDEX_MIN_LENGTH`` characters or more
    also reaches the search index: on PostgreSQL the trigram GIN index serves that same
    condition; on SQLite the candidates come from the FTS5 trigram table (which folds case
    and so finds every user the condition accepts, perhaps more), each fetched by id, and
    the condition then decides. A shorter text reads the tenant, through the short terms'
    covering indexes where it can (migrations 0011 and 0012).
    """
    needle = search.lower()
    searched = (users.c.display_name, users.c.user_name, users.c.email)
    if dialect == "sqlite":
        # The same condition without lower(): SQLite's LIKE already ignores the case of ASCII
        # letters and its lower() changes no other character (neither knows Unicode case
        # without ICU). Bare columns also let ix_user_search_short (migration 0011) answer a
        # short text's count alone, without reading the table's rows.
        matches = or_(*(column.contains(needle, autoescape=True) for column in searched))
    elif "\n" in needle:
        # SEARCH_TEXT puts a line break between the columns (below): such a text is looked
        # for in each column itself.
        matches = or_(
            *(func.lower(column).contains(needle, autoescape=True) for column in searched)
        )
    elif len(needle) < SEARCH_INDEX_MIN_LENGTH:
        # As below, written with strpos(), which no index serves: a short text is in no
        # trigram, and a statement kept prepared (psycopg prepares one after a few runs, and
        # PostgreSQL may then plan it once for any text) must never read the whole trigram
        # index for one. Its count reads ix_user_search_short instead.
        matches = func.strpos(SEARCH_TEXT, needle) > 0
    else:
        # The same condition on the three columns lowered once, when written (migration
        # 0012): a text without a line break is in one of them exactly when it is in
        # SEARCH_TEXT, where a line break separates them.
        matches = SEARCH_TEXT.contains(needle, autoescape=True)
    # FTS5's query syntax has no way to say a NUL: such a text is looked for by reading.
    if dialect != "sqlite" or len(needle) < SEARCH_INDEX_MIN_LENGTH or "\x00" in needle:
        return [in_tenant(tenant_id), matches]
    phrase = '"' + needle.replace('"', '""') + '"'
    matched = select(_user_search.c.rowid).where(
        literal_column("user_search").op("MATCH")(bindparam("search_phrase", phrase, unique=True))
    )
    candidates = select(_user_search_key.c.user_id).where(_user_search_key.c.key.in_(matched))
    # Without statistics SQLite takes an equality on the tenant for a selective one and would
    # read the whole tenant through its index, testing each user against the candidates;
    # one tenant usually holds nearly every user (likelihood() is SQLite's planner hint).
    tenant = func.likelihood(in_tenant(tenant_id), literal_column("0.9375"))
    return [tenant, users.c.id.in_(candidates), matches]


@dataclass(frozen=True, slots=True)
class UserPage:
    users: list[UserRecord]
    managers: list[UserRecord]  # of those users, fetched with them
    has_next: bool


@dataclass(frozen=True, slots=True)
class UserSet:
    """Users of one tenant meeting ``conditions`` (and in ``group_id`` when given).

    ``constant`` names columns the conditions hold at one value: pages order by them first
    (see ``keyset_page``), so an index that starts with them serves the order.
    ``scans`` says that no index serves the conditions (a search, a filter by department):
    a page may read the whole tenant to find its users, so callers run it off the event loop.
    ``count_key`` (hashable) is all that ``count`` depends on besides the tenant's data and
    the database's dialect, when the set is described by one: equal keys of one tenant
    count the same users. None: not described, so never reused.
    """

    tenant_id: int
    conditions: Sequence[ColumnElement[bool]] = field(default_factory=tuple)
    group_id: str | None = None
    constant: Sequence[ColumnElement[Any]] = field(default_factory=tuple)
    scans: bool = False
    search: str | None = None  # see ``search_conditions``
    count_key: Hashable | None = None

    def restrict(self, query: Select[Any], dialect: str) -> Select[Any]:
        if self.search:
            query = query.where(*search_conditions(self.tenant_id, self.search, dialect))
        else:
            query = query.where(in_tenant(self.tenant_id))
        query = query.where(*self.conditions)
        if self.group_id is not None:
            query = query.join(group_members, group_members.c.user_id == users.c.id).where(
                group_members.c.group_id == self.group_id
            )
        return query

    def page(
        self,
        connection: Connection,
        sort: UserSort,
        *,
        first: int,
        after: tuple[Any, str] | None,
    ) -> "UserPage":
        dialect = connection.dialect.name
        if self.sorts_its_matches(dialect):
            statement = self._search_page_statement(sort, first=first, after=after)
            page = keyset_rows(connection, statement, first=first)
        elif self.pages_ids_first(dialect):
            statement = self._ids_first_page_statement(sort, first=first, after=after)
            page = keyset_rows(connection, statement, first=first)
        elif self.group_id is not None and _is_small_group(connection, self.group_id):
            statement = self._small_group_page_statement(sort, first=first, after=after)
            page = keyset_rows(connection, statement, first=first)
        else:
            page = keyset_page(
                connection,
                with_managers(self.restrict(select(*USER_COLUMNS), dialect), self.tenant_id),
                [sort.key_expression(), users.c.id],
                first=first,
                after=after,
                descending=sort.descending,
                constant=self.constant,
            )
        return UserPage(
            [user_record(row) for row in page.rows],
            [m for m in (manager_record(row) for row in page.rows) if m is not None],
            page.has_next,
        )

    def sorts_its_matches(self, dialect: str) -> bool:
        """Whether ``page`` may sort the search's matches rather than only read the list's
        order (``_search_page_statement``): on PostgreSQL, for a text the trigram index
        serves (``search_conditions``), outside a group. A shorter text matches many users,
        found early in the order; SQLite fetches each FTS5 candidate by id either way."""
        return (
            dialect == "postgresql"
            and self.group_id is None
            and self.search is not None
            and len(self.search) >= SEARCH_INDEX_MIN_LENGTH
        )

    def pages_ids_first(self, dialect: str) -> bool:
        """Whether ``page`` finds the page's ids before their rows: a PostgreSQL search of a
        text under ``SEARCH_INDEX_MIN_LENGTH`` characters, outside a group, which
        ``_ids_first_page_statement`` answers from ix_user_search_short_page."""
        return (
            dialect == "postgresql"
            and self.group_id is None
            and self.search is not None
            and len(self.search) < SEARCH_INDEX_MIN_LENGTH
        )

    def _ids_first_page_statement(
        self, sort: UserSort, *, first: int, after: tuple[Any, str] | None
    ) -> Select[Any]:
        """A page of a short text's PostgreSQL search: the ids of the page (and of the next
        page's first user), then their rows with their managers.

        A short text is in no trigram, so the page is the list's order walked until the page
        is full; a rare text walks the whole tenant. Asked for the whole rows, PostgreSQL reads
        each user's row to test it. Asked for the ids alone, it walks an index that holds the
        order and ``search_text`` (ix_user_search_short_page, migration 0012, for the
        directory's order), tests each user in the index and reads only the page's rows.
        Another order walks its own index and tests each row, as before."""
        key = sort.key_expression()
        ids = keyset_select(
            self.restrict(select(users.c.id), "postgresql"),
            [key, users.c.id],
            first=first,
            after=after,
            descending=sort.descending,
        ).subquery("page_ids")
        return self._rows_of(ids, sort)

    def _small_group_page_statement(
        self, sort: UserSort, *, first: int, after: tuple[Any, str] | None
    ) -> Select[Any]:
        """A page of a group of at most ``SMALL_GROUP`` members: its members' ids from the
        group's range of the membership's primary key, each member's sort key probed by the
        user's primary key (NULL, and left out, for a user of another tenant), sorted; then
        the page's rows.

        Left to itself, SQLite (no statistics) walks the tenant's users in the list's order
        and probes the membership of each until the page is full: right for a group of a good
        part of the tenant, a read of the whole tenant for a small one."""
        assert self.group_id is not None
        key = sort.key_expression()
        probed_key = (
            select(key)
            .where(
                users.c.id == group_members.c.user_id,
                in_tenant_beside_the_key(literal(self.tenant_id, Integer)),
            )
            .scalar_subquery()
        )
        members = (
            select(group_members.c.user_id.label("id"), probed_key.label("sort_key"))
            .where(group_members.c.group_id == self.group_id)
            .subquery("members")
        )
        ids = keyset_select(
            select(members.c.id).where(members.c.sort_key.is_not(None)),
            [members.c.sort_key, members.c.id],
            first=first,
            after=after,
            descending=sort.descending,
        ).subquery("page_ids")
        return self._rows_of(ids, sort)

    def _rows_of(self, page: FromClause, sort: UserSort) -> Select[Any]:
        """The users whose ids ``page`` holds (its ``id`` column), with their managers, in
        the list's order: how both page statements that find ids first read the rows."""
        key = sort.key_expression()
        return with_managers(
            select(*USER_COLUMNS).join(page, page.c.id == users.c.id), self.tenant_id
        ).order_by(*keyset_order([key, users.c.id], sort.descending))

    def _search_page_statement(
        self, sort: UserSort, *, first: int, after: tuple[Any, str] | None
    ) -> Select[Any]:
        """A page of a PostgreSQL search of ``SEARCH_INDEX_MIN_LENGTH`` characters or more.

        Left to itself the planner walks ix_user_tenant_display_name and tests each user
        until the page is full: cheap when matches come early in the order, a read of
        nearly the whole tenant when they sort late (no statistic tells it where they sort).
        The trigram index finds every match at once, but sorting thousands of them costs
        more than a walk that stops early. So the statement does both, in this order:

        * ``walked``: the first ``SEARCH_PAGE_WALK`` users in the order (after the cursor),
          tested; if ``first + 1`` of them match, they are the page;
        * otherwise ``matched``: every match, through the trigram index, sorted.

        Both are MATERIALIZED CTEs (PostgreSQL 12+), evaluated on their own (so the planner
        cannot turn ``matched`` back into the walk) and only when read: whether ``walked``
        is full is evaluated once, and when it is ``matched`` is never read. Only the page's
        rows are then fetched by id, with their managers.
        """
        key = sort.key_expression()
        sort_key = key.label("sort_key")
        limit = first + 1
        tests = [
            *search_conditions(self.tenant_id, self.search or "", "postgresql"),
            *self.conditions,
        ]
        # The walk keeps the columns the tests read (a subquery's columns are built per
        # statement), SEARCH_TEXT among them.
        tested: dict[str, ColumnElement[Any]] = {}
        for condition in tests:
            for element in iterate(condition):
                if element is SEARCH_TEXT:
                    tested["search_text"] = SEARCH_TEXT.label("search_text")
                elif isinstance(element, Column) and element.table is users:
                    tested[element.name] = element
        walk = keyset_select(
            select(users.c.id, *(c for n, c in tested.items() if n != "id"), sort_key).where(
                in_tenant(self.tenant_id)
            ),
            [key, users.c.id],
            first=SEARCH_PAGE_WALK - 1,
            after=after,
            descending=sort.descending,
        ).subquery("walk")
        walk_conditions = [
            replacement_traverse(condition, {}, _columns_of(walk)) for condition in tests
        ]
        walked = (
            select(walk.c.id, walk.c.sort_key)
            .where(*walk_conditions)
            .order_by(*keyset_order([walk.c.sort_key, walk.c.id], sort.descending))
            .limit(limit)
            .cte("walked")
            .prefix_with("MATERIALIZED")
        )
        matched_query = keyset_after(
            self.restrict(select(users.c.id, sort_key), "postgresql"),
            [key, users.c.id],
            after,
            sort.descending,
        )
        matched = matched_query.cte("matched").prefix_with("MATERIALIZED")
        # ``walked`` holds the page (and the next page's first row), or fewer users.
        walked_full = select(walked.c.id).offset(first).exists()
        matched_page = (
            select(matched.c.id, matched.c.sort_key)
            .where(~walked_full)
            .order_by(*keyset_order([matched.c.sort_key, matched.c.id], sort.descending))
            .limit(limit)
            .subquery("matched_page")
        )
        found = union_all(
            select(walked.c.id, walked.c.sort_key).where(walked_full),
            select(matched_page.c.id, matched_page.c.sort_key),
        ).subquery("found")
        return self._rows_of(found, sort)

    def count(self, connection: Connection) -> int:
        if self.group_id is not None and not self.conditions and not self.search:
            # A group's members are users of its tenant (``db.group_members`` adds no
            # other): its rows of the membership, a range of the primary key, without
            # touching the users, which SQLite would otherwise walk in full.
            return int(connection.execute(_GROUP_SIZE, {"group_id": self.group_id}).scalar_one())
        query = self.restrict(select(func.count()).select_from(users), connection.dialect.name)
        return int(connection.execute(query).scalar_one())


#: Groups of up to this many members are paged from their membership (sorted), larger ones
#: by walking the tenant's users in the list's order (``UserSet.page``): the walk meets a
#: member among every (tenant's users / members) users, so it stays short where sorting the
#: whole membership would not.
SMALL_GROUP = 1000

_GROUP_ID = bindparam("group_id", type_=String)
_GROUP_SIZE = select(func.count()).where(group_members.c.group_id == _GROUP_ID)
#: ``SMALL_GROUP + 1`` rows of the membership at most: whether the group is small, without
#: counting a large one. In the primary key's order, so that it reads the group's range of
#: the key: without an order PostgreSQL, expecting any group to fill the limit early (as an
#: average group would), scanned the whole table for a small one.
_SMALL_GROUP_CHECK = select(func.count()).select_from(
    select(group_members.c.user_id)
    .where(group_members.c.group_id == _GROUP_ID)
    .order_by(group_members.c.user_id)
    .limit(SMALL_GROUP + 1)
    .subquery()
)


def _is_small_group(connection: Connection, group_id: str) -> bool:
    found = connection.execute(_SMALL_GROUP_CHECK, {"group_id": group_id}).scalar_one()
    return int(found) <= SMALL_GROUP


#: How many users of the order a search page of 3+ characters tests before it sorts the
#: trigram index's matches instead (``UserSet._search_page_statement``): a walk this long
#: costs about what sorting a few hundred matches does.
SEARCH_PAGE_WALK = 1000


def _columns_of(rows: FromClause) -> Callable[..., ExternallyTraversible | None]:
    """For ``replacement_traverse``: each column of ``user`` (and SEARCH_TEXT) as the same
    column of ``rows`` (a selection of the table's columns)."""

    def replace(element: ExternallyTraversible, **kw: Any) -> ExternallyTraversible | None:
        if isinstance(element, Column) and element.table is users:
            return rows.c[element.name]
        if element is SEARCH_TEXT:
            return rows.c.search_text
        return None

    return replace


def active_only(include_inactive: bool) -> list[ColumnElement[bool]]:
    return [] if include_inactive else [users.c.active.is_(True)]


def directory(tenant_id: int, spec: UserFilterSpec) -> UserSet:
    # Built from the normalised spec alone, which is then the count's key: the key cannot
    # say less than the conditions do.
    spec = spec.normalised()
    conditions = spec.conditions()
    # A search of fewer than SEARCH_INDEX_MIN_LENGTH characters reads the tenant.
    return UserSet(
        tenant_id,
        conditions,
        scans=bool(conditions) or bool(spec.search),
        search=spec.search,
        count_key=("directory", spec),
    )


def roots(tenant_id: int, *, include_inactive: bool) -> UserSet:
    """Users without a manager: the (tenant, no manager) range of
    ix_user_tenant_manager_display_name, already in the directory's order."""
    return UserSet(
        tenant_id,
        [users.c.manager_id.is_(None), *active_only(include_inactive)],
        constant=(users.c.manager_id,),
    )


def group_members_set(tenant_id: int, group_id: str) -> UserSet:
    return UserSet(tenant_id, (), group_id=group_id)


def direct_reports_pages(
    connection: Connection,
    tenant_id: int,
    manager_ids: Collection[str],
    *,
    include_inactive: bool,
    first: int,
    after: tuple[Any, str] | None,
) -> dict[str, UserPage]:
    """A page of direct reports for each of many managers, in one statement.

    The managers themselves are the reports' managers, so none are fetched again.
    """
    pages = {manager_id: UserPage([], [], False) for manager_id in manager_ids}
    if not manager_ids:
        return pages
    ids = sorted(set(manager_ids))
    values: dict[str, Any] = {"tenant_id": tenant_id, "limit": first + 1}
    if after is not None:
        values["after_key"], values["after_id"] = after
    if len(ids) <= FEW_MANAGERS:  # the org chart's peers and team: each read in order
        values.update((f"manager_id_{n}", manager_id) for n, manager_id in enumerate(ids))
        statement = _few_reports_statement(len(ids), include_inactive, after is not None)
    else:
        values["manager_ids"] = ids
        statement = _many_reports_statement(include_inactive, after is not None)
    found: dict[str, list[UserRecord]] = defaultdict(list)
    for row in connection.execute(statement, values).all():
        # rows are USER_COLUMNS first: the record is built from them positionally
        record = UserRecord(*row[:_USER_WIDTH])
        found[record.manager_id or ""].append(record)
    for manager_id, records in found.items():
        pages[manager_id] = team_page(records, first)
    return pages


def team_page(records: list[UserRecord], first: int) -> UserPage:
    """A page of a team from the ``first + 1`` (or fewer) reports read for it, in any order."""
    # The database compares display names byte-wise (UTF-8, or COLLATE "C"), which is the
    # order of code points: Python's own string order, so sorting here agrees.
    records.sort(key=UserSort().key_of)
    return UserPage(records[:first], [], len(records) > first)


_USER_WIDTH = len(USER_COLUMNS)


#: Up to this many managers, each one's reports are read as a range of the index in the
#: directory's order, stopping after the page (``_few_reports_statement``); more share one
#: numbered read (``_many_reports_statement``).
FEW_MANAGERS = 4


def reports_conditions(
    manager: ColumnElement[bool], include_inactive: bool, after: bool
) -> list[ColumnElement[bool]]:
    """Reports of ``manager`` (a condition on ``manager_id``) in the bound ``tenant_id``,
    active ones unless ``include_inactive``, after the bound cursor (``after_key``,
    ``after_id``) when ``after``."""
    key = UserSort().key_expression()
    conditions: list[ColumnElement[bool]] = [
        users.c.tenant_id == bindparam("tenant_id", type_=Integer),
        manager,
        *active_only(include_inactive),
    ]
    if after:
        cursor = tuple_(bindparam("after_key", type_=key.type), bindparam("after_id", type_=String))
        conditions.append(tuple_(key, users.c.id) > cursor)
    return conditions


def team_range(
    manager: ColumnElement[bool], include_inactive: bool, after: bool, limit: str
) -> Select[Any]:
    """One team's page (``reports_conditions``) as a range of
    ix_user_tenant_manager_display_name in the directory's order, cut after the bound
    ``limit`` rows: ``USER_COLUMNS``."""
    return (
        select(*USER_COLUMNS)
        .where(*reports_conditions(manager, include_inactive, after))
        .order_by(UserSort().key_expression(), users.c.id)
        .limit(bindparam(limit, type_=Integer))
    )


@cache
def _few_reports_statement(
    managers: int, include_inactive: bool, after: bool
) -> Select[Any] | CompoundSelect[Any]:
    """The direct-reports statement for ``managers`` managers, built once per shape: the
    tenant, the managers, the page size and the cursor are bound parameters, so a request
    binds values to a statement SQLAlchemy compiled and cached already.

    Each manager's part is an equal (tenant, manager) range of
    ix_user_tenant_manager_display_name read in the directory's order and cut after the page,
    whatever statistics the planner has: it reads the page, however large the team."""
    parts = [
        team_range(
            users.c.manager_id == bindparam(f"manager_id_{n}", type_=String),
            include_inactive,
            after,
            "limit",
        )
        for n in range(managers)
    ]
    if managers == 1:
        return parts[0]
    # Each part in a subquery of its own: a compound SELECT takes one ORDER BY and LIMIT.
    return union_all(*(select(part.subquery()) for part in parts))


@cache
def _many_reports_statement(include_inactive: bool, after: bool) -> Select[Any]:
    """The direct-reports statement for any number of managers, built once per shape.

    ROW_NUMBER() per manager in the directory's order keeps the first ``first + 1``: one
    statement of one shape for any number of managers, reading only their reports."""
    key = UserSort().key_expression()
    manager = users.c.manager_id.in_(bindparam("manager_ids", expanding=True, type_=String))
    conditions = reports_conditions(manager, include_inactive, after)
    limit = bindparam("limit", type_=Integer)
    position = func.row_number().over(partition_by=users.c.manager_id, order_by=(key, users.c.id))
    numbered = select(*USER_COLUMNS, position.label("position")).where(*conditions).subquery()
    return select(numbered).where(numbered.c.position <= limit)
