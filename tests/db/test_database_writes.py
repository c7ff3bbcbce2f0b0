"""``Database.write``: SQLite writes run inline when the write lock is free and fall back to a
worker thread (waiting on the busy timeout) when another connection holds it. PostgreSQL
work runs on the event loop's thread too, through the asyncio engine."""

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import Connection, func, insert, select

from db.database import CHECKPOINT_EVERY, Database
from db.engine import create_engine_for
from db.tables import tenants, users
from db.tenants import create_tenant
from db.types import utcnow
from db.users import create_user_row, get_user


@pytest.fixture
def sqlite_database(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """A migrated SQLite store, for what only SQLite has (its write lock, its WAL)."""
    path = tmp_path / "directory.db"
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


def _thread_name(connection: Connection) -> str:
    return threading.current_thread().name


def test_write_runs_inline_when_the_lock_is_free(database: Database) -> None:
    async def scenario() -> str:
        return await database.write(_thread_name)

    name = anyio.run(scenario)
    assert name == threading.current_thread().name  # no worker thread, on either backend


def test_write_waits_for_a_lock_held_elsewhere(sqlite_database: Database) -> None:
    database = sqlite_database
    other = create_engine_for(database.url)  # another "process": its own connection
    holder = other.connect()
    holder.begin()  # BEGIN IMMEDIATE: holds the write lock
    holder.execute(tenants.insert().values(slug="held", name="held"))
    releaser = threading.Timer(0.2, holder.commit)  # while the write waits
    releaser.start()
    ran_in: list[str] = []

    def work(connection: Connection) -> list[str]:
        ran_in.append(threading.current_thread().name)
        create_tenant(connection, "after")
        return list(connection.execute(select(tenants.c.slug).order_by(tenants.c.slug)).scalars())

    async def scenario() -> list[str]:
        return await database.write(work)

    try:
        slugs = anyio.run(scenario)
    finally:
        releaser.join()
        holder.close()
        other.dispose()
    assert slugs == ["after", "held"]
    assert len(ran_in) == 1  # the inline attempt failed at BEGIN, before the work
    assert ran_in[0] != threading.current_thread().name  # it ran in a worker thread
    assert database.read_sync(
        lambda c: c.execute(select(tenants.c.slug).where(tenants.c.slug == "after")).scalar()
    )


def test_a_failed_inline_write_leaves_nothing_and_the_writer_usable(database: Database) -> None:
    def failing(connection: Connection) -> None:
        create_tenant(connection, "gone")
        raise RuntimeError("boom")

    async def scenario() -> None:
        with pytest.raises(RuntimeError):
            await database.write(failing)
        await database.write(lambda connection: create_tenant(connection, "kept"))

    anyio.run(scenario)
    slugs = database.read_sync(lambda c: list(c.execute(select(tenants.c.slug)).scalars()))
    assert slugs == ["kept"]


def test_checkpoints_copy_the_wal_into_the_database(
    sqlite_database: Database, tmp_path: Path
) -> None:
    database = sqlite_database
    path = database.url.database
    assert path is not None

    async def scenario() -> None:
        for index in range(2 * CHECKPOINT_EVERY + 1):
            await database.write(lambda connection, i=index: create_tenant(connection, f"t{i}"))

    anyio.run(scenario)
    # the database file alone (without its WAL) holds what the checkpoints copied into it
    alone = tmp_path / "alone.db"
    shutil.copyfile(path, alone)
    with sqlite3.connect(alone) as probe:
        copied = probe.execute("SELECT count(*) FROM tenant").fetchone()[0]
    assert copied >= 2 * CHECKPOINT_EVERY
    count = database.read_sync(lambda c: c.execute(select(func.count()).select_from(tenants)))
    assert count.scalar_one() == 2 * CHECKPOINT_EVERY + 1


def test_the_wal_starts_over_under_sustained_writes(sqlite_database: Database) -> None:
    """Writes that never pause, interleaved with reads (as under a sync): the WAL file's size
    depends on the writes between two checkpoints, not on how many were made. Each of these
    writes adds pages to the WAL; without a restart 30 rounds of ``CHECKPOINT_EVERY`` would
    leave a file about 30 times the size after the first round."""
    database = sqlite_database
    wal = Path(f"{database.url.database}-wal")
    tenant = database.write_sync(lambda c: create_tenant(c, "acme")).id
    sizes: list[int] = []

    async def scenario() -> None:
        manager: str | None = None
        for round_ in range(30):
            for index in range(CHECKPOINT_EVERY):
                values = {"user_name": f"u{round_}-{index}", "manager_id": manager}
                row = await database.write(lambda c, v=values: create_user_row(c, tenant, v))
                manager = row["id"] if index % 10 == 0 else manager
                await database.read(lambda c, i=row["id"]: get_user(c, tenant, i))
            sizes.append(wal.stat().st_size)

    anyio.run(scenario)
    assert max(sizes) <= 3 * sizes[0]
    count = database.read_sync(lambda c: c.execute(select(func.count()).select_from(users)))
    assert count.scalar_one() == 30 * CHECKPOINT_EVERY


def test_work_that_grows_with_the_tenant_runs_in_a_worker_thread(database: Database) -> None:
    """``in_thread=True`` keeps long work off the event loop on every backend; without it a
    read or write stays on the loop's thread (PostgreSQL's in SQLAlchemy's greenlet)."""

    def write(connection: Connection) -> str:
        create_tenant(connection, "threaded")
        return _thread_name(connection)

    async def scenario() -> tuple[str, str, str, str]:
        return (
            await database.read(_thread_name, in_thread=True),
            await database.write(write, in_thread=True),
            await database.read(_thread_name),
            await database.write(_thread_name),
        )

    loop_thread = threading.current_thread().name
    read_in, write_in, read_default, write_default = anyio.run(scenario)
    assert loop_thread not in (read_in, write_in)
    assert read_default == loop_thread
    assert write_default == loop_thread
    slugs = database.read_sync(lambda c: list(c.execute(select(tenants.c.slug)).scalars()))
    assert slugs == ["threaded"]  # the threaded write committed


def _in_transaction_block(connection: Connection) -> bool:
    """PostgreSQL: whether the unit of work runs in one transaction (``now()`` is its start,
    the same for two statements; each is a transaction of its own in autocommit); SQLite:
    always (BEGIN IMMEDIATE). A probe: it sends two statements."""
    if connection.dialect.name == "sqlite":
        return True
    first, second = (connection.execute(select(func.now())).scalar() for _ in range(2))
    return bool(first == second)


def test_a_one_statement_write_runs_without_a_transaction_block_on_postgres(
    database: Database,
) -> None:
    def create(connection: Connection) -> int:
        row = insert(tenants).values(slug="one", name="One", created=utcnow())
        return int(connection.execute(row.returning(tenants.c.id)).scalar_one())

    async def scenario() -> tuple[bool, bool, int]:
        plain = await database.write(_in_transaction_block)
        alone = await database.write(_in_transaction_block, one_statement=True)
        return plain, alone, await database.write(create, one_statement=True)

    plain, alone, tenant_id = anyio.run(scenario)
    assert plain is True
    assert alone is database.is_sqlite  # SQLite writes keep their BEGIN IMMEDIATE
    found = database.read_sync(
        lambda connection: connection.execute(
            select(tenants.c.id).where(tenants.c.slug == "one")
        ).scalar_one()
    )
    assert found == tenant_id
