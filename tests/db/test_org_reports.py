"""A page of transitive reports brings each manager the caller lacks once, and its rows in the
cursor's order (depth, then displayName byte-wise, then id), for one root or several."""

from typing import Any

import pytest
from sqlalchemy import Connection, insert

from db.database import Database
from db.org_reports import ReportKey, ReportsPage, report_key, reports_pages
from db.tables import users
from db.tenants import create_tenant
from db.types import utcnow
from tests.directory_rows import user_row

# root -> a, b -> three reports each; names in byte-wise order "Zoë" < "ada" < "zed" < "Émile",
# and a None that sorts as "".
TREE = {
    "a": "root",
    "b": "root",
    "a1": "a",
    "a2": "a",
    "a3": "a",
    "b1": "b",
    "b2": "b",
    "b3": "b",
}
NAMES = {"a1": "ada", "a2": "Émile", "a3": None, "b1": "Zoë", "b2": "ada", "b3": "zed"}
SKIP_LEVEL_ORDER = ["a3", "b1", "a1", "b2", "b3", "a2"]


@pytest.fixture
def org(database: Database) -> int:
    def work(connection: Connection) -> int:
        tenant = create_tenant(connection, "acme")
        now = utcnow()

        def row(user_id: str, manager: str | None) -> dict[str, Any]:
            name = NAMES.get(user_id, user_id)
            return user_row(
                tenant.id,
                user_id,
                f"{user_id}@contoso.com",
                display_name=name,
                manager_id=manager,
                now=now,
            )

        rows = [row("root", None)] + [row(user, manager) for user, manager in TREE.items()]
        connection.execute(insert(users), rows)
        return tenant.id

    return database.write_sync(work)


def pages(
    database: Database,
    tenant_id: int,
    root_ids: list[str],
    *,
    min_depth: int,
    first: int = 10,
    after: ReportKey | None = None,
) -> dict[str, ReportsPage]:
    def work(connection: Connection) -> dict[str, ReportsPage]:
        return reports_pages(
            connection,
            tenant_id,
            root_ids,
            min_depth=min_depth,
            max_depth=2,
            include_inactive=False,
            first=first,
            after=after,
        )

    return database.read_sync(work)


def ids(page: ReportsPage) -> list[str]:
    return [row.user.id for row in page.rows]


@pytest.mark.parametrize("root_ids", [["root"], ["root", "a"]])
def test_skip_level_page_brings_each_manager_once(
    database: Database, org: int, root_ids: list[str]
) -> None:
    page = pages(database, org, root_ids, min_depth=2)["root"]
    assert ids(page) == SKIP_LEVEL_ORDER
    assert sorted(manager.id for manager in page.managers) == ["a", "b"]
    assert (page.has_next, page.total) == (False, 6)


def test_managers_listed_on_the_page_are_not_brought_again(database: Database, org: int) -> None:
    by_root = pages(database, org, ["root", "a"], min_depth=1)
    assert ids(by_root["root"]) == ["a", "b", *SKIP_LEVEL_ORDER]
    assert by_root["root"].managers == []  # the root and a, b: the caller has them
    assert ids(by_root["a"]) == ["a3", "a1", "a2"]
    assert by_root["a"].managers == []


def test_after_a_cursor_the_page_brings_its_managers_once(database: Database, org: int) -> None:
    first = pages(database, org, ["root"], min_depth=2, first=2)["root"]
    assert ids(first) == SKIP_LEVEL_ORDER[:2]
    assert first.has_next
    after = report_key(first.rows[-1])
    rest = pages(database, org, ["root"], min_depth=2, first=3, after=after)["root"]
    assert ids(rest) == SKIP_LEVEL_ORDER[2:5]
    assert sorted(manager.id for manager in rest.managers) == ["a", "b"]
    assert rest.has_next
