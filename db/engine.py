"""Engines for SQLite (embedded default) and PostgreSQL (production), tuned for this service.

SQLite runs in WAL mode with foreign keys on and a busy timeout. Writers open their
transaction with ``BEGIN IMMEDIATE`` so that two read-modify-write transactions queue on the
busy timeout instead of failing when one upgrades its read lock. PostgreSQL goes through
psycopg 3 with a connection pool.
"""

import json
import sqlite3
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: The WAL file is cut back to this size whenever SQLite starts it over: the file keeps its
#: largest size otherwise (after one large transaction, such as a large group replaced).
SQLITE_JOURNAL_SIZE_LIMIT = 16 * 1024 * 1024


def load_json(text: str | bytes) -> Any:
    """Read a stored JSON document: orjson (every user row read carries one; it reads
    numbers as requests are read, see ``scim.http``), and the standard library for what
    orjson refuses (NaN, infinities), so that any stored document still reads."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def normalise_url(url: str | URL) -> URL:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _prepare_sqlite_file(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_sqlite_engine(
    url: URL,
    *,
    immediate: bool,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    pool_size: int = 8,
    autocheckpoint: bool = True,
) -> Engine:
    """A SQLite engine; ``immediate`` makes every transaction a write transaction, and
    without it the engine is for reads only (autocommit, no transaction bookkeeping).
    ``busy_timeout_ms=0`` makes a locked database fail at once instead of waiting; without
    ``autocheckpoint`` a commit never copies the WAL into the database (someone else must)."""
    _prepare_sqlite_file(url)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        json_deserializer=load_json,
        pool_size=pool_size,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA journal_size_limit={SQLITE_JOURNAL_SIZE_LIMIT}")
        if not autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    if immediate:

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            # Straight on the driver's connection: every write transaction sends it, and
            # exec_driver_sql's bookkeeping buys nothing for a fixed statement. (Statement
            # counters thus do not see BEGIN.)
            try:
                connection.connection.driver_connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise DBAPIError.instance("BEGIN IMMEDIATE", (), error, sqlite3.Error) from error

    # Without ``immediate`` no BEGIN is ever sent: every statement is its own (autocommit)
    # read transaction and sees the latest commit. That is what inline readers want; they
    # never write.
    return engine


def create_postgres_engine(url: URL) -> Engine:
    # No pre-ping: it would be a round trip per checkout. A connection
    # the server dropped fails one statement, and SQLAlchemy then invalidates the pool.
    return create_engine(
        url, pool_size=10, max_overflow=20, pool_recycle=1800, json_deserializer=load_json
    )


def create_engine_for(url: str | URL, *, immediate: bool = True) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return create_sqlite_engine(parsed, immediate=immediate)
    return create_postgres_engine(parsed)
