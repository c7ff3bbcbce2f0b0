"""Byte-wise text order on both databases, for sorting, keyset comparisons and indexes.

PostgreSQL sorts text by the database's locale unless told otherwise; SQLite compares bytes
(BINARY). ``BinaryText(expr)`` renders ``expr COLLATE "C"`` on PostgreSQL and ``expr`` on
SQLite, so an order, a cursor and an index agree everywhere and match Python's ``sorted``.
"""

from typing import Any

from sqlalchemy import ColumnElement, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class BinaryText(ColumnElement[str]):
    """A text expression that sorts and compares byte-wise."""

    inherit_cache = True
    type = String()
    _traverse_internals = [("inner", InternalTraversal.dp_clauseelement)]

    def __init__(self, expression: ColumnElement[Any]) -> None:
        self.inner = expression


@compiles(BinaryText)
def _binary_text(element: BinaryText, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.inner, **kw)


@compiles(BinaryText, "postgresql")
def _binary_text_postgresql(element: BinaryText, compiler: SQLCompiler, **kw: Any) -> str:
    return f'{compiler.process(element.inner, **kw)} COLLATE "C"'
