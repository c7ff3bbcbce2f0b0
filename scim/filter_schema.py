"""How SCIM attributes map onto columns, in the terms the filter compiler needs.

A resource's filterable attributes are described once (see ``scim.filter_resources``) as:

* :class:`ColumnField` - a singular value stored in one column (``userName``, ``active``);
* :class:`ConstantField` - a sub-attribute whose value is implied by where the element is
  stored (the ``type`` of the email kept in the work-email column is ``"work"``);
* :class:`Complex` - a complex attribute whose values live in columns of the resource's own
  row: ``name`` (one element), ``emails`` (one: the work email), ``phoneNumbers`` (two: work and
  mobile). A condition on it matches when any element matches;
* :class:`Related` - a multi-valued attribute stored as rows of another table (group
  ``members``, user ``groups``); a condition on it compiles to a correlated ``EXISTS``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from sqlalchemy import ColumnElement, FromClause, and_, func, true


class Kind(Enum):
    STRING = "string"
    BOOLEAN = "boolean"
    DATETIME = "dateTime"


def has_value(column: ColumnElement[object]) -> ColumnElement[bool]:
    """SCIM's "present": not null and not the empty string."""
    return and_(column.is_not(None), column != "")


@dataclass(frozen=True, eq=False)
class ColumnField:
    column: ColumnElement[object]
    kind: Kind = Kind.STRING
    #: RFC 7643 ``caseExact``: false compares ``lower(column)`` with ``lower(value)``.
    case_exact: bool = False
    #: Whether ``sortBy`` may name it.
    sortable: bool = True

    @cached_property
    def lowered(self) -> ColumnElement[str]:
        """``lower(column)``, built once: expressions are immutable and cheap to share."""
        return func.lower(self.column)


@dataclass(frozen=True, eq=False)
class ConstantField:
    value: str


Field = ColumnField | ConstantField


@dataclass(frozen=True, eq=False)
class Element:
    """One value of a complex attribute: its sub-attributes, and when it exists at all."""

    fields: Mapping[str, Field]  # keyed by lower-case sub-attribute name
    present: ColumnElement[bool] = field(default_factory=true)


@dataclass(frozen=True, eq=False)
class Complex:
    elements: tuple[Element, ...]
    #: The sub-attribute meant when none is named (``emails co "x"`` is ``emails.value``).
    default: str | None = "value"


@dataclass(frozen=True, eq=False)
class Related:
    table: FromClause
    #: Correlates a row of ``table`` with the outer resource row.
    link: ColumnElement[bool]
    element: Element
    default: str | None = "value"


Attribute = ColumnField | Complex | Related


@dataclass(frozen=True, eq=False)
class ResourceSchema:
    """The filterable attributes of one resource type, by schema URN and attribute name."""

    name: str
    core_urn: str
    #: lower-case URN → lower-case attribute name → attribute. The core URN comes first;
    #: unqualified names are looked up in each schema in order.
    schemas: Mapping[str, Mapping[str, Attribute]]
    #: Lower-case URNs accepted as spellings of another (e.g. Entra's ``...:2.0User``).
    urn_aliases: Mapping[str, str]
    #: Lower-case names of attributes the resource has but that cannot be filtered on.
    unfilterable: frozenset[str]
