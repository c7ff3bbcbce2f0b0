"""Statements the hot paths run thousands of times, built once.

An Entra look-up, create or manager PATCH runs the same few statements with new values every
time. Building such a statement per request (and coercing each value into a bind parameter)
was most of what SQLAlchemy cost on those paths, so each is built once, with a named
``bindparam`` for every value. Everything ``connection.execute`` guarantees is kept: the
connection's transaction, the engine's cursor events (statement counters, logging), type
conversion both ways, and SQLAlchemy's exceptions (``IntegrityError``, ...).

A ``PreparedSelect`` runs through ``connection.execute``: SQLAlchemy memoises the cache key of
a statement object, keeps its compiled form in the engine's compiled cache and, with it, the
description of the result's columns, so each call only binds the values. Running the SQL text
instead would describe the columns anew from the cursor on every call, which costs more than
the cache look-up for a row as wide as a user's.

A ``PreparedWrite`` returns no rows, so nothing is described: it is compiled once per dialect
(``SQLCompiler.construct_expanded_state`` gives the SQL text and the parameter order, and the
type of each parameter its bind processor), and each call puts the values in that order,
converts the few whose type needs it and runs the text with ``connection.exec_driver_sql``.
That skips the cache key look-up and the per-call parameter set up of ``execute``, which for
an INSERT of every user column was most of the statement's cost.

Only statements whose compiled SQL does not depend on the values qualify (no ``IN``
expansion, no literal rendering): a prepared statement refuses the others when built. In an
INSERT or UPDATE, SQLAlchemy reserves the names of the table's columns for the values it
sets, so the parameters of its WHERE clause need other names (``where_user_id``). Values
fixed in the statement itself (``org_version + 1``) are taken when it is compiled.
"""

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Connection,
    CursorResult,
    Delete,
    Dialect,
    Insert,
    Select,
    Update,
)
from sqlalchemy.exc import StatementError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import iterate


def _check_preparable(
    statement: Select[Any] | CompoundSelect[Any] | Insert | Update | Delete,
) -> None:
    for element in iterate(statement):
        if isinstance(element, BindParameter) and (element.expanding or element.literal_execute):
            raise ValueError("statement renders values into its SQL; it cannot be prepared")


class PreparedSelect:
    """A SELECT (or a UNION of them) built once; ``rows(connection, values)`` runs it."""

    __slots__ = ("_keys", "statement")

    def __init__(self, statement: Select[Any] | CompoundSelect[Any]) -> None:
        _check_preparable(statement)
        self.statement: Select[Any] | CompoundSelect[Any] = statement
        #: The result's keys, taken from its first result: the statement's columns are
        #: fixed, so every result of it has the same ones.
        self._keys: tuple[str, ...] | None = None

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The rows for ``values`` (every bind parameter of the statement by name), as the
        plain dicts ``connection.execute(...).mappings()`` would give."""
        result = connection.execute(self.statement, values)
        keys = self._keys
        if keys is None:
            keys = self._keys = tuple(result.keys())
        return [dict(zip(keys, row, strict=True)) for row in result.all()]

    def tuples(self, connection: Connection, values: Mapping[str, Any]) -> list[Sequence[Any]]:
        """The rows as sequences in the order of the statement's columns (no dict per row:
        pages of many users with many columns)."""
        return list(connection.execute(self.statement, values).all())

    def first(self, connection: Connection, values: Mapping[str, Any]) -> dict[str, Any] | None:
        rows = self.rows(connection, values)
        return rows[0] if rows else None


class _DriverStatement:
    """A write compiled for one dialect: its SQL text and how to turn values into the
    driver's parameters."""

    __slots__ = ("converters", "fixed", "names", "pick", "positional", "sql")

    def __init__(self, statement: Insert | Update | Delete | Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        # compiled.params: every parameter, required ones as None, so none is missing here
        state = compiled.construct_expanded_state(compiled.params)
        if state.parameter_expansion or state.statement != compiled.string:
            raise ValueError("statement renders values into its SQL; it cannot be prepared")
        self.sql: str = state.statement
        self.positional = state.positiontup is not None
        names = tuple(state.positiontup if state.positiontup is not None else state.parameters)
        if any(name not in compiled.binds for name in names):  # escaped in the SQL
            raise ValueError("bind parameter names must be plain identifiers to be prepared")
        binds = [compiled.binds[name] for name in names]
        self.names = names
        self.fixed: dict[str, Any] = {
            name: state.parameters[name]
            for name, bind in zip(names, binds, strict=True)
            if not bind.required
        }
        self.pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] = (
            itemgetter(*names) if len(names) > 1 else lambda values: tuple(values[n] for n in names)
        )
        # Only the parameters whose type converts (a user INSERT: about a third) are touched.
        converters = (
            (position, bind.type.dialect_impl(dialect).bind_processor(dialect))
            for position, bind in enumerate(binds)
        )
        self.converters: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (position, processor) for position, processor in converters if processor is not None
        )

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self.fixed:
            values = {**self.fixed, **values}
        picked: Sequence[Any] = self.pick(values)
        if self.converters:
            converted = list(picked)
            for position, processor in self.converters:
                converted[position] = processor(converted[position])
            picked = converted
        # a tuple: exec_driver_sql takes a list for many parameter sets
        return tuple(picked) if self.positional else dict(zip(self.names, picked, strict=True))


class PreparedWrite:
    """An INSERT, UPDATE or DELETE compiled once per dialect; ``execute`` runs it. Also a
    SELECT whose CTEs write (PostgreSQL), run with ``rows``."""

    __slots__ = ("_by_dialect", "statement")

    def __init__(self, statement: Insert | Update | Delete | Select[Any]) -> None:
        _check_preparable(statement)
        self.statement = statement
        # by dialect class: every engine of one database and driver compiles it alike
        self._by_dialect: dict[type[Dialect], _DriverStatement] = {}

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> int:
        """Run the statement with ``values``; the number of rows it matched."""
        return self._run(connection, values).rowcount

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[Sequence[Any]]:
        """Run a statement with RETURNING; the rows it returned, as the driver gives them
        (no result type conversion: for plain columns)."""
        return list(self._run(connection, values).all())

    def _run(self, connection: Connection, values: Mapping[str, Any]) -> CursorResult[Any]:
        dialect = connection.dialect
        compiled = self._by_dialect.get(type(dialect))
        if compiled is None:
            compiled = self._by_dialect[type(dialect)] = _DriverStatement(self.statement, dialect)
        try:
            parameters = compiled.parameters(values)
        except KeyError as missing:  # what connection.execute raises for a missing value
            message = f"A value is required for bind parameter {missing.args[0]!r}"
            raise StatementError(message, compiled.sql, None, None) from None
        except (TypeError, ValueError) as error:  # a bind processor refused a value
            raise StatementError(str(error), compiled.sql, None, error) from error
        return connection.exec_driver_sql(compiled.sql, parameters)
