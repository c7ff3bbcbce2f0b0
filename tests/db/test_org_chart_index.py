"""The org chart's reads walk ix_user_tenant_manager_display_name, on both databases.

The org chart page opens with the roots (users without a manager), then one person with a
page of their direct reports and each report's count of reports; expanding a person reads
the next page. Each of those must be a range of one (tenant, manager) of the index, read in
the directory's order, so its cost follows the manager's span and not the tenant's size.

The tenant gets a few thousand users in bulk (and another tenant as many roots), once per
backend for the whole module: the tests only read them. SQLite gets no ANALYZE, as a
directory Entra filled has none: its planner's choice is the one a real tenant gets. One
manager's page needs no statistics on PostgreSQL either; where its planner costs from them
(a list of managers, the roots) the test takes the org with statistics (``analyzed``), as
autovacuum would gather them.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, insert, text

from db.database import Database
from db.directory_groups import groups_of_users
from db.directory_lists import (
    FEW_MANAGERS,
    UserPage,
    UserSort,
    direct_reports_pages,
    roots,
)
from db.directory_reads import direct_report_counts, users_by_ids
from db.groups import create_group
from db.org_chains import upward_paths
from db.org_neighbourhood import FirstPage, Neighbourhood, org_neighbourhood
from db.tables import group_members, users
from db.tenants import create_tenant
from db.types import utcnow
from db.user_team import user_with_direct_reports
from tests.conftest import BACKENDS, empty_database_url, postgres_database_of_its_own
from tests.db.test_directory_order_index import captured_statement, explain
from tests.directory_rows import count_statements, user_row

INDEX = "ix_user_tenant_manager_display_name"
ROWS = 3000
SPAN = 8
# Byte-wise order puts "Zoë" before "zoe" and "Émile" after both; None sorts as "".
NAMES = ["zoe", "Zoë", "Émile", "ada", "Ada", None, "Bob", "bob", "Çelik", "Ümit"]


def user_id(number: int) -> str:
    return f"u-{number:05d}"


def manager_of(number: int) -> str | None:
    return None if number == 0 else user_id((number - 1) // SPAN)


def display_name(number: int) -> str | None:
    name = NAMES[(number * 7) % len(NAMES)]
    return None if name is None else f"{name} {number % 13}"


def build_org(database: Database) -> int:
    """A tree of ``ROWS`` users, ``SPAN`` reports per manager, plus two more roots, in tenant
    acme (its id is returned); another tenant holds ``ROWS`` roots."""

    def work(connection: Connection) -> int:
        tenant = create_tenant(connection, "acme")
        other = create_tenant(connection, "other")
        now = utcnow()

        def row(tenant_id: int, number: int, manager: str | None, active: bool = True) -> Any:
            return user_row(
                tenant_id,
                f"{tenant_id}-{user_id(number)}" if tenant_id == other.id else user_id(number),
                f"user{number}@contoso.com",
                display_name=display_name(number),
                manager_id=manager,
                active=active,
                now=now,
            )

        tree = [row(tenant.id, n, manager_of(n), active=n % 11 != 5) for n in range(ROWS)]
        extra_roots = [row(tenant.id, ROWS + n, None) for n in range(2)]
        elsewhere = [row(other.id, n, None) for n in range(ROWS)]
        connection.execute(insert(users), tree + extra_roots + elsewhere)
        return tenant.id

    return database.write_sync(work)


@dataclass(frozen=True)
class BuiltOrg:
    database: Database
    tenant_id: int


@pytest.fixture(scope="module", params=BACKENDS)
def built(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[BuiltOrg]:
    """The org, built once per backend for the module: its tests only read it, except
    ``analyzed`` (statistics, in a database of its own) and ``with_groups`` (groups, added
    once)."""
    url = empty_database_url(request, tmp_path_factory.mktemp("org_index"), sqlite_template)
    database = Database(url)
    try:
        yield BuiltOrg(database, build_org(database))
    finally:
        database.dispose()


@pytest.fixture
def database(built: BuiltOrg) -> Database:
    return built.database


@pytest.fixture
def org(built: BuiltOrg) -> int:
    return built.tenant_id


@pytest.fixture
def analyzed(built: BuiltOrg) -> Iterator[BuiltOrg]:
    """The org with statistics that describe it, as PostgreSQL's autovacuum gathers them once
    a table has grown this much (the test cannot wait for it). On PostgreSQL it is built
    again in a database of its own, so that the module's other tests plan without statistics
    as before, and so does every later test in the session's database (TRUNCATE leaves them).
    SQLite never gathers any by itself: it plans without, as on a directory Entra filled."""
    if built.database.is_sqlite:
        yield built
        return
    shared = built.database.url.render_as_string(hide_password=False)
    with postgres_database_of_its_own(shared, "analyzed") as url:
        database = Database(url)
        try:
            tenant_id = build_org(database)
            database.write_sync(lambda c: c.exec_driver_sql('ANALYZE "user"'))
            yield BuiltOrg(database, tenant_id)
        finally:
            database.dispose()


def expected_reports(include_inactive: bool) -> dict[str, list[str]]:
    reports: dict[str, list[str]] = defaultdict(list)
    for number in sorted(range(1, ROWS), key=lambda n: (display_name(n) or "", user_id(n))):
        if include_inactive or number % 11 != 5:
            manager = manager_of(number)
            assert manager is not None
            reports[manager].append(user_id(number))
    return reports


def plan_of(database: Database, marker: str, work: Callable[[Connection], object]) -> str:
    statement, parameters = captured_statement(database, marker, work)
    return "\n".join(explain(database, statement, parameters))


def assert_manager_lookups(database: Database, plan: str) -> None:
    """A list of managers is looked up by manager: a (tenant, manager) range of the index, or
    on PostgreSQL ix_user_manager's entries for those ids (ids are unique across tenants),
    never a range of the whole tenant."""
    if database.is_sqlite:
        assert_ranges_over_the_index(database, plan)
    else:
        assert re.search(r"Index Cond: \(.*manager_id\)::text = ANY", plan), plan
        assert "Seq Scan" not in plan, plan


def assert_ranges_over_the_index(database: Database, plan: str) -> None:
    """The users are read as (tenant, manager) ranges of the index, nothing wider."""
    if database.is_sqlite:
        searches = re.findall(rf"INDEX {INDEX} \(tenant_id=\? AND manager_id=\?", plan)
        assert len(searches) == 1, plan
        assert "ix_user_tenant_display_name" not in plan, plan
    else:
        scans = re.split(rf"(?:using|Bitmap Index Scan on) {INDEX}", plan)[1:]
        assert len(scans) == 1, plan
        for scan in scans:
            assert re.match(r".*\n\s*Index Cond: \(\(tenant_id = \d+\) AND \(+manager_id", scan), (
                plan
            )
        assert "Seq Scan" not in plan, plan


@pytest.mark.parametrize("after", [None, ("M", "")])
def test_one_managers_page_is_a_range_read_in_order(
    database: Database, org: int, after: tuple[str, str] | None
) -> None:
    """What the org chart asks: one person's reports, first page or next. No statistics."""

    def pages(connection: Connection) -> object:
        return direct_reports_pages(
            connection, org, [user_id(0)], include_inactive=False, first=5, after=after
        )

    plan = plan_of(database, "SELECT", pages)
    assert_ranges_over_the_index(database, plan)
    assert "TEMP B-TREE" not in plan.upper()  # SQLite: the range is read in order
    assert "Sort" not in plan  # PostgreSQL: likewise


@pytest.mark.parametrize("managers", [2, FEW_MANAGERS])
def test_a_few_managers_pages_are_each_a_range_read_in_order(
    database: Database, org: int, managers: int
) -> None:
    """The org chart's peers and team: each manager's page read in order and cut after the
    page, however large the team. No statistics."""
    manager_ids = [user_id(n) for n in range(managers)]

    def pages(connection: Connection) -> object:
        return direct_reports_pages(
            connection, org, manager_ids, include_inactive=False, first=5, after=("M", "")
        )

    plan = plan_of(database, "SELECT", pages)
    if database.is_sqlite:
        searches = re.findall(rf"INDEX {INDEX} \(tenant_id=\? AND manager_id=\?", plan)
        assert len(searches) == managers, plan
        assert "TEMP B-TREE" not in plan.upper(), plan
    else:
        assert len(re.findall(rf"Index Scan using {INDEX}", plan)) == managers, plan
        assert "Sort" not in plan, plan
        assert len(re.findall(r"Limit", plan)) == managers, plan


@pytest.mark.parametrize("managers", [FEW_MANAGERS + 1, 40])
def test_many_managers_pages_read_only_their_ranges(analyzed: BuiltOrg, managers: int) -> None:
    database, org = analyzed.database, analyzed.tenant_id
    manager_ids = [user_id(n) for n in range(managers)]

    def pages(connection: Connection) -> object:
        return direct_reports_pages(
            connection, org, manager_ids, include_inactive=True, first=5, after=None
        )

    assert_manager_lookups(database, plan_of(database, "SELECT", pages))


def test_the_roots_page_reads_the_index_in_order(analyzed: BuiltOrg) -> None:
    """Another tenant's thousands of roots are not read (ix_user_manager holds no roots)."""
    database, org = analyzed.database, analyzed.tenant_id
    top = roots(org, include_inactive=True)
    plan = plan_of(database, "ORDER BY", lambda c: top.page(c, UserSort(), first=50, after=None))
    assert_ranges_over_the_index(database, plan)
    assert "TEMP B-TREE" not in plan.upper()  # SQLite: no sort step
    assert "Sort" not in plan  # PostgreSQL: likewise
    assert_ranges_over_the_index(database, plan_of(database, "count", top.count))


def test_direct_report_counts_look_up_the_managers(analyzed: BuiltOrg) -> None:
    database, org = analyzed.database, analyzed.tenant_id
    reports = [user_id(n) for n in range(40)]

    def counts(connection: Connection) -> object:
        return direct_report_counts(connection, org, reports, include_inactive=False)

    assert_manager_lookups(database, plan_of(database, "count", counts))


def read_pages(
    database: Database,
    org: int,
    managers: list[str],
    *,
    include_inactive: bool,
    first: int,
    after: tuple[str, str] | None,
) -> dict[str, UserPage]:
    def read(connection: Connection) -> dict[str, UserPage]:
        return direct_reports_pages(
            connection, org, managers, include_inactive=include_inactive, first=first, after=after
        )

    return database.read_sync(read)


@pytest.mark.parametrize("managers", [1, 2, FEW_MANAGERS, FEW_MANAGERS + 1, 60])
@pytest.mark.parametrize("include_inactive", [True, False])
@pytest.mark.parametrize("after", [None, ("M", ""), ("Zoë 3", "u-00000")])
def test_pages_follow_the_directory_order(
    database: Database,
    org: int,
    managers: int,
    include_inactive: bool,
    after: tuple[str, str] | None,
) -> None:
    """The directory's order for one manager and for many: byte-wise display name, then id."""
    ids = [user_id(n) for n in range(managers)]
    expected = expected_reports(include_inactive)
    for first in (1, SPAN - 1, SPAN):
        pages = read_pages(
            database, org, ids, include_inactive=include_inactive, first=first, after=after
        )
        assert set(pages) == set(ids)
        for manager in ids:
            rest = [
                report
                for report in expected[manager]
                if after is None or (display_name(int(report[2:])) or "", report) > after
            ]
            assert [record.id for record in pages[manager].users] == rest[:first]
            assert pages[manager].has_next == (len(rest) > first)


def test_a_cursor_walks_one_managers_reports(database: Database, org: int) -> None:
    walked: list[str] = []
    after: tuple[str, str] | None = None
    while True:
        page = read_pages(database, org, [user_id(2)], include_inactive=True, first=3, after=after)[
            user_id(2)
        ]
        walked += [record.id for record in page.users]
        if not page.has_next:
            break
        after = UserSort().key_of(page.users[-1])
    assert walked == expected_reports(True)[user_id(2)]


def test_the_roots_are_the_users_without_a_manager(database: Database, org: int) -> None:
    top = roots(org, include_inactive=True)
    page = database.read_sync(lambda c: top.page(c, UserSort(), first=2, after=None))
    expected = sorted(
        (user_id(n) for n in (0, ROWS, ROWS + 1)), key=lambda i: (display_name(int(i[2:])) or "", i)
    )
    assert [record.id for record in page.users] == expected[:2]
    assert page.has_next
    after = UserSort().key_of(page.users[-1])
    rest = database.read_sync(lambda c: top.page(c, UserSort(), first=2, after=after))
    assert [record.id for record in rest.users] == expected[2:]
    assert not rest.has_next
    assert database.read_sync(top.count) == 3


def test_the_index_sorts_byte_wise_and_replaces_the_manager_prefix(database: Database) -> None:
    if database.is_sqlite:
        names = database.read_sync(
            lambda c: (
                c.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'user'"
                    )
                )
                .scalars()
                .all()
            )
        )
        definition = database.read_sync(
            lambda c: c.execute(
                text("SELECT sql FROM sqlite_master WHERE name = :name"), {"name": INDEX}
            ).scalar_one()
        )
        assert "manager_id, coalesce(display_name, ''), id" in definition
    else:
        names = database.read_sync(
            lambda c: (
                c.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'user'"))
                .scalars()
                .all()
            )
        )
        definition = database.read_sync(
            lambda c: c.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"), {"name": INDEX}
            ).scalar_one()
        )
        assert 'COLLATE "C"' in definition
    assert INDEX in names
    assert "ix_user_tenant_manager" not in names  # a prefix of the new index


@pytest.mark.parametrize("include_inactive", [True, False])
@pytest.mark.parametrize("after", [None, ("M", ""), ("Zoë 3", "u-00000")])
@pytest.mark.parametrize("first", [1, 5, 8, 9])
def test_a_user_with_its_team_as_read_apart(
    database: Database,
    org: int,
    include_inactive: bool,
    after: tuple[str, str] | None,
    first: int,
) -> None:
    """db.user_team: the user and its page of direct reports in one statement, the same as
    the user by id and direct_reports_pages' page for it; nothing for a user of no tenant's."""
    for person in (user_id(0), user_id(3), user_id(ROWS - 1), user_id(ROWS), "nobody"):

        def together(connection: Connection, person: str = person) -> object:
            return user_with_direct_reports(
                connection, org, person, include_inactive=include_inactive, first=first, after=after
            )

        def apart(connection: Connection, person: str = person) -> object:
            found = users_by_ids(connection, org, [person])
            pages = direct_reports_pages(
                connection,
                org,
                [person],
                include_inactive=include_inactive,
                first=first,
                after=after,
            )
            if person not in found:
                return None, UserPage([], [], False)
            return found[person], pages[person]

        with count_statements(*database.engines) as statements:
            user, page = database.read_sync(together)
        assert statements.count == 1
        assert (user, page) == database.read_sync(apart)
        if person == user_id(0):
            assert user is not None
            assert page.users  # a manager with a team, of which a page


def test_a_user_with_its_team_reads_the_teams_range_in_order(database: Database, org: int) -> None:
    def together(connection: Connection) -> object:
        return user_with_direct_reports(
            connection, org, user_id(0), include_inactive=False, first=5, after=("M", "")
        )

    plan = plan_of(database, "SELECT", together)
    assert_ranges_over_the_index(database, plan)
    assert "TEMP B-TREE" not in plan.upper()  # SQLite: the range is read in order
    assert "Sort" not in plan  # PostgreSQL: likewise


@pytest.mark.parametrize(
    ("team", "managers_team"),
    [
        (FirstPage(False, 5), FirstPage(False, 6)),
        (FirstPage(True, 8), None),
        (None, FirstPage(True, 1)),
        (FirstPage(False, 1), FirstPage(True, 9)),
    ],
)
def test_the_org_around_a_person_as_read_apart(
    database: Database, org: int, team: FirstPage | None, managers_team: FirstPage | None
) -> None:
    """db.org_neighbourhood: the person's path and the first pages of their team and their
    manager's, in one statement, the same as upward_paths and direct_reports_pages give."""
    people = [user_id(0), user_id(3), user_id(100), user_id(ROWS - 1), user_id(ROWS), "nobody"]
    for person in people:

        def together(connection: Connection, person: str = person) -> Neighbourhood:
            return org_neighbourhood(
                connection, org, person, max_depth=50, team=team, managers_team=managers_team
            )

        def apart(connection: Connection, person: str = person) -> Neighbourhood:
            path = upward_paths(connection, org, [person], 50)[person]
            if not path:
                return Neighbourhood([], None, None)

            def page(manager: str | None, asked: FirstPage | None) -> UserPage | None:
                if asked is None or manager is None:
                    return None
                return direct_reports_pages(
                    connection,
                    org,
                    [manager],
                    include_inactive=asked.include_inactive,
                    first=asked.first,
                    after=None,
                )[manager]

            return Neighbourhood(
                path, page(path[0].id, team), page(path[0].manager_id, managers_team)
            )

        with count_statements(*database.engines) as statements:
            found = database.read_sync(together)
        assert statements.count == 1
        assert found == database.read_sync(apart)
        if person == user_id(100):
            assert len(found.path) > 2
            assert found.managers_team is None or found.managers_team.users


#: Group names that sort differently byte-wise and by any locale, with their members.
GROUP_NAMES = ["zoe", "Zoë 2", "Émile", "ada", "Ada 2", "Bob", "bob 2", "Çelik", "Ümit", "_x"]


@pytest.fixture(scope="module")
def with_groups(built: BuiltOrg) -> BuiltOrg:
    """The org with groups of ``GROUP_NAMES``, added once: user 3 is in all of them, user 100
    in every fourth."""

    def add_groups(connection: Connection) -> None:
        for number, name in enumerate(GROUP_NAMES):
            members = [user_id(3)] + ([user_id(100)] if number % 4 == 0 else [])
            create_group(connection, built.tenant_id, name, member_ids=members)
        # A membership no write would make: another tenant's group holding this person.
        other = create_tenant(connection, "globex")
        elsewhere = create_group(connection, other.id, "Elsewhere")
        connection.execute(
            insert(group_members), [{"group_id": elsewhere.id, "user_id": user_id(3)}]
        )

    built.database.write_sync(add_groups)
    return built


@pytest.mark.parametrize("first", [1, 3, 9, 10, 11])
@pytest.mark.parametrize("teams", [False, True])
def test_the_org_around_a_person_with_their_groups_as_read_apart(
    with_groups: BuiltOrg, first: int, teams: bool
) -> None:
    """With ``groups``, the person's first page of groups comes in the same statement, as
    groups_of_users reads it: the page in byte-wise order, whether there is more, the total;
    no other tenant's groups, and none of a person without any."""
    database, org = with_groups.database, with_groups.tenant_id
    team, peers = (FirstPage(False, 4), FirstPage(True, 5)) if teams else (None, None)
    for person in [user_id(3), user_id(100), user_id(0), "nobody"]:

        def together(connection: Connection, person: str = person) -> Neighbourhood:
            return org_neighbourhood(
                connection, org, person, max_depth=1, team=team, managers_team=peers, groups=first
            )

        def apart(connection: Connection, person: str = person) -> object:
            return groups_of_users(connection, org, [person], first=first, after=None)[person]

        with count_statements(*database.engines) as statements:
            found = database.read_sync(together)
        assert statements.count == 1
        if person == "nobody":
            assert found == Neighbourhood([], None, None)
            continue
        assert found.groups == database.read_sync(apart)
        assert found.groups is not None
        expected = sorted(
            name
            for number, name in enumerate(GROUP_NAMES)
            if person == user_id(3) or (person == user_id(100) and number % 4 == 0)
        )
        assert [group.display_name for group in found.groups.records] == expected[:first]
        assert (found.groups.total, found.groups.has_next) == (len(expected), len(expected) > first)
        assert [record.id for record in found.path] == [person] + (
            [manager_of(int(person[2:]))] if person != user_id(0) else []
        )
        assert (found.team is not None) is teams


def test_the_org_around_a_person_reads_each_team_as_a_range(database: Database, org: int) -> None:
    def together(connection: Connection) -> object:
        return org_neighbourhood(
            connection,
            org,
            user_id(3),
            max_depth=50,
            team=FirstPage(False, 20),
            managers_team=FirstPage(False, 21),
        )

    plan = plan_of(database, "RECURSIVE", together)
    if database.is_sqlite:
        ranges = re.findall(rf"INDEX {INDEX} \(tenant_id=\? AND manager_id=\?", plan)
        assert len(ranges) == 2, plan
    else:
        assert len(re.findall(rf"Index Scan using {INDEX}", plan)) == 2, plan
        assert len(re.findall(r"Limit", plan)) == 2, plan
    assert "ix_user_tenant_display_name" not in plan, plan
    assert "Seq Scan" not in plan, plan
