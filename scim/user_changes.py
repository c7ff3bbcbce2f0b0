"""What a write changed in a User, as SCIM attribute paths with old and new values.

The activity log's ``changes``. Derived from the row's columns before and after the write —
both already in hand where the write is made, so nothing is read for it — through the User
attribute map (``scim.user_attributes``), the one place that says where each attribute is
stored:

* each mapped column under its map path (``title``, ``name.givenName``,
  ``emails[type eq "work"].value``, ``phoneNumbers[type eq "mobile"].value``); a complex
  attribute stored only by its ``value`` under the attribute itself
  (``urn:…:enterprise:2.0:User:manager``: the manager's id);
* ``active`` as the client left it: null when it was never sent or was removed;
* the ``attributes`` JSON document by its top-level keys (``nickName``, ``addresses``, the rest
  of ``emails``), an extension's section by attribute (``urn:…:enterprise:2.0:User:costCenter``).

Values are JSON as stored. ``password`` is never stored, so it never appears.
"""

from collections.abc import Mapping
from typing import Any

from db.activity import attribute_change
from scim.user_attributes import DOCUMENT_COLUMN, USER_ATTRIBUTES, Placement, UserAttribute
from scim.user_cast import ACTIVE_UNASSIGNED


def _reported_path(entry: UserAttribute) -> str:
    if entry.placement is Placement.SUB_ATTRIBUTE and entry.sub == "value":
        return entry.path.removesuffix(".value")
    return entry.path


#: (column, reported path) of every attribute stored in a column of its own, in map order.
_COLUMNS = tuple(
    (entry.column, _reported_path(entry)) for entry in USER_ATTRIBUTES if entry.column is not None
)
_ACTIVE_PATH = "active"
#: The path the log names the manager by (``db.users.delete_user`` clears it on reports).
MANAGER_PATH = next(path for column, path in _COLUMNS if column == "manager_id")


def stored_attributes(row: Mapping[str, Any]) -> dict[str, Any]:
    """Every stored attribute of a user row (its client-written columns) by SCIM path."""
    values = {path: row[column] for column, path in _COLUMNS}
    document: Mapping[str, Any] = row[DOCUMENT_COLUMN] or {}
    if document.get(ACTIVE_UNASSIGNED):
        values[_ACTIVE_PATH] = None
    for key, value in document.items():
        if key == ACTIVE_UNASSIGNED:
            continue
        if key.startswith("urn:") and isinstance(value, dict):
            for name, inner in value.items():
                values[f"{key}:{name}"] = inner
        else:
            values[key] = value
    return values


def user_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """``[{"attribute", "oldValue", "newValue"}]`` for every stored attribute that differs
    between two rows of a user (``None``: the user did not exist), in map order."""
    if before is not None and after is not None:
        document = after[DOCUMENT_COLUMN]
        if document is before[DOCUMENT_COLUMN] or document == before[DOCUMENT_COLUMN]:
            # Most updates (Entra's manager PATCH) leave the document as it was: only columns
            # can differ, and "active" left unassigned by both reads null on both sides.
            unassigned = bool(document and document.get(ACTIVE_UNASSIGNED))
            return [
                attribute_change(path, before[column], after[column])
                for column, path in _COLUMNS
                if before[column] != after[column] and not (unassigned and path == _ACTIVE_PATH)
            ]
    old = stored_attributes(before) if before is not None else {}
    new = stored_attributes(after) if after is not None else {}
    return [
        attribute_change(path, old.get(path), new.get(path))
        for path in dict.fromkeys((*new, *old))
        if old.get(path) != new.get(path)
    ]
