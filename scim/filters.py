"""SCIM ``filter`` and ``sortBy`` → SQLAlchemy, for the Users and Groups endpoints.

``compile_user_filter(text)`` / ``compile_group_filter(text)`` return a WHERE clause over
``db.tables.users`` / ``db.tables.groups``. It does NOT include the tenant: callers add
``table.c.tenant_id == tenant_id`` (the indexes lead with ``tenant_id``)::

    select(users).where(users.c.tenant_id == tenant, compile_user_filter(text))

Every problem with the text (syntax, unknown or unfilterable attribute, a value of the wrong
type, a bad timestamp) raises ``ScimError(400, detail, invalidFilter)`` whose detail names it;
no input string raises anything else.

``user_sort_column(sort_by)`` / ``group_sort_column(sort_by)`` return the expression to order
by (``lower(column)`` for case-insensitive strings). An unknown or unsortable ``sortBy`` raises
``ScimError(400, detail, invalidValue)``: RFC 7644 gives sortBy no scimType of its own and it is
not a filter. Order with ``.asc().nulls_last()`` / ``.desc().nulls_last()`` and add ``id`` as a
tie-breaker for stable pages; NULLs sort differently on SQLite and PostgreSQL otherwise.

Compiled expressions are cached by text: they are immutable, carry their values as bound
parameters, and can be reused by concurrent requests.

What is filterable is listed in ``scim.filter_resources``; notably only the work email and the
work/mobile phone numbers (the columns) take part in ``emails``/``phoneNumbers`` conditions,
and attributes kept only in the JSON document (``userType``, ``nickName``, ``addresses``...) are
refused with invalidFilter.
"""

from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, func

from scim.errors import ScimError, ScimType
from scim.filter_comparisons import FilterError
from scim.filter_compiler import FilterCompiler, resolve, sub_field
from scim.filter_resources import GROUP_SCHEMA, USER_SCHEMA
from scim.filter_schema import ColumnField, Complex, Kind, ResourceSchema
from scim.filter_syntax import FilterSyntaxError, invalid_filter, parse_filter, tokenize_path

CACHE_SIZE = 2048


def _compile(text: str, schema: ResourceSchema) -> ColumnElement[bool]:
    tree = parse_filter(text)
    try:
        return FilterCompiler(schema).compile(tree)
    except FilterError as error:
        raise invalid_filter(str(error)) from error


@lru_cache(maxsize=CACHE_SIZE)
def compile_user_filter(text: str) -> ColumnElement[bool]:
    """A WHERE clause over ``db.tables.users`` (without the tenant condition)."""
    return _compile(text, USER_SCHEMA)


@lru_cache(maxsize=CACHE_SIZE)
def compile_group_filter(text: str) -> ColumnElement[bool]:
    """A WHERE clause over ``db.tables.groups`` (without the tenant condition)."""
    return _compile(text, GROUP_SCHEMA)


def _invalid_sort(detail: str) -> ScimError:
    return ScimError(400, detail, ScimType.INVALID_VALUE)


def _sort_column(sort_by: str, schema: ResourceSchema) -> ColumnElement[Any]:
    try:
        tokens = tokenize_path(sort_by)
    except FilterSyntaxError as error:
        raise _invalid_sort(f"invalid sortBy {sort_by!r}: {error}") from error
    kinds = [kind for kind, _ in tokens]
    uri = tokens.pop(0)[1] if kinds[:1] == ["SCHEMA_URI"] else None
    kinds = [kind for kind, _ in tokens]
    if kinds not in (["ATTRNAME"], ["ATTRNAME", "SUBATTR"]):
        raise _invalid_sort(f"invalid sortBy {sort_by!r}: expected an attribute path")
    name = tokens[0][1]
    sub = tokens[1][1] if len(tokens) == 2 else None
    try:
        attribute = resolve(schema, name, uri)
        if isinstance(attribute, Complex) and (sub or attribute.default):
            # a multi-valued attribute sorts by its first stored value (emails: the work one)
            field = sub_field(attribute.elements[0], sub or str(attribute.default), name)
        elif isinstance(attribute, ColumnField) and sub is None:
            field = attribute
        else:
            raise FilterError(f"{sort_by!r} is not a sortable attribute")
    except FilterError as error:
        raise _invalid_sort(f"cannot sort by {sort_by!r}: {error}") from error
    if not isinstance(field, ColumnField):
        raise _invalid_sort(f"cannot sort by {sort_by!r}: it is not stored")
    if field.kind is Kind.STRING and not field.case_exact:
        return func.lower(field.column)
    return field.column


def user_sort_column(sort_by: str) -> ColumnElement[Any]:
    """The ORDER BY expression for a Users ``sortBy``."""
    return _sort_column(sort_by, USER_SCHEMA)


def group_sort_column(sort_by: str) -> ColumnElement[Any]:
    """The ORDER BY expression for a Groups ``sortBy``."""
    return _sort_column(sort_by, GROUP_SCHEMA)


__all__ = [
    "compile_group_filter",
    "compile_user_filter",
    "group_sort_column",
    "user_sort_column",
]
