"""Planner statistics of the tables a tenant grows, kept fresh by the app (PostgreSQL).

An Entra initial sync grows ``user`` and ``activity_event`` from nothing to tens of
thousands of rows, one request at a time. The event loop's driver prepares each statement
once per connection, and after a few runs PostgreSQL keeps a generic plan for it, made for
the table as it was then: a few rows and no statistics. For a point statement on
``(tenant_id, id)`` every index starting with ``tenant_id`` then costs as much as the primary
key, and the plan may take one of them: it walks the tenant's entries to find the row, and
keeps doing so as the tenant grows, on that connection, until the table's statistics change
(an ANALYZE invalidates the plans that read it). Measured: 173 buffers for one row at 20,000
users instead of 3. Where autovacuum runs, its ANALYZE comes within a minute or so; where it
does not (the development machine), never.

So the app looks, every few seconds, at how much each growing table changed since its last
ANALYZE (by anyone: autovacuum's counts too), and analyzes the ones whose changes reach
their row count as of then (a table that doubled) and at least ``MIN_CHANGES``: about a
dozen ANALYZEs while a tenant grows to 100,000 users, none while nothing is written. Every
statement on those tables is then planned again with statistics that say how large a
tenant is. One process at a time (an advisory lock): several workers do not analyze the same
growth twice.

SQLite keeps no generic plans and has no statistics unless asked (``ANALYZE`` there changes
plans for the worse, see the README): nothing to do.
"""

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

#: The tables a tenant grows by the thousands of rows through requests.
GROWING_TABLES = ("user", "activity_event", "group_member", "group")
#: Changes a table must have seen since its last ANALYZE before the app analyzes it.
MIN_CHANGES = 100
#: The first key of the advisory lock that makes one process at a time analyze: "BSTA".
LOCK_KEY = 0x42535441

_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)").bindparams(key=LOCK_KEY)
# n_mod_since_analyze: rows inserted, updated or deleted since the last ANALYZE (anyone's);
# reltuples: the row count that ANALYZE (or VACUUM) saw, -1 before the first one.
_STALE = text(
    """
    SELECT s.relname
    FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
    WHERE s.relid = ANY (
        SELECT to_regclass(quote_ident(name)) FROM unnest(:tables) AS name
    )
    AND s.n_mod_since_analyze >= greatest(:min_changes, c.reltuples)
    ORDER BY s.relname
    """
).bindparams(
    bindparam("tables", value=list(GROWING_TABLES), type_=ARRAY(String)),
    min_changes=MIN_CHANGES,
)


def stale_tables(connection: Connection) -> list[str]:
    """The growing tables whose statistics lag their size (see the module's doc)."""
    if connection.dialect.name != "postgresql":
        return []
    return [str(name) for name in connection.execute(_STALE).scalars()]


def analyze_stale(connection: Connection, tables: Sequence[str] | None = None) -> list[str]:
    """ANALYZE the growing tables whose statistics lag (of ``tables`` when given, checked
    again here); the tables analyzed. Nothing when another process is at it (it takes the
    same advisory lock), or on SQLite. Run it in a transaction of its own: the lock is held
    until it ends."""
    if connection.dialect.name != "postgresql":
        return []
    if not connection.execute(_LOCK).scalar_one():
        return []
    stale = [name for name in stale_tables(connection) if tables is None or name in tables]
    for name in stale:
        quoted = connection.dialect.identifier_preparer.quote_identifier(name)
        connection.exec_driver_sql(f"ANALYZE {quoted}")
    return stale
