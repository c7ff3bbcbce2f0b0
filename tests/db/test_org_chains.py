"""Upward paths: the user, then its managers, in one recursive statement from ids or names."""

import random
import re
from typing import Any

import pytest
from sqlalchemy import Connection, event, text, update

from db.database import Database
from db.directory_reads import USER_COLUMNS
from db.org_chains import collect_paths, upward_paths, upward_paths_by_name
from db.tables import users
from db.tenants import create_tenant
from tests.db.test_directory_order_index import captured_statement, explain, insert_org
from tests.directory_rows import insert_users


def set_managers(connection: Connection, managers: dict[str, str | None]) -> None:
    for user_id, manager_id in managers.items():
        connection.execute(update(users).where(users.c.id == user_id).values(manager_id=manager_id))


def ids_of(paths: dict[str, list]) -> dict[str, list[str]]:  # type: ignore[type-arg]
    return {key: [record.id for record in path] for key, path in paths.items()}


def test_a_path_is_the_user_then_its_managers_nearest_first(database: Database) -> None:
    tenant = database.write_sync(lambda c: create_tenant(c, "acme"))
    a, b, c, d = database.write_sync(lambda conn: insert_users(conn, tenant.id, 4))
    database.write_sync(lambda conn: set_managers(conn, {a: b, b: c, c: d}))
    paths = database.read_sync(lambda conn: upward_paths(conn, tenant.id, [a, c, "nobody"], 50))
    assert ids_of(paths) == {a: [a, b, c, d], c: [c, d], "nobody": []}
    shallow = database.read_sync(lambda conn: upward_paths(conn, tenant.id, [a], 1))
    assert ids_of(shallow) == {a: [a, b]}
    alone = database.read_sync(lambda conn: upward_paths(conn, tenant.id, [d], 0))
    assert ids_of(alone) == {d: [d]}


def test_loops_are_cut_before_anyone_repeats(database: Database) -> None:
    tenant = database.write_sync(lambda c: create_tenant(c, "acme"))
    a, b, x, s = database.write_sync(lambda conn: insert_users(conn, tenant.id, 4))
    # a and b manage each other; x reports into the loop; s manages itself
    database.write_sync(lambda conn: set_managers(conn, {a: b, b: a, x: a, s: s}))
    paths = database.read_sync(lambda conn: upward_paths(conn, tenant.id, [a, x, s], 50))
    assert ids_of(paths) == {a: [a, b], x: [x, a, b], s: [s]}


def test_a_manager_in_another_tenant_ends_the_path(database: Database) -> None:
    acme = database.write_sync(lambda c: create_tenant(c, "acme"))
    globex = database.write_sync(lambda c: create_tenant(c, "globex"))
    (ours,) = database.write_sync(lambda conn: insert_users(conn, acme.id, 1))
    theirs, above = database.write_sync(lambda conn: insert_users(conn, globex.id, 2, "g"))
    database.write_sync(lambda conn: set_managers(conn, {ours: theirs, theirs: above}))
    paths = database.read_sync(lambda conn: upward_paths(conn, acme.id, [ours, theirs], 50))
    assert ids_of(paths) == {ours: [ours], theirs: []}


def test_paths_by_user_name_ignore_case_and_are_keyed_by_the_lowered_name(
    database: Database,
) -> None:
    acme = database.write_sync(lambda c: create_tenant(c, "acme"))
    globex = database.write_sync(lambda c: create_tenant(c, "globex"))
    a, b = database.write_sync(lambda conn: insert_users(conn, acme.id, 2))
    database.write_sync(lambda conn: insert_users(conn, globex.id, 1, "other"))
    database.write_sync(lambda conn: set_managers(conn, {a: b}))
    names = ["USER0@Example.com", "user1@example.com", "other0@example.com", "nobody@x"]
    paths = database.read_sync(lambda conn: upward_paths_by_name(conn, acme.id, names, 50))
    assert ids_of(paths) == {
        "user0@example.com": [a, b],
        "user1@example.com": [b],
        "other0@example.com": [],  # another tenant's user
        "nobody@x": [],
    }
    by_id = database.read_sync(lambda conn: upward_paths(conn, acme.id, [a], 50))
    assert paths["user0@example.com"] == by_id[a]  # the same records either way


def test_two_people_are_walked_by_one_statement_of_fixed_text(database: Database) -> None:
    """Two people (a reporting path, a common manager) are walked as each alone would be, by
    a statement whose SQL text is the same for every pair: no IN rendered per execution."""
    tenant = database.write_sync(lambda c: create_tenant(c, "acme"))
    a, b, c, d, e = database.write_sync(lambda conn: insert_users(conn, tenant.id, 5))
    database.write_sync(lambda conn: set_managers(conn, {a: b, b: c, d: c, e: d}))
    pair = database.read_sync(lambda conn: upward_paths(conn, tenant.id, [e, a], 50))
    assert ids_of(pair) == {a: [a, b, c], e: [e, d, c]}
    for one in (a, e):
        alone = database.read_sync(lambda conn, one=one: upward_paths(conn, tenant.id, [one], 50))
        assert pair[one] == alone[one]
    names = database.read_sync(
        lambda conn: upward_paths_by_name(
            conn, tenant.id, ["USER4@example.com", "user0@example.com"], 50
        )
    )
    assert names == {"user4@example.com": pair[e], "user0@example.com": pair[a]}
    rendered: list[bool] = []

    def note(*args: Any) -> None:
        if "RECURSIVE" in args[2]:  # SQLAlchemy renders an expanding IN into the text
            rendered.append(args[2] != args[4].compiled.string)

    event.listen(database.read_engine, "before_cursor_execute", note)
    try:
        for keys in ([a, e], [b, "nobody"], [a, b, e]):
            database.read_sync(lambda conn, k=keys: upward_paths(conn, tenant.id, k, 50))
    finally:
        event.remove(database.read_engine, "before_cursor_execute", note)
    assert rendered == [False, False, True]  # three people and more: an IN of as many


@pytest.mark.parametrize(
    "names",
    [
        ["user17@contoso.com"],
        ["user17@contoso.com", "USER2900@contoso.com"],
        ["user17@contoso.com", "USER2900@contoso.com", "user5@contoso.com"],
    ],
)
def test_paths_by_user_name_start_from_the_user_name_index(
    database: Database, names: list[str]
) -> None:
    tenant = database.write_sync(lambda c: create_tenant(c, "acme"))
    database.write_sync(lambda c: insert_org(c, tenant.id, 3000))
    if not database.is_sqlite:  # as the server does once a table has grown (issue 17)
        database.write_sync(lambda c: c.execute(text('ANALYZE "user"')))
    statement, parameters = captured_statement(
        database, "RECURSIVE", lambda c: upward_paths_by_name(c, tenant.id, names, 50)
    )
    described = " ".join(explain(database, statement, parameters))
    assert "ux_user_tenant_username" in described, described


def test_each_level_of_the_walk_is_one_look_up_by_primary_key(database: Database) -> None:
    """The walk carries each person's row: ``user`` is read where the walk starts and where
    it steps to a manager, and never joined again to the walk's rows afterwards."""
    tenant = database.write_sync(lambda c: create_tenant(c, "acme"))
    database.write_sync(lambda c: insert_org(c, tenant.id, 3000))
    if not database.is_sqlite:
        database.write_sync(lambda c: c.execute(text('ANALYZE "user"')))
    statement, parameters = captured_statement(
        database, "RECURSIVE", lambda c: upward_paths(c, tenant.id, ["user-2999"], 50)
    )
    described = explain(database, statement, parameters)
    if database.is_sqlite:
        reads = [line for line in described if re.search(r"\b(SEARCH|SCAN) user\b", line)]
        assert len(reads) == 2, described
        assert all("sqlite_autoindex_user_1 (id=?)" in line for line in reads), described
    else:
        reads = [line for line in described if re.search(r'\bon "user"', line)]
        assert len(reads) == 2, described
        assert all("user_pkey" in line for line in reads), described
    path = database.read_sync(lambda c: upward_paths(c, tenant.id, ["user-2999"], 50))
    assert [record.id for record in path["user-2999"]] == [
        "user-2999",
        "user-374",
        "user-46",
        "user-5",
        "user-0",
    ]


def test_the_walk_leaves_putting_its_rows_in_order_to_python(database: Database) -> None:
    """No sort in the statement (SQLite's sorter cost more than the walk's own look-ups):
    ``collect_paths`` orders the rows."""
    tenant = database.write_sync(lambda c: create_tenant(c, "acme"))
    database.write_sync(lambda c: insert_org(c, tenant.id, 3000))
    if not database.is_sqlite:
        database.write_sync(lambda c: c.execute(text('ANALYZE "user"')))
    statement, parameters = captured_statement(
        database,
        "RECURSIVE",
        lambda c: upward_paths(c, tenant.id, ["user-2999", "user-1500"], 50),
    )
    described = " ".join(explain(database, statement, parameters))
    assert "ORDER BY" not in described, described  # SQLite's "USE TEMP B-TREE FOR ORDER BY"
    assert "Sort" not in described, described  # PostgreSQL's Sort node


def test_paths_come_out_the_same_whatever_order_the_rows_come_in() -> None:
    def row(key: str, depth: int, user_id: str) -> tuple[Any, ...]:
        # the start's key, the depth, then the record's columns: id, userName, externalId,
        # active, and the rest blank, as many as the record has
        return (key, depth, user_id, user_id, None, True, *([None] * (len(USER_COLUMNS) - 4)))

    rows = [row("a", 0, "a"), row("a", 1, "m"), row("a", 2, "top"), row("b", 0, "b")]
    rows += [row("b", 1, "top"), row("c", 0, "c"), row("c", 1, "c2"), row("c", 2, "c")]
    expected = {"a": ["a", "m", "top"], "b": ["b", "top"], "c": ["c", "c2"], "none": []}
    shuffled = random.Random(17)
    for _ in range(20):
        shuffled.shuffle(rows)
        assert ids_of(collect_paths(rows, expected)) == expected
