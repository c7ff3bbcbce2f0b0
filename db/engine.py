"""Engines for SQLite (embedded default) and PostgreSQL (production), tuned for this service.

SQLite runs in WAL mode with foreign keys on and a busy timeout. Writers open their
transaction with ``BEGIN IMMEDIATE`` so that two read-modify-write transactions queue on the
busy timeout instead of failing when one upgrades its read lock.

PostgreSQL has two engines: a synchronous one through psycopg 3 (the CLI, migrations, bulk
loaders, and work large enough to run in a worker thread) and an ``AsyncEngine`` for request
handlers on the event loop (``ASYNC_DRIVERS``; see docs/postgresql.md for why asyncpg is the
default). Users give one URL, ``postgresql://`` or ``postgresql+psycopg://``; the async one is
derived from it. Each engine has a connection pool and a ``statement_timeout`` of its own.
"""

import json
import sqlite3
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: The WAL file is cut back to this size whenever SQLite starts it over: the file keeps its
#: largest size otherwise (after one large transaction, such as a large group replaced).
SQLITE_JOURNAL_SIZE_LIMIT = 16 * 1024 * 1024

#: The SQLAlchemy drivers the event loop's engine can use, by name.
ASYNC_DRIVERS = {"asyncpg": "postgresql+asyncpg", "psycopg": "postgresql+psycopg"}
DEFAULT_ASYNC_DRIVER = "asyncpg"
#: How long opening a PostgreSQL connection may take before the store counts as unavailable
#: (the drivers' own defaults, 60 s or none, would hold a request that long when the server
#: is unreachable).
CONNECT_TIMEOUT_SECONDS = 5


def load_json(text: str | bytes) -> Any:
    """Read a stored JSON document: orjson (every user row read carries one; it reads
    numbers as requests are read, see ``scim.http``), and the standard library for what
    orjson refuses (NaN, infinities), so that any stored document still reads."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def dump_json(value: Any) -> str:
    """Write a JSON document (a user's ``attributes``, an activity event's ``changes``):
    orjson, compact, as SCIM requests are read; the standard library for what orjson refuses
    (integers beyond 64 bits, keys that are not strings), so that anything the standard
    library wrote before still writes. Every write of a user carries one, and every activity
    event three. A NaN or an infinity (no SCIM request can carry one: they are read by orjson)
    is written as null, where the standard library wrote text that is not JSON."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


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
        json_serializer=dump_json,
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


def create_postgres_engine(
    url: URL,
    *,
    pool_size: int = 10,
    max_overflow: int = 20,
    statement_timeout_ms: int | None = None,
) -> Engine:
    """The synchronous PostgreSQL engine (psycopg 3). No pre-ping: it would be a round trip
    per checkout. A connection the server dropped fails one statement, and SQLAlchemy then
    invalidates the pool (``db.database`` runs a read once more on a fresh connection)."""
    return create_engine(
        url,
        **_pool_options(pool_size, max_overflow),
        connect_args=_psycopg_connect_args(statement_timeout_ms),
    )


def _pool_options(pool_size: int, max_overflow: int) -> dict[str, Any]:
    """What both PostgreSQL engines (synchronous and the event loop's) share."""
    return {
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        "pool_recycle": 1800,
        "json_serializer": dump_json,
        "json_deserializer": load_json,
    }


def _psycopg_connect_args(statement_timeout_ms: int | None) -> dict[str, Any]:
    connect_args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    if statement_timeout_ms:
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    return connect_args


def async_url(url: str | URL, driver: str = DEFAULT_ASYNC_DRIVER) -> URL:
    """The URL of the event loop's engine for a PostgreSQL URL as users write it."""
    if driver not in ASYNC_DRIVERS:
        raise ValueError(f"unknown async driver {driver!r}: one of {sorted(ASYNC_DRIVERS)}")
    return normalise_url(url).set(drivername=ASYNC_DRIVERS[driver])


def create_async_postgres_engine(
    url: URL,
    *,
    pool_size: int = 10,
    max_overflow: int = 20,
    statement_timeout_ms: int | None = None,
) -> AsyncEngine:
    """The event loop's PostgreSQL engine, for ``url`` from ``async_url``. The timeout is a
    setting of each connection, sent when it opens: no statement of its own per request."""
    connect_args: dict[str, Any]
    if url.drivername == ASYNC_DRIVERS["asyncpg"]:
        connect_args = {"timeout": CONNECT_TIMEOUT_SECONDS}
        if statement_timeout_ms:
            connect_args["server_settings"] = {"statement_timeout": str(int(statement_timeout_ms))}
    else:
        connect_args = _psycopg_connect_args(statement_timeout_ms)
    return create_async_engine(
        url, **_pool_options(pool_size, max_overflow), connect_args=connect_args
    )


def create_engine_for(url: str | URL, *, immediate: bool = True) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return create_sqlite_engine(parsed, immediate=immediate)
    return create_postgres_engine(parsed)
