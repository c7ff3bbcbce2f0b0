"""A page of a list as the connection types read it: its edges, where it sits, its count.

The connection types (``UserConnection``, ``GroupConnection``, ...) describe the GraphQL
shape; a ``Page`` is the value their fields read. Builders of pages need no GraphQL type, so
a type can return another package's connection without importing it.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from app.graphql_api.node import PageInfo

T = TypeVar("T")


class Edge(Generic[T]):
    """A node of a page and its cursor, encoded when read: a query that lists nodes without
    their cursors (the org chart's team) encodes none. An attribute rather than a resolver,
    so that strawberry reads it with one ``getattr``."""

    __slots__ = ("_cursor_of", "node")

    def __init__(self, node: T, cursor_of: Callable[[T], str]) -> None:
        self.node = node
        self._cursor_of = cursor_of

    @property
    def cursor(self) -> str:
        return self._cursor_of(self.node)


@dataclass(frozen=True, slots=True)
class Page:
    edges: Sequence[Any]
    page_info: PageInfo
    # A value when it is at hand without a statement (the org figures), else an awaitable.
    count: Callable[[], int | Awaitable[int]]


def page_info(cursors: Sequence[str], *, has_next: bool, after: str | None) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


def edges_page(
    edges: Sequence[Edge[Any]],
    *,
    has_next: bool,
    after: str | None,
    count: Callable[[], int | Awaitable[int]],
) -> Page:
    cursors = [edges[0].cursor, edges[-1].cursor] if edges else []
    return Page(edges, page_info(cursors, has_next=has_next, after=after), count)
