"""Group filters and sort keys, as SQLAlchemy expressions over ``db.tables.groups``.

A stop-gap that understands the filters Entra sends for groups (``displayName eq``,
``externalId eq``, ``id eq``, ``members[value eq …]``, ``members.value eq`` and their
``and``); replaced by ``scim.filters`` once that lands.
"""

import re
from typing import Any

from sqlalchemy import ColumnElement, and_, func

from db.group_members import member_of
from db.tables import groups
from scim.errors import ScimError, ScimType

_STRING = r'"((?:[^"\\]|\\.)*)"'
_TERM = re.compile(
    rf"^\s*(?:members\[\s*value\s+eq\s+{_STRING}\s*\]|([\w.:]+)\s+eq\s+{_STRING})\s*$",
    re.IGNORECASE,
)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _term(text: str) -> ColumnElement[bool]:
    match = _TERM.match(text)
    if match is None:
        raise ScimError(400, f"unsupported group filter {text.strip()!r}", ScimType.INVALID_FILTER)
    member, attribute, value = match.groups()
    if member is not None:
        return member_of(_unquote(member))
    name = attribute.lower().removeprefix("urn:ietf:params:scim:schemas:core:2.0:group:")
    literal = _unquote(value)
    if name == "displayname":
        return func.lower(groups.c.display_name) == literal.lower()
    if name == "externalid":
        return groups.c.external_id == literal
    if name == "id":
        return groups.c.id == literal
    if name == "members.value":
        return member_of(literal)
    raise ScimError(
        400, f"unknown Group attribute {attribute!r} in filter", ScimType.INVALID_FILTER
    )


def compile_group_filter(text: str) -> ColumnElement[bool]:
    terms = re.split(r"\s+and\s+(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", text, flags=re.IGNORECASE)
    return and_(*[_term(term) for term in terms])


def group_sort_column(sort_by: str) -> ColumnElement[Any]:
    name = sort_by.lower().removeprefix("urn:ietf:params:scim:schemas:core:2.0:group:")
    columns: dict[str, ColumnElement[Any]] = {
        "displayname": func.lower(groups.c.display_name),
        "externalid": groups.c.external_id,
        "id": groups.c.id,
        "meta.created": groups.c.created,
        "meta.lastmodified": groups.c.last_modified,
    }
    if name not in columns:
        raise ScimError(400, f"cannot sort groups by {sort_by!r}", ScimType.INVALID_VALUE)
    return columns[name]
