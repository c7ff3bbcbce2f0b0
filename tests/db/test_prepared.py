"""``db.prepared``: a ``PreparedSelect`` returns what ``connection.execute(...).mappings()``
does; a ``PreparedWrite`` stores what ``connection.execute`` would, and behaves like it (cursor
events, the connection's transaction, SQLAlchemy's exceptions)."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, delete, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError, StatementError

from db.database import Database
from db.prepared import PreparedSelect, PreparedWrite
from db.tables import tenant_org_versions, users
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


_NOW = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _user_values(user_name: str, tenant: int) -> dict[str, Any]:
    """Every column, with values of each type that converts on its way in."""
    now = _NOW
    return {column.key: None for column in users.c} | {
        "id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "user_name": user_name,
        "active": False,
        "display_name": "Zoë Ünïcode",
        "attributes": {"nickName": "z", "nested": {"list": [1, "ü", None, True]}},
        "created": now,
        "last_modified": now,
        "version": 3,
    }


def test_prepared_insert_stores_what_execute_stores(database: Database, acme: int) -> None:
    prepared = PreparedWrite(
        insert(users).values({c.key: bindparam(c.key, type_=c.type) for c in users.c})
    )
    fast, slow = _user_values("fast", acme), _user_values("slow", acme)
    assert database.write_sync(lambda c: prepared.execute(c, fast)) == 1
    database.write_sync(lambda c: c.execute(insert(users).values(slow)))

    def stored(user_id: str) -> dict[str, Any]:
        row = database.read_sync(
            lambda c: c.execute(select(users).where(users.c.id == user_id)).mappings().one()
        )
        return {key: value for key, value in row.items() if key not in ("id", "user_name")}

    assert stored(fast["id"]) == stored(slow["id"])
    assert stored(fast["id"])["attributes"] == fast["attributes"]
    assert stored(fast["id"])["active"] is False
    assert stored(fast["id"])["created"] == fast["created"]


def test_values_fixed_in_a_write_are_bound(database: Database, acme: int) -> None:
    bump = PreparedWrite(
        update(tenant_org_versions)
        .where(tenant_org_versions.c.tenant_id == bindparam("tenant"))
        .where(tenant_org_versions.c.stripe == 3)
        .values(version=tenant_org_versions.c.version + 2)
    )

    def version() -> int:
        query = select(tenant_org_versions.c.version).where(
            tenant_org_versions.c.tenant_id == acme, tenant_org_versions.c.stripe == 3
        )
        return int(database.read_sync(lambda c: c.execute(query).scalar_one()))

    before = version()
    assert database.write_sync(lambda c: bump.execute(c, {"tenant": acme})) == 1
    assert database.write_sync(lambda c: bump.execute(c, {"tenant": acme})) == 1
    assert version() == before + 4


def test_a_write_without_a_value_it_needs_is_refused(database: Database, acme: int) -> None:
    remove = PreparedWrite(delete(users).where(users.c.user_name == bindparam("name")))
    with pytest.raises(StatementError, match="'name'"):
        database.write_sync(lambda c: remove.execute(c, {"other": "boss"}))
    assert database.read_sync(lambda c: c.execute(select(func.count()).select_from(users)).scalar())


def test_writes_fire_cursor_events_and_run_in_the_transaction(
    database: Database, acme: int
) -> None:
    remove = PreparedWrite(
        delete(users).where(users.c.tenant_id == bindparam("tenant"), users.c.user_name == "Zoë")
    )
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    def count() -> int:
        query = select(func.count()).select_from(users).where(users.c.user_name == "Zoë")
        return int(database.read_sync(lambda c: c.execute(query).scalar_one()))

    for engine in database.engines:
        event.listen(engine, "before_cursor_execute", record)
    try:

        def remove_then_fail(connection: Connection) -> None:
            assert remove.execute(connection, {"tenant": acme}) == 1
            raise RuntimeError("roll back")

        with pytest.raises(RuntimeError):
            database.write_sync(remove_then_fail)
        assert count() == 1  # the delete was part of the rolled back transaction
        assert database.write_sync(lambda c: remove.execute(c, {"tenant": acme})) == 1
    finally:
        for engine in database.engines:
            event.remove(engine, "before_cursor_execute", record)
    assert count() == 0
    assert sum(statement.startswith("DELETE") for statement in statements) == 2


def test_writes_that_render_values_into_sql_are_refused() -> None:
    statement = delete(users).where(users.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="renders values"):
        PreparedWrite(statement)
