"""A user and the newest page of its history in one statement (db.user_activity): the same
user and the same page as the two reads it stands for, on both databases."""

from typing import Any

import pytest
from sqlalchemy import Connection, insert

from db.activity_reads import EventPage, resource_activity_pages
from db.database import Database
from db.directory_reads import users_by_ids
from db.tables import activity_events, users
from db.user_activity import user_with_activity
from tests.activity_rows import event_row, insert_events
from tests.db.test_activity_reads import tenants
from tests.db.test_directory_order_index import captured_statement, explain
from tests.directory_rows import count_statements, user_row


@pytest.fixture
def log(database: Database) -> dict[str, Any]:
    """Ada with 12 events (one of them still unnumbered), Grace with none, a group sharing
    Ada's id, other users' events between Ada's, and globex's events about Ada's id."""
    acme, globex = tenants(database)
    ada, grace = "ada-id", "grace-id"

    def work(connection: Connection) -> list[int]:
        connection.execute(
            insert(users),
            [
                user_row(acme, ada, "Ada.Lovelace@Example.com", display_name="Ada"),
                user_row(acme, grace, "grace@example.com", display_name="Grace"),
                user_row(globex, "globex-ada", "Ada.Lovelace@Example.com"),
            ],
        )
        mine = insert_events(
            connection,
            acme,
            [
                {"resource_id": ada} if n % 2 == 0 else {"resource_id": f"user-{n}"}
                for n in range(24)
            ]
            + [{"resource_id": ada, "resource_type": "Group"}],
        )
        insert_events(connection, globex, [{"resource_id": ada} for _ in range(3)])
        connection.execute(insert(activity_events), [event_row(acme, None, resource_id=ada)])
        return mine

    database.write_sync(work)
    return {"acme": acme, "globex": globex, "ada": ada, "grace": grace}


def separately(
    database: Database, tenant_id: int, user_id: str, first: int, before: int | None
) -> tuple[Any, EventPage]:
    """What the two reads give: the user by id, and its page of history."""

    def work(connection: Connection) -> tuple[Any, EventPage]:
        found = users_by_ids(connection, tenant_id, [user_id])
        pages = resource_activity_pages(
            connection, tenant_id, [user_id], resource_type="User", first=first, before=before
        )
        return found.get(user_id), pages[user_id]

    return database.read_sync(work)


@pytest.mark.parametrize("by_name", [False, True])
def test_the_user_and_each_page_of_its_history_as_read_apart(
    database: Database, log: dict[str, Any], by_name: bool
) -> None:
    acme, ada = log["acme"], log["ada"]
    key = "ada.lovelace@EXAMPLE.com" if by_name else ada
    before = None
    seen: list[int] = []
    while True:
        with count_statements(*database.engines) as statements:
            user, page = database.read_sync(
                lambda c, b=before: user_with_activity(
                    c, acme, key, by_name=by_name, first=5, before=b
                )
            )
        assert statements.count == 1
        assert (user, page) == separately(database, acme, ada, 5, before)
        assert user is not None
        assert user.id == ada
        seen.extend(event.seq for event in page.events)
        if not page.has_next:
            break
        before = page.events[-1].seq
    # Ada's twelve numbered User events, newest first: not the group's, not the unnumbered
    # one, not globex's
    assert len(seen) == 12
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("first", [1, 12, 13])
def test_has_next_at_the_edge_of_the_history(
    database: Database, log: dict[str, Any], first: int
) -> None:
    acme, ada = log["acme"], log["ada"]
    user, page = database.read_sync(
        lambda c: user_with_activity(c, acme, ada, by_name=False, first=first, before=None)
    )
    assert (user, page) == separately(database, acme, ada, first, None)
    assert len(page.events) == min(first, 12)
    assert page.has_next == (first < 12)


def test_a_user_without_history_and_no_such_user(database: Database, log: dict[str, Any]) -> None:
    acme, globex = log["acme"], log["globex"]
    grace, page = database.read_sync(
        lambda c: user_with_activity(
            c, acme, "GRACE@example.com", by_name=True, first=5, before=None
        )
    )
    assert grace is not None
    assert grace.display_name == "Grace"
    assert page == EventPage([], False)
    for tenant_id, key, by_name in (
        (acme, "nobody@example.com", True),
        (acme, "globex-ada", False),  # another tenant's user
        (globex, log["ada"], False),
    ):
        assert database.read_sync(
            lambda c, t=tenant_id, k=key, n=by_name: user_with_activity(
                c, t, k, by_name=n, first=5, before=None
            )
        ) == (None, EventPage([], False))


@pytest.mark.parametrize("before", [None, 10_000])
def test_the_page_walks_the_resource_index_with_its_limit(
    database: Database, before: int | None
) -> None:
    """The page is read through ix_activity_tenant_resource, newest first, and stops at its
    LIMIT: no sort of the user's whole history (measured on a log where the user is one of
    many, with statistics, as db.activity_reads' own page test)."""
    acme, _ = tenants(database)
    database.write_sync(
        lambda c: c.execute(insert(users), [user_row(acme, "ada-id", "ada@example.com")])
    )
    others = [{"resource_id": f"user-{n % 400}"} for n in range(3000)]
    mine = [{"resource_id": "ada-id"} for _ in range(200)]
    database.write_sync(lambda c: insert_events(c, acme, [*others[:1500], *mine, *others[1500:]]))
    if not database.is_sqlite:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE activity_event")
            c.exec_driver_sql('ANALYZE "user"')
    statement, parameters = captured_statement(
        database,
        "activity_event",
        lambda c: user_with_activity(c, acme, "ada-id", by_name=False, first=10, before=before),
    )
    described = explain(database, statement, parameters)
    text = " ".join(described)
    assert "ix_activity_tenant_resource" in text, described
    if database.is_sqlite:
        # the page's own walk sorts nothing; only its LIMIT of rows is put back in order
        page = described[
            described.index("MATERIALIZE page") : described.index("SCAN page LEFT-JOIN")
        ]
        assert any("ix_activity_tenant_resource" in line for line in page), described
        assert not any("TEMP B-TREE" in line for line in page), described
    else:
        limit = next(n for n, line in enumerate(described) if line.strip().startswith("->  Limit"))
        scan = next(n for n, line in enumerate(described) if "ix_activity_tenant_resource" in line)
        assert limit < scan
        assert not any("Sort" in line for line in described[limit:scan]), described
