"""``db.prepared.PreparedSelect`` returns what ``connection.execute(...).mappings()`` does."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, event, func, select, update
from sqlalchemy.exc import IntegrityError

from db.database import Database
from db.prepared import PreparedSelect, PreparedWrite
from db.tables import users
from db.tenants import create_tenant
from db.users import USER_WITH_MANAGER, insert_user, list_users


@pytest.fixture
def acme(database: Database) -> int:
    def work(connection: Connection) -> int:
        tenant = create_tenant(connection, "acme").id
        boss = insert_user(
            connection, tenant, {"user_name": "boss", "display_name": "Boss", "attributes": {}}
        )
        insert_user(
            connection,
            tenant,
            {
                "user_name": "Zoë",
                "active": False,
                "manager_id": boss,
                "attributes": {"nickName": "z", "nested": {"list": [1, "ü"]}},
            },
        )
        return tenant

    return database.write_sync(work)


STATEMENT = USER_WITH_MANAGER.where(
    users.c.tenant_id == bindparam("tenant_id"),
    func.lower(users.c.user_name) == func.lower(bindparam("name")),
    users.c.email.is_(None),  # a value fixed in the statement is bound too
    users.c.user_name != "fixed",
)


@pytest.mark.parametrize("name", ["ZOË", "zoë", "boss", "nobody"])
def test_rows_are_sqlalchemys(database: Database, acme: int, name: str) -> None:
    prepared = PreparedSelect(STATEMENT)
    values = {"tenant_id": acme, "name": name}
    fast = database.read_sync(lambda c: prepared.rows(c, values))
    slow = database.read_sync(
        lambda c: [dict(row) for row in c.execute(STATEMENT, values).mappings()]
    )
    assert fast == slow
    if name == "boss":
        assert len(fast) == 1
        assert fast[0]["attributes"] == {}
        assert fast[0]["active"] is True
        assert isinstance(fast[0]["created"], datetime)
        assert fast[0]["created"].tzinfo is not None


def test_types_come_back_converted(database: Database, acme: int) -> None:
    prepared = PreparedSelect(STATEMENT)
    [row] = database.read_sync(lambda c: prepared.rows(c, {"tenant_id": acme, "name": "zoë"}))
    assert row["active"] is False
    assert row["attributes"] == {"nickName": "z", "nested": {"list": [1, "ü"]}}
    assert row["manager_display_name"] == "Boss"
    assert row["created"] <= datetime.now(UTC)


def test_values_rendered_into_sql_are_refused() -> None:
    statement = select(users.c.id).where(users.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="renders values"):
        PreparedSelect(statement)


def test_cursor_events_fire_once_per_lookup(database: Database, acme: int) -> None:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engines = database.engines
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        where = func.lower(users.c.user_name) == func.lower(bindparam("filter_value"))
        order = (users.c.created, users.c.id)
        total, rows = database.read_sync(
            lambda c: list_users(c, acme, where, order, 0, 10, {"filter_value": "BOSS"})
        )
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
    assert (total, [row["user_name"] for row in rows]) == (1, ["boss"])
    assert len(statements) == 1


def test_prepared_writes_count_rows_and_raise_sqlalchemys_errors(
    database: Database, acme: int
) -> None:
    rename = PreparedWrite(
        update(users)
        .where(users.c.tenant_id == bindparam("tenant"), users.c.user_name == bindparam("old"))
        .values(user_name=bindparam("new"))
    )

    def renamed(old: str, new: str) -> int:
        return database.write_sync(
            lambda c: rename.execute(c, {"tenant": acme, "old": old, "new": new})
        )

    assert renamed("nobody", "x") == 0
    assert renamed("Zoë", "zoe") == 1
    with pytest.raises(IntegrityError):
        renamed("zoe", "BOSS")  # the case-insensitive unique index
    assert database.read_sync(lambda c: sorted(c.execute(select(users.c.user_name)).scalars())) == [
        "boss",
        "zoe",
    ]
