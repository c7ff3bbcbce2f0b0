"""TEMPORARY stand-in for ``scim.filters`` (branch ``issue-filters``), same interface.

Understands only ``userName eq``, ``externalId eq`` and ``id eq``; deleted when the real
filter compiler is merged.
"""

import re
from typing import Any

from sqlalchemy import ColumnElement, func

from db.tables import users
from scim.errors import ScimError, ScimType

_EQ = re.compile(r'^\s*(userName|externalId|id)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_SORTABLE = {
    "username": users.c.user_name,
    "externalid": users.c.external_id,
    "id": users.c.id,
    "displayname": users.c.display_name,
    "meta.created": users.c.created,
    "meta.lastmodified": users.c.last_modified,
}


def compile_user_filter(text: str) -> ColumnElement[bool]:
    match = _EQ.match(text)
    if match is None:
        raise ScimError(400, f"unsupported filter {text!r}", ScimType.INVALID_FILTER)
    attribute, value = match.group(1).lower(), match.group(2).replace('\\"', '"')
    if attribute == "username":
        return func.lower(users.c.user_name) == value.lower()
    if attribute == "externalid":
        return users.c.external_id == value
    return users.c.id == value


def user_sort_column(sort_by: str) -> ColumnElement[Any]:
    column = _SORTABLE.get(sort_by.lower())
    if column is None:
        raise ScimError(400, f"cannot sort by {sort_by!r}", ScimType.INVALID_VALUE)
    return column
