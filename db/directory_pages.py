"""Keyset pagination shared by every list the GraphQL API serves.

A page is the rows after a key (the sort values of the last row seen plus its id), never an
offset: a cursor stays valid and stable while rows are added or removed elsewhere. Text sort
keys compare byte-wise on both databases (``COLLATE "C"`` on PostgreSQL, SQLite's default
BINARY), so the order does not depend on the server's locale.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, Select, tuple_

from db.collation import BinaryText

__all__ = [
    "BinaryText",
    "KeysetPage",
    "keyset_order",
    "keyset_page",
    "keyset_rows",
    "keyset_select",
]


@dataclass(frozen=True, slots=True)
class KeysetPage:
    rows: list[RowMapping]
    has_next: bool


def keyset_page(
    connection: Connection,
    query: Select[Any],
    keys: Sequence[ColumnElement[Any]],
    *,
    first: int,
    after: Sequence[Any] | None,
    descending: bool = False,
    constant: Sequence[ColumnElement[Any]] = (),
) -> KeysetPage:
    """The ``first`` rows of ``query`` ordered by ``keys`` (the last key unique) after ``after``.

    ``constant`` are columns ``query`` holds at one value (such as ``manager_id IS NULL``):
    they lead the ORDER BY but not the cursor. The order is the same, but PostgreSQL only
    knows a column is constant from ``= value``, so without them it would sort what an index
    on (..., constant, keys) already gives in order.
    """
    statement = keyset_select(
        query, keys, first=first, after=after, descending=descending, constant=constant
    )
    return keyset_rows(connection, statement, first=first)


def keyset_select(
    query: Select[Any],
    keys: Sequence[ColumnElement[Any]],
    *,
    first: int,
    after: Sequence[Any] | None,
    descending: bool = False,
    constant: Sequence[ColumnElement[Any]] = (),
) -> Select[Any]:
    """``keyset_page``'s statement: ``first + 1`` rows (the last says whether a next page
    exists), for a caller that runs it inside another statement."""
    query = keyset_after(query, keys, after, descending)
    return query.order_by(*keyset_order(keys, descending, constant)).limit(first + 1)


def keyset_after(
    query: Select[Any],
    keys: Sequence[ColumnElement[Any]],
    after: Sequence[Any] | None,
    descending: bool = False,
) -> Select[Any]:
    """``query`` restricted to the rows past the cursor ``after`` (the keys' values of the
    last row seen) in the order of ``keys``; unchanged without a cursor.

    Besides the comparison of the keys as a row, the first key is bounded on its own (which
    the row comparison implies): SQLite seeks an index by a row value only when its first
    member is a column, so past a cursor in the directory's order (an expression,
    ``coalesce(display_name, '')``) it read the index from the start of the tenant's range
    up to the cursor; bounded, it starts at the cursor."""
    if after is None:
        return query
    position, bound = tuple_(*keys), tuple_(*after)
    if descending:
        return query.where(keys[0] <= after[0], position < bound)
    return query.where(keys[0] >= after[0], position > bound)


def keyset_order(
    keys: Sequence[ColumnElement[Any]],
    descending: bool = False,
    constant: Sequence[ColumnElement[Any]] = (),
) -> list[ColumnElement[Any]]:
    return [key.desc() if descending else key.asc() for key in (*constant, *keys)]


def keyset_rows(connection: Connection, statement: Select[Any], *, first: int) -> KeysetPage:
    """The page of a statement ending in ``keyset_select``'s ``first + 1`` rows."""
    rows = list(connection.execute(statement).mappings())
    return KeysetPage(rows[:first], len(rows) > first)
