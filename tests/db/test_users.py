"""The user repository: tenancy, uniqueness, manager references and deletes."""

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from db.activity import Event, Operation, Origin, Recording, ResourceType
from db.database import Database
from db.errors import Conflict, InvalidReference, Stale
from db.org_changes import org_version, tenant_versions
from db.tables import activity_events, users
from db.tenants import create_tenant
from db.users import (
    create_user_row,
    delete_user,
    get_user,
    insert_user,
    list_users,
    update_user,
)


@pytest.fixture
def tenants(database: Database) -> tuple[int, int]:
    def work(connection: Connection) -> tuple[int, int]:
        return create_tenant(connection, "acme").id, create_tenant(connection, "globex").id

    return database.write_sync(work)


def _values(user_name: str, **extra: Any) -> dict[str, Any]:
    return {"user_name": user_name, "attributes": {}, **extra}


def test_insert_get_and_list_are_tenant_scoped(
    database: Database, tenants: tuple[int, int]
) -> None:
    acme, globex = tenants
    user_id = database.write_sync(lambda c: insert_user(c, acme, _values("Alice", title="CEO")))
    row = database.read_sync(lambda c: get_user(c, acme, user_id))
    assert row is not None
    assert (row["user_name"], row["title"], row["version"]) == ("Alice", "CEO", 1)
    assert row["manager_display_name"] is None
    assert database.read_sync(lambda c: get_user(c, globex, user_id)) is None
    total, rows = database.read_sync(lambda c: list_users(c, globex, None, (users.c.id,), 0, 10))
    assert (total, rows) == (0, [])


def test_list_counts_beyond_the_page(database: Database, tenants: tuple[int, int]) -> None:
    acme, _ = tenants
    for name in "abcde":
        database.write_sync(lambda c, name=name: insert_user(c, acme, _values(name)))
    order = (users.c.user_name,)
    total, rows = database.read_sync(lambda c: list_users(c, acme, None, order, 1, 2))
    assert total == 5
    assert [row["user_name"] for row in rows] == ["b", "c"]
    assert database.read_sync(lambda c: list_users(c, acme, None, order, 10, 2)) == (5, [])
    assert database.read_sync(lambda c: list_users(c, acme, None, order, 0, 0)) == (5, [])
    where = users.c.user_name > "c"
    assert database.read_sync(lambda c: list_users(c, acme, where, order, 0, 10))[0] == 2


def test_user_name_is_unique_per_tenant_case_insensitively(
    database: Database, tenants: tuple[int, int]
) -> None:
    acme, globex = tenants
    database.write_sync(lambda c: insert_user(c, acme, _values("Alice@Contoso.com")))
    with pytest.raises(Conflict):
        database.write_sync(lambda c: insert_user(c, acme, _values("alice@contoso.COM")))
    database.write_sync(lambda c: insert_user(c, globex, _values("alice@contoso.com")))
    count = database.read_sync(lambda c: len(c.execute(select(users.c.id)).all()))
    assert count == 2


def test_manager_must_be_a_user_of_the_tenant(database: Database, tenants: tuple[int, int]) -> None:
    acme, globex = tenants
    stranger = database.write_sync(lambda c: insert_user(c, globex, _values("stranger")))
    with pytest.raises(InvalidReference):
        database.write_sync(lambda c: insert_user(c, acme, _values("a", manager_id=stranger)))
    boss = database.write_sync(lambda c: insert_user(c, acme, _values("boss", display_name="Boss")))
    report = database.write_sync(lambda c: insert_user(c, acme, _values("r", manager_id=boss)))
    row = database.read_sync(lambda c: get_user(c, acme, report))
    assert row is not None
    assert (row["manager_id"], row["manager_display_name"]) == (boss, "Boss")


@pytest.mark.parametrize("recorded", [False, True], ids=["no event", "with its event"])
def test_setting_a_manager_checks_the_tenant_and_names_the_manager(
    database: Database, tenants: tuple[int, int], recorded: bool
) -> None:
    """PostgreSQL looks the new manager up with the UPDATE itself (with or without the
    activity event in the same statement): the name comes back with the write, and a manager
    outside the tenant refuses it whole (no row, version, event or counter changed)."""
    acme, globex = tenants
    stranger = database.write_sync(lambda c: insert_user(c, globex, _values("s")))
    boss = database.write_sync(lambda c: insert_user(c, acme, _values("boss", display_name="B")))
    user_id = database.write_sync(lambda c: insert_user(c, acme, _values("u")))
    origin = Origin(request_id="r1", actor_name="test")

    def set_manager(manager_id: str) -> Callable[[Connection], dict[str, Any]]:
        def work(connection: Connection) -> dict[str, Any]:
            row = get_user(connection, acme, user_id, for_update=True)
            assert row is not None
            recording = (
                Recording(origin, lambda _row: Event(Operation.UPDATE, ResourceType.USER, user_id))
                if recorded
                else None
            )
            return update_user(connection, acme, row, {"manager_id": manager_id}, recording)

        return work

    def state() -> tuple[Any, ...]:
        def read(connection: Connection) -> tuple[Any, ...]:
            row = get_user(connection, acme, user_id)
            assert row is not None
            events = connection.execute(select(func.count()).select_from(activity_events))
            versions = tenant_versions(connection, acme)
            return row["manager_id"], row["version"], events.scalar_one(), versions

        return database.read_sync(read)

    before = state()
    for missing in (stranger, "no-such-user"):
        with pytest.raises(InvalidReference):
            database.write_sync(set_manager(missing))
        assert state() == before
    written = database.write_sync(set_manager(boss))
    assert (written["manager_id"], written["manager_display_name"]) == (boss, "B")
    assert database.read_sync(lambda c: get_user(c, acme, user_id)) == written
    after = state()
    assert after[:3] == (boss, before[1] + 1, before[2] + recorded)
    assert after[3].org == before[3].org + 1
    # their own manager: the name is their own
    itself = database.write_sync(set_manager(user_id))
    assert itself["manager_display_name"] == itself["display_name"]


def test_a_write_of_a_row_changed_since_it_was_read_is_stale(
    database: Database, tenants: tuple[int, int]
) -> None:
    """update_user writes the row at the version it was read at: when another writer
    changed it in between, nothing is written (no version, counter or event) and it raises
    Stale; Database.write then runs the unit of work again, which reads the row anew."""
    acme, _ = tenants
    user_id = database.write_sync(lambda c: insert_user(c, acme, _values("u")))
    read_before = database.read_sync(lambda c: get_user(c, acme, user_id))
    assert read_before is not None
    origin = Origin(request_id="r1", actor_name="test")
    recording = Recording(origin, lambda _row: Event(Operation.UPDATE, ResourceType.USER, user_id))

    def title(value: str, previous: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        def work(connection: Connection) -> dict[str, Any]:
            row = previous or get_user(connection, acme, user_id)
            assert row is not None
            return update_user(connection, acme, row, {"title": value}, recording)

        return work

    database.write_sync(title("meanwhile"))
    before = database.read_sync(lambda c: _state_of(c, acme, user_id))

    def late(connection: Connection) -> bool:
        try:
            title("late", read_before)(connection)
        except Stale:
            return True
        return False

    assert database.write_sync(late)
    assert database.read_sync(lambda c: _state_of(c, acme, user_id)) == before

    runs: list[int] = []

    def stale_once(connection: Connection) -> dict[str, Any]:
        runs.append(1)
        return title("second", read_before if len(runs) == 1 else None)(connection)

    written = asyncio.run(_write_and_close(database, stale_once))
    assert (len(runs), written["title"], written["version"]) == (2, "second", 3)
    after = database.read_sync(lambda c: _state_of(c, acme, user_id))
    assert after[:3] == ("second", 3, before[2] + 1)


def _state_of(connection: Connection, tenant_id: int, user_id: str) -> tuple[Any, ...]:
    """(title, version, events, tenant versions)."""
    row = get_user(connection, tenant_id, user_id)
    assert row is not None
    events = connection.execute(select(func.count()).select_from(activity_events)).scalar_one()
    return row["title"], row["version"], events, tenant_versions(connection, tenant_id)


async def _write_and_close(database: Database, work: Callable[[Connection], Any]) -> Any:
    try:
        return await database.write(work, one_statement=True)
    finally:
        await database.aclose()


def test_update_bumps_version_and_notes_org_changes(
    database: Database, tenants: tuple[int, int]
) -> None:
    acme, _ = tenants
    user_id = database.write_sync(lambda c: insert_user(c, acme, _values("u")))
    before = database.read_sync(lambda c: org_version(c, acme))

    def update(**changes: Any) -> Callable[[Connection], None]:
        def work(connection: Connection) -> None:
            row = get_user(connection, acme, user_id, for_update=True)
            assert row is not None
            values = {name: row[name] for name in ("user_name", "active", "title", "attributes")}
            update_user(connection, acme, row, {**values, **changes})

        return work

    database.write_sync(update(title="t"))
    assert database.read_sync(lambda c: org_version(c, acme)) == before
    database.write_sync(update(active=False))
    assert database.read_sync(lambda c: org_version(c, acme)) == before + 1
    row = database.read_sync(lambda c: get_user(c, acme, user_id))
    assert row is not None
    assert (row["version"], row["title"], row["active"]) == (3, "t", False)


def test_delete_clears_reports_names_them_and_is_none_for_strangers(
    database: Database, tenants: tuple[int, int]
) -> None:
    acme, globex = tenants
    boss = database.write_sync(lambda c: insert_user(c, acme, _values("boss")))
    report = database.write_sync(lambda c: insert_user(c, acme, _values("r", manager_id=boss)))
    assert database.write_sync(lambda c: delete_user(c, globex, boss)) is None
    deleted = database.write_sync(lambda c: delete_user(c, acme, boss))
    assert deleted is not None
    assert (deleted.reports, deleted.groups) == ([(report, "r")], [])
    assert database.write_sync(lambda c: delete_user(c, acme, boss)) is None
    row = database.read_sync(lambda c: get_user(c, acme, report))
    assert row is not None
    assert (row["manager_id"], row["version"]) == (None, 2)


def test_written_rows_are_what_a_read_gives(database: Database, tenants: tuple[int, int]) -> None:
    """create_user_row and update_user hand back the row instead of reading it again."""
    acme, _ = tenants
    everything = {
        "user_name": "Zoë",
        "external_id": "e1",
        "active": False,
        "display_name": "Zoë Z",
        "email": "z@contoso.com",
        "attributes": {"nickName": "z", "addresses": [{"type": "work", "locality": "Köln"}]},
    }
    boss = database.write_sync(lambda c: create_user_row(c, acme, _values("boss", title="B")))
    written = [boss]

    def write(work: Callable[[Connection], dict[str, Any]]) -> None:
        row = database.write_sync(work)
        written.append(row)
        assert row == database.read_sync(lambda c: get_user(c, acme, row["id"]))

    write(lambda c: create_user_row(c, acme, {**everything, "manager_id": boss["id"]}))
    user_id = written[-1]["id"]

    def update(**changes: Any) -> Callable[[Connection], dict[str, Any]]:
        def work(connection: Connection) -> dict[str, Any]:
            row = get_user(connection, acme, user_id, for_update=True)
            assert row is not None
            return update_user(connection, acme, row, {**everything, **changes})

        return work

    write(update(title="t", manager_id=None))
    write(update(manager_id=boss["id"], display_name="renamed"))
    write(update(manager_id=user_id, display_name="their own manager"))
    write(update(manager_id=user_id, display_name="renamed again"))
    reordered = dict(reversed(everything["attributes"].items()))
    write(update(attributes=reordered, title="only the title changes"))
    assert [row["version"] for row in written[1:]] == [1, 2, 3, 4, 5, 6]
    assert written[-2]["manager_display_name"] == "renamed again"
    # equal attributes are not rewritten: the row shows them as stored, in their order
    stored = database.read_sync(lambda c: get_user(c, acme, user_id))
    assert stored is not None
    assert (
        list(written[-1]["attributes"]) == list(stored["attributes"]) == ["nickName", "addresses"]
    )
