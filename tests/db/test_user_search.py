"""The people search: the same users as a substring test of every row, found through an index.

The search (``db.directory_lists.search_conditions``) is "displayName, userName or email
contains the text, in any case". Migration 0010 gave it an index: SQLite's FTS5 trigram table
``user_search`` (kept in step by triggers), PostgreSQL's pg_trgm GIN index. These tests hold
it to the condition it had before the index (``lower(column) LIKE %text%`` over the tenant),
term by term, including terms under three characters (which no trigram index serves: they
match the same way, by reading the tenant), LIKE's own wildcards and FTS5's quote, and they
check that the index follows every write and that plans use it.
"""

import json
import re
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Connection, delete, event, func, insert, or_, select, update

from db.database import Database
from db.directory_lists import (
    SEARCH_INDEX_MIN_LENGTH,
    SEARCH_PAGE_WALK,
    UserFilterSpec,
    UserSort,
    UserSortField,
    directory,
)
from db.tables import users
from db.tenants import create_tenant
from db.types import utcnow
from tests.directory_rows import insert_users

#: Enough users that reading them all costs the planner more than the index does.
GROWN = 20_000

PEOPLE = [
    ("Ada Lovelace", "ada@contoso.com", "ada.lovelace@contoso.com"),
    ("ADA KING", "king@contoso.com", None),
    ("Grace Hopper", "GRACE@contoso.com", "grace.hopper@contoso.com"),
    ("Alan Turing", "turing@contoso.com", "alan@CONTOSO.com"),
    (None, "nameless@contoso.com", None),
    ("100% Sure", "percent@contoso.com", None),
    ("under_score", "underscore@contoso.com", None),
    ('Say "hi"', "quote@contoso.com", None),
    ("Zoë Ångström", "zoe@contoso.com", None),
    ("Dana Scully", "dana@fbi.gov", "DANA.SCULLY@FBI.GOV"),
    ("Two\nLines", "lines@contoso.com", None),
]
TERMS = [
    "a",
    "ad",
    "ada",
    "ADA",
    "aDa lOvE",
    "ace",
    "contoso",
    "CONTOSO.COM",
    "fbi.gov",
    "100%",
    "0%",
    "%",
    "_",
    "r_s",
    "under_",
    '"hi"',
    '"',
    'y "',
    "ångström",
    "zoë",
    "ö",
    "Å",
    "ån",
    "ZO",
    "nobody at all",
    "ring@",
    "e@c",
    # A line break: PostgreSQL's search_text puts one between the columns (migration 0012),
    # so a text holding one is never looked for across two of them.
    "two\nli",
    "lovelace\nada",
    "lines\n",
]


def _add(connection: Connection, tenant_id: int, people: Any, active: bool = True) -> list[str]:
    now = utcnow()
    rows = [
        {
            "id": str(uuid.uuid4()),
            "tenant_id": tenant_id,
            "user_name": user_name,
            "display_name": display_name,
            "email": email,
            "active": active,
            "attributes": {},
            "created": now,
            "last_modified": now,
            "version": 1,
        }
        for display_name, user_name, email in people
    ]
    connection.execute(insert(users), rows)
    return [row["id"] for row in rows]


def _before_the_index(connection: Connection, tenant_id: int, term: str) -> set[str]:
    """The search as it was before migration 0010: a substring test of every row."""
    needle = term.lower()
    condition = or_(
        *(
            func.lower(column).contains(needle, autoescape=True)
            for column in (users.c.display_name, users.c.user_name, users.c.email)
        )
    )
    query = select(users.c.id).where(users.c.tenant_id == tenant_id, condition)
    return set(connection.execute(query).scalars())


def _searched(connection: Connection, tenant_id: int, term: str) -> tuple[set[str], int]:
    found = directory(tenant_id, UserFilterSpec(search=term))
    page = found.page(connection, UserSort(), first=100, after=None)
    return {user.id for user in page.users}, found.count(connection)


@pytest.fixture
def tenants(database: Database) -> tuple[int, int]:
    def work(connection: Connection) -> tuple[int, int]:
        acme = create_tenant(connection, "acme", "Acme").id
        other = create_tenant(connection, "other", "Other").id
        _add(connection, acme, PEOPLE)
        # Another tenant's namesakes are never found.
        _add(connection, other, [("Ada Other", "ada@other.org", "ada@other.org")])
        return acme, other

    return database.write_sync(work)


@pytest.mark.parametrize("term", TERMS)
def test_the_index_finds_what_the_substring_test_found(
    database: Database, tenants: tuple[int, int], term: str
) -> None:
    acme, _ = tenants

    def work(connection: Connection) -> tuple[set[str], set[str], int]:
        ids, count = _searched(connection, acme, term)
        return ids, _before_the_index(connection, acme, term), count

    ids, expected, count = database.read_sync(work)
    assert ids == expected
    assert count == len(expected)


def test_case_short_terms_and_wildcards(database: Database, tenants: tuple[int, int]) -> None:
    acme, _ = tenants

    def names(term: str) -> set[str | None]:
        def work(connection: Connection) -> set[str | None]:
            ids, _ = _searched(connection, acme, term)
            query = select(users.c.user_name).where(users.c.id.in_(ids))
            return set(connection.execute(query).scalars())

        return database.read_sync(work)

    assert names("aDa") == {"ada@contoso.com", "king@contoso.com"}
    assert names("SCULLY") == {"dana@fbi.gov"}  # the email, in any case
    # Under SEARCH_INDEX_MIN_LENGTH characters: a substring all the same, anywhere.
    assert len("NG") < SEARCH_INDEX_MIN_LENGTH
    assert names("NG") == {"king@contoso.com", "turing@contoso.com", "zoe@contoso.com"}
    assert names("%") == {"percent@contoso.com"}  # a literal percent sign, not a wildcard
    assert names("r_s") == {"underscore@contoso.com"}
    assert names('"hi"') == {"quote@contoso.com"}  # FTS5's quote, quoted
    for syntax in ("*ur", "ur*", "a:b", "(x)", "NEAR", "-ac", "^ad", "{email}: a"):
        assert names(syntax) == set()  # FTS5's query syntax is text here
    if database.engine.dialect.name == "sqlite":  # PostgreSQL refuses a NUL in text
        assert names("ad\x00a") == set()


def test_the_index_follows_every_write(database: Database, tenants: tuple[int, int]) -> None:
    acme, _ = tenants

    def found(term: str) -> set[str]:
        return database.read_sync(lambda connection: _searched(connection, acme, term)[0])

    (hedy,) = database.write_sync(
        lambda connection: _add(connection, acme, [("Hedy Lamarr", "hedy@contoso.com", None)])
    )
    assert found("lamarr") == {hedy}
    database.write_sync(
        lambda connection: connection.execute(
            update(users)
            .where(users.c.id == hedy)
            .values(display_name="Hedy Markey", email="markey@contoso.com")
        )
    )
    assert found("lamarr") == set()
    assert found("markey") == {hedy}
    database.write_sync(
        lambda connection: connection.execute(
            update(users).where(users.c.id == hedy).values(user_name="hk@contoso.com")
        )
    )
    assert found("hedy@") == set()
    assert found("hk@cont") == {hedy}
    database.write_sync(
        lambda connection: connection.execute(delete(users).where(users.c.id == hedy))
    )
    assert found("markey") == set()
    assert found("hk@cont") == set()


def _explain(connection: Connection, statement: Any) -> str:
    compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}").scalars()
    else:
        rows = (row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    return "\n".join(rows)


@dataclass
class PlanRun:
    """A page statement's ``EXPLAIN (ANALYZE, FORMAT JSON)`` on PostgreSQL."""

    plan: dict[str, Any]
    text: str
    page_rows: int

    def nodes(self) -> list[dict[str, Any]]:
        found, todo = [], [self.plan]
        while todo:
            node = todo.pop()
            found.append(node)
            todo.extend(node.get("Plans", []))
        return found

    def rows_read(self, index: str) -> int:
        return sum(
            node["Actual Rows"] * node["Actual Loops"]
            for node in self.nodes()
            if node.get("Index Name") == index
        )

    def ran(self, index: str) -> bool:
        return any(
            node["Actual Loops"] > 0 for node in self.nodes() if node.get("Index Name") == index
        )

    def ran_cte(self, name: str) -> bool:
        return any(
            node["Actual Loops"] > 0
            for node in self.nodes()
            if node.get("Subplan Name") == f"CTE {name}"
        )


def _generic_count_plan(tenant_id: int, term: str, connection: Connection) -> str:
    """PostgreSQL's generic plan of the count statement of an active users' search for
    ``term``: the statement prepared with its parameters as $n, planned for any values."""
    found = directory(tenant_id, UserFilterSpec(search=term, active=True))
    statement = found.restrict(select(func.count()).select_from(users), "postgresql")
    compiled = statement.compile(connection)
    names: list[str] = []

    def numbered(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"${len(names)}"

    # Still in psycopg's format (a literal % doubled), which exec_driver_sql keeps.
    sql = re.sub(r"%\(([^)]+)\)s", numbered, compiled.string)
    # A setting of the session (reads run outside a transaction), set back afterwards.
    connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
    connection.exec_driver_sql(f"PREPARE generic_count AS {sql}")
    try:
        values = ", ".join(_sql_literal(compiled.params[name]) for name in names)
        lines = connection.exec_driver_sql(f"EXPLAIN EXECUTE generic_count({values})")
        return "\n".join(lines.scalars())
    finally:
        connection.exec_driver_sql("DEALLOCATE generic_count")
        connection.exec_driver_sql("RESET plan_cache_mode")


def _sql_literal(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _page_plan_run(database: Database, tenant_id: int, term: str) -> PlanRun:
    """The page statement ``UserSet.page`` runs for ``term`` (first 20), run again under
    EXPLAIN ANALYZE with the same parameters."""
    found = directory(tenant_id, UserFilterSpec(search=term, active=True))

    def work(connection: Connection) -> PlanRun:
        statements: list[tuple[str, Any]] = []

        def record(*args: Any) -> None:
            statements.append((args[2], args[3]))

        event.listen(connection, "before_cursor_execute", record)
        try:
            page = found.page(connection, UserSort(), first=20, after=None)
        finally:
            event.remove(connection, "before_cursor_execute", record)
        ((statement, parameters),) = statements
        (plan,) = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
        ).scalar_one()
        return PlanRun(plan["Plan"], json.dumps(plan, indent=1), len(page.users) + page.has_next)

    return database.read_sync(work)


def test_a_search_of_three_characters_or_more_reads_the_index(database: Database) -> None:
    def grow(connection: Connection) -> int:
        tenant_id = create_tenant(connection, "grown", "Grown").id
        insert_users(connection, tenant_id, GROWN, display_names=True)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql('ANALYZE "user"')
        return tenant_id

    tenant_id = database.write_sync(grow)

    def plans(term: str) -> list[str]:
        found = directory(tenant_id, UserFilterSpec(search=term, active=True))

        def work(connection: Connection) -> list[str]:
            dialect = connection.dialect.name
            count = found.restrict(select(func.count()).select_from(users), dialect)
            page = found.restrict(select(users.c.id), dialect).limit(21)
            return [_explain(connection, count), _explain(connection, page)]

        return database.read_sync(work)

    for plan in plans("user 14321"):
        if database.engine.dialect.name == "postgresql":
            assert "ix_user_search_trgm" in plan, plan
            assert "Seq Scan" not in plan, plan
        else:
            assert "VIRTUAL TABLE" in plan, plan
            # Each candidate fetched by id, not the tenant read to test each user.
            assert "sqlite_autoindex_user_1 (id=?)" in plan, plan
            assert "SCAN user\n" not in plan + "\n", plan
            assert "(tenant_id=?)" not in plan, plan
    # A shorter term has no trigram: it reads the tenant, and the search table is not asked.
    for plan in plans("43"):
        assert "ix_user_search_trgm" not in plan, plan
        assert "VIRTUAL TABLE" not in plan, plan
    if database.engine.dialect.name == "sqlite":
        # Its count reads the short terms' covering index alone (migration 0011), not the
        # tenant's rows.
        count_plan = plans("43")[0]
        assert "COVERING INDEX ix_user_search_short (tenant_id=?)" in count_plan
        assert "SCAN user\n" not in count_plan + "\n", count_plan
    else:
        # Its count can be answered by the short terms' index alone (migration 0012), which
        # holds the lowered search_text: an index-only scan, and no lower() per row. Whether
        # the planner prefers that to reading the table depends on how wide the rows are
        # (these are narrow; real users carry their SCIM attributes) and on how much of the
        # table a vacuum found visible to all (which another test's open transaction can
        # hold back), so the table scan is ruled out here and heap fetches are not counted.
        autocommit = database.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with autocommit as connection:
            connection.exec_driver_sql('VACUUM ANALYZE "user"')
        short = directory(tenant_id, UserFilterSpec(search="43", active=True))

        def count_plan(connection: Connection) -> tuple[str, int]:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            count = short.restrict(select(func.count()).select_from(users), "postgresql")
            compiled = count.compile(connection, compile_kwargs={"literal_binds": True})
            lines = connection.exec_driver_sql(f"EXPLAIN ANALYZE {compiled}").scalars().all()
            return "\n".join(lines), short.count(connection)

        plan, total = database.write_sync(count_plan)
        assert "Index Only Scan using ix_user_search_short" in plan, plan
        assert "lower(" not in plan, plan
        every_user = database.read_sync(lambda c: _before_the_index(c, tenant_id, "43"))
        assert total == len(every_user) > 0  # all of them active
        # psycopg prepares a statement it has run a few times, and PostgreSQL may then plan it
        # once for any text (a generic plan). The count of a short text must not become a
        # read of the whole trigram index then: the same statement, planned for any text.
        for term in ("43", "user 14321"):
            plan = database.read_sync(partial(_generic_count_plan, tenant_id, term))
            if len(term) < SEARCH_INDEX_MIN_LENGTH:
                assert "ix_user_search_trgm" not in plan, plan
            else:
                assert "ix_user_search_trgm" in plan, plan

    def page_plan(term: str) -> str:
        found = directory(tenant_id, UserFilterSpec(search=term, active=True))

        def work(connection: Connection) -> str:
            sort = UserSort()
            query = found.restrict(select(users.c.id), connection.dialect.name)
            query = query.order_by(sort.key_expression(), users.c.id).limit(21)
            return _explain(connection, query)

        return database.read_sync(work)

    def page_plan_rows(term: str) -> Any:
        """The first 21 ids of the page of ``term``, as the plain list reads them."""
        sort = UserSort()
        query = directory(tenant_id, UserFilterSpec(search=term, active=True)).restrict(
            select(users.c.id), database.engine.dialect.name
        )
        return query.order_by(sort.key_expression(), users.c.id).limit(21)

    if database.engine.dialect.name == "sqlite":
        # A page of a short term walks the same index in the directory's order: no sort.
        plan = page_plan("43")
        assert "ix_user_search_short (tenant_id=?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
    else:
        # On PostgreSQL a short term's page finds its ids first (UserSet.page): it walks the
        # short terms' index in the directory's order, testing search_text in the index, and
        # stops at the page's end; only the page's users' rows are read. The table is
        # vacuumed above, so the walk reads the index alone.
        run = _page_plan_run(database, tenant_id, "43")
        walks = [
            node
            for node in run.nodes()
            if node.get("Index Name") == "ix_user_search_short_page" and node["Actual Loops"]
        ]
        assert [node["Node Type"] for node in walks] == ["Index Only Scan"], run.text
        assert walks[0]["Actual Rows"] == run.page_rows == 21, run.text
        assert '"Seq Scan"' not in run.text, run.text
        # The user's rows: the page's 21, each by primary key (and each one's manager).
        assert run.rows_read("user_pkey") <= 2 * 21, run.text
        # The same users as walking the whole rows in the directory's order.
        rows = database.read_sync(lambda c: c.execute(page_plan_rows("43")).scalars().all())
        found = database.read_sync(
            lambda c: directory(tenant_id, UserFilterSpec(search="43", active=True)).page(
                c, UserSort(), first=20, after=None
            )
        )
        assert [user.id for user in found.users] == rows[:20]
        assert found.has_next == (len(rows) > 20)

    if database.engine.dialect.name == "postgresql":
        # A 3+ character term whose one match sorts late ("user 9999" among "user 0" …
        # "user 19999", byte-wise): the page tests at most SEARCH_PAGE_WALK users in the
        # order, then takes the matches from the trigram index and sorts them; it never
        # walks the order index to the page's end.
        late = _page_plan_run(database, tenant_id, "user 9999")
        assert late.rows_read("ix_user_tenant_display_name") <= SEARCH_PAGE_WALK, late.text
        assert late.ran("ix_user_search_trgm"), late.text
        assert late.page_rows == 1
        # A term matching early in the order: the walk finds the page; the sorted matches
        # are never read (however the planner would find them: this term matches more than
        # half the tenant) and the walk stops at the page's end.
        early = _page_plan_run(database, tenant_id, "user 1")
        assert early.rows_read("ix_user_tenant_display_name") < 100, early.text
        assert not early.ran_cte("matched"), early.text
        assert not early.ran("ix_user_search_trgm"), early.text
        assert early.page_rows == 21

    def answers(connection: Connection) -> tuple[int, set[str]]:
        return _searched(connection, tenant_id, "USER 14321")[1], _before_the_index(
            connection, tenant_id, "user 14321"
        )

    count, expected = database.read_sync(answers)
    assert count == len(expected) == 1


@pytest.mark.parametrize(
    "sort",
    [UserSort(), UserSort(UserSortField.USER_NAME, descending=True)],
    ids=["displayName", "userName-descending"],
)
@pytest.mark.parametrize("term", ["contoso", "CON", "a"])
def test_pages_after_a_cursor_follow_the_order(
    database: Database, tenants: tuple[int, int], term: str, sort: UserSort
) -> None:
    """Page after page (the ``after`` cursor) gives every match once, in the list's order,
    whether the page came from the walk of the order or from the sorted matches (on
    PostgreSQL a 3+ character term's statement has both, see
    ``UserSet._search_page_statement``; the last page here comes from the sorted matches)."""
    acme, _ = tenants

    def work(connection: Connection) -> tuple[list[str], list[str], int]:
        found = directory(acme, UserFilterSpec(search=term))
        seen: list[str] = []
        after = None
        pages = 0
        while True:
            page = found.page(connection, sort, first=3, after=after)
            pages += 1
            seen.extend(user.id for user in page.users)
            if not page.has_next:
                break
            after = sort.key_of(page.users[-1])
        ids = _before_the_index(connection, acme, term)
        query = select(users.c.id, users.c.display_name, users.c.user_name).where(
            users.c.id.in_(ids)
        )
        keys = sorted(
            (
                (name or "") if sort.field is UserSortField.DISPLAY_NAME else user_name,
                user_id,
            )
            for user_id, name, user_name in connection.execute(query)
        )
        expected = [user_id for _, user_id in keys]
        if sort.descending:
            expected.reverse()
        return seen, expected, pages

    seen, expected, pages = database.read_sync(work)
    assert seen == expected
    assert pages >= 2  # the second page, read after the first one's cursor
