"""Statements the hot paths run thousands of times, built once and run by SQLAlchemy.

An Entra look-up, create or manager PATCH runs the same few statements with new values every
time. Building such a statement per request (and coercing each value into a bind parameter)
was most of what SQLAlchemy cost on those paths. A prepared statement is built once, with a
named ``bindparam`` for every value, and runs through ``connection.execute``: SQLAlchemy
memoises the cache key of a statement object and keeps its compiled form in the engine's
compiled cache, so each call only binds the values. Everything else ``execute`` does is kept
on purpose: the connection's transaction, the engine's cursor events (statement counters,
logging), type conversion both ways, and SQLAlchemy's exceptions (``IntegrityError``, ...).

Only statements whose compiled SQL does not depend on the values qualify (no ``IN``
expansion, no literal rendering): a prepared statement refuses the others when built. In an
INSERT or UPDATE, SQLAlchemy reserves the names of the table's columns for the values it
sets, so the parameters of its WHERE clause need other names (``where_user_id``).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import BindParameter, Connection, Delete, Insert, Select, Update
from sqlalchemy.sql.visitors import iterate


def _check_preparable(statement: Select[Any] | Insert | Update | Delete) -> None:
    for element in iterate(statement):
        if isinstance(element, BindParameter) and (element.expanding or element.literal_execute):
            raise ValueError("statement renders values into its SQL; it cannot be prepared")


class PreparedSelect:
    """A SELECT built once; ``rows(connection, values)`` runs it."""

    __slots__ = ("statement",)

    def __init__(self, statement: Select[Any]) -> None:
        _check_preparable(statement)
        self.statement = statement

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The rows for ``values`` (every bind parameter of the statement by name), as the
        plain dicts ``connection.execute(...).mappings()`` would give."""
        result = connection.execute(self.statement, values)
        keys = tuple(result.keys())
        return [dict(zip(keys, row, strict=True)) for row in result.all()]

    def tuples(self, connection: Connection, values: Mapping[str, Any]) -> list[Sequence[Any]]:
        """The rows as sequences in the order of the statement's columns (no dict per row:
        pages of many users with many columns)."""
        return list(connection.execute(self.statement, values).all())

    def first(self, connection: Connection, values: Mapping[str, Any]) -> dict[str, Any] | None:
        rows = self.rows(connection, values)
        return rows[0] if rows else None


class PreparedWrite:
    """An INSERT, UPDATE or DELETE built once; ``execute`` runs it."""

    __slots__ = ("statement",)

    def __init__(self, statement: Insert | Update | Delete) -> None:
        _check_preparable(statement)
        self.statement = statement

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> int:
        """Run the statement with ``values``; the number of rows it matched."""
        return connection.execute(self.statement, values).rowcount
