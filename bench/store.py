"""Benchmark databases: migrated, loaded in bulk, cached under ``.bench/`` and reused.

A cached database is keyed by the dataset (size, seed, generator version), by the row
builder and by the schema (tables and migrations), so it is rebuilt whenever any of them
changes. SQLite databases are files under ``.bench/data``; PostgreSQL databases are named
``<name>_<size>`` after the database of ``--postgres`` (default ``blink_bench``), created
on first use.
"""

import hashlib
import inspect
import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Insert, insert, select, text
from sqlalchemy.engine import make_url

import db.tables
from bench import dataset, history, rows
from db.activity import event_insert, event_values, sequence_events
from db.database import Database
from db.migrate import MIGRATIONS, upgrade
from db.org_changes import note_org_change
from db.tables import group_members, groups, tenants, users
from db.tenants import create_tenant
from db.tokens import TokenScope, issue_token
from db.types import utcnow

TENANT = "bench"
BATCH = 2_000


@dataclass(frozen=True, slots=True)
class BenchDatabase:
    url: str
    org: dataset.Org
    scim_token: str
    graphql_token: str


def cache_key(size: int, seed: int) -> str:
    digest = hashlib.sha256()
    digest.update(f"{size}:{seed}:{dataset.DATASET_VERSION}".encode())
    digest.update(inspect.getsource(rows).encode())
    digest.update(inspect.getsource(history).encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(inspect.getsource(db.tables).encode())
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _stored_key(database: Database) -> str | None:
    try:
        return database.read_sync(
            lambda c: c.execute(select(tenants.c.name).where(tenants.c.slug == TENANT)).scalar()
        )
    except Exception:
        return None


def _load(connection: Connection, org: dataset.Org, key: str) -> None:
    tenant = create_tenant(connection, TENANT, key)
    built = history.history(org)
    now = utcnow()
    user_rows = (
        {**built.rows[person.index], "tenant_id": tenant.id, "created": now, "last_modified": now}
        for person in org.people
    )
    _insert(connection, insert(users), user_rows)
    group_rows = (
        rows.group_row(
            group_id=group.id,
            tenant_id=tenant.id,
            display_name=group.display_name,
            external_id=group.external_id,
            now=now,
            membership_patches=group.membership_patches,
        )
        for group in built.groups
    )
    _insert(connection, insert(groups), group_rows)
    members = (
        {"group_id": group.id, "user_id": org.people[index].id}
        for group in built.groups
        for index in group.members
    )
    _insert(connection, insert(group_members), members)
    events = (event_values(tenant.id, entry.origin, entry.event) for entry in built.entries)
    _insert(connection, event_insert(), events)
    # The store's own numbering pass gives the events their positions, in the order above.
    sequence_events(connection, tenant.id)
    note_org_change(connection, tenant.id)


def _insert(connection: Connection, statement: Insert, values: Iterable[dict[str, Any]]) -> None:
    rows = iter(values)
    while batch := list(itertools.islice(rows, BATCH)):
        connection.execute(statement, batch)


def _issue_tokens(database: Database) -> tuple[str, str]:
    def work(connection: Connection) -> tuple[str, str]:
        scim = issue_token(connection, TENANT, TokenScope.SCIM, "bench scim")
        graphql = issue_token(connection, TENANT, TokenScope.GRAPHQL, "bench graphql")
        return scim.secret, graphql.secret

    return database.write_sync(work)


def sqlite_url(root: Path, name: str) -> str:
    return f"sqlite:///{(root / name).resolve()}"


def _reset_postgres(url: str) -> None:
    """Drop and re-create the database of ``url`` (a bench database: its name has ``bench``)."""
    name = make_url(url).database
    assert name is not None
    assert "bench" in name, f"refusing to drop {name!r}: not a bench database"
    with _maintenance(url) as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))


def ensure_postgres_database(url: str) -> None:
    """Create the database of ``url`` when the server does not have it yet."""
    name = make_url(url).database
    with _maintenance(url) as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if exists is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))


@contextmanager
def _maintenance(url: str) -> Iterator[Connection]:
    """An autocommit connection to the server's ``postgres`` maintenance database."""
    admin = Database(make_url(url).set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            yield connection
    finally:
        admin.dispose()


def prepare(url: str, size: int, seed: int, *, log: object = print) -> BenchDatabase:
    """A migrated database holding the seeded org of ``size`` people, and fresh tokens."""
    org = dataset.generate(size, seed)
    key = cache_key(size, seed)
    database = Database(url)
    try:
        if _stored_key(database) != key:
            assert callable(log)
            log(f"building {size:,}-user database at {_safe(url)} (cached afterwards)")
            database.dispose()
            if database.is_sqlite:
                path = Path(make_url(url).database or "")
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            else:
                _reset_postgres(url)
            database = Database(url)
            upgrade(database.engine)
            database.write_sync(lambda connection: _load(connection, org, key))
            # No ANALYZE on SQLite: a database Entra filled has no sqlite_stat1 either, and
            # with those statistics SQLite chooses very different plans (see README).
            if not database.is_sqlite:
                with database.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                ) as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE")
        scim_token, graphql_token = _issue_tokens(database)
    finally:
        database.dispose()
    return BenchDatabase(url, org, scim_token, graphql_token)


def prepare_empty(url: str) -> tuple[str, str]:
    """A fresh migrated database with the bench tenant and its tokens (for the sync)."""
    database = Database(url)
    try:
        if database.is_sqlite:
            path = Path(make_url(url).database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            database.dispose()
            _reset_postgres(url)
        database = Database(url)
        upgrade(database.engine)
        database.write_sync(lambda connection: create_tenant(connection, TENANT, "sync"))
        return _issue_tokens(database)
    finally:
        database.dispose()


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
