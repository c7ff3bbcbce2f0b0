"""Casting a User between its canonical SCIM document and its row, and rendering it.

Where each attribute is stored is decided by the map in ``scim.user_attributes``; this module
applies it. Typed columns hold the attributes the map names with a column (userName,
externalId, active, names, the work email, the work and mobile phones, enterprise department,
employeeNumber and ``manager.value``, the Blink extension); the ``attributes`` JSON column holds
everything else, verbatim: the other core attributes (``nickName``, ``addresses``, ``roles``,
…), the ``emails``/``phoneNumbers`` lists with the mirrored value taken out of its element, and
the other attributes of each extension under its URN. Values are stored as sent.

``password`` is never stored. The manager is rendered as ``{"value", "$ref", "displayName"}``
(``displayName`` is the manager's own displayName, ``null`` when they have none).

``active`` is a non-null column (the org chart needs a yes/no): a document without
``active`` (never sent, or removed by PATCH) is stored as active and flagged with the key
``_activeUnassigned`` in ``attributes``, so a GET still leaves it out.

What the pipeline edits is the canonical document (``row_to_document``); what it stores is
``document_to_columns``' values, exactly the columns ``SCIM_WRITTEN_COLUMNS`` lists.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from scim import urns
from scim.etag import weak_etag
from scim.user_attributes import (
    DOCUMENT_COLUMN,
    USER_ATTRIBUTES,
    Placement,
    UserAttribute,
    attribute_urns,
    stored,
)
from scim.user_schema import CORE_USER_SCHEMA

#: A top-level attribute and where its value goes: one column, or (sub-attribute, column) pairs.
_Field = tuple[str, str | None, tuple[tuple[str, str], ...]]


def _fields(entries: tuple[UserAttribute, ...]) -> tuple[_Field, ...]:
    """The singular and sub-attribute entries grouped by top-level attribute, in map order."""
    grouped: dict[str, list[UserAttribute]] = {}
    for entry in entries:
        if entry.placement is not Placement.TYPED_ELEMENT:
            grouped.setdefault(entry.attribute, []).append(entry)
    fields: list[_Field] = []
    for attribute, group in grouped.items():
        if group[0].placement is Placement.SINGULAR:
            fields.append((attribute, group[0].column, ()))
        else:
            fields.append((attribute, None, tuple((e.sub or "", e.column or "") for e in group)))
    return tuple(fields)


_ACTIVE = next(entry for entry in USER_ATTRIBUTES if entry.path == "active")
_ACTIVE_ATTRIBUTE = _ACTIVE.attribute
_ACTIVE_COLUMN = _ACTIVE.column or ""
#: The key in ``attributes`` that says ``active`` was never sent (or was removed).
ACTIVE_UNASSIGNED = "_activeUnassigned"
_CORE_FIELDS = _fields(tuple(e for e in stored(urns.CORE_USER) if e is not _ACTIVE))
#: (attribute, element type, sub-attribute, column) of the values mirrored into columns.
_MIRRORED = tuple(
    (entry.attribute, entry.kind or "", entry.sub or "", entry.column or "")
    for entry in USER_ATTRIBUTES
    if entry.placement is Placement.TYPED_ELEMENT and entry.column is not None
)
#: Each extension URN with its column-stored singular attributes and complex attributes.
_EXTENSIONS = tuple(
    (
        urn,
        tuple(field for field in _fields(stored(urn)) if field[1] is not None),
        tuple(field for field in _fields(stored(urn)) if field[1] is None),
    )
    for urn in attribute_urns()[1:]
)
_EXTENSION_URNS = frozenset(urn for urn, _, _ in _EXTENSIONS)
#: Core attributes kept in the JSON document, in the order the schema lists them.
_COLUMN_ATTRIBUTES = {attribute for attribute, _, _ in _CORE_FIELDS} | {_ACTIVE_ATTRIBUTE}
_CORE_JSON_ORDER = tuple(
    attribute.name
    for attribute in CORE_USER_SCHEMA.attributes
    if attribute.name not in _COLUMN_ATTRIBUTES
    and attribute.returned != "never"
    and attribute.mutability != "readOnly"
)


def _first_of_type(elements: list[Any], kind: str) -> int | None:
    for index, element in enumerate(elements):
        if isinstance(element, dict) and str(element.get("type", "")).lower() == kind:
            return index
    return None


def _take(section: dict[str, Any], fields: tuple[_Field, ...], columns: dict[str, Any]) -> None:
    """Move the mapped attributes of one schema's part of a document into ``columns``."""
    for attribute, column, parts in fields:
        if column is not None:
            columns[column] = section.pop(attribute, None)
        else:
            value = section.pop(attribute, None) or {}
            for sub, sub_column in parts:
                columns[sub_column] = value.get(sub)


def document_to_columns(document: dict[str, Any]) -> dict[str, Any]:
    """The column values of a canonical User document (see the module docstring)."""
    rest = {key: value for key, value in document.items() if not key.startswith("urn:")}
    columns: dict[str, Any] = {}
    _take(rest, _CORE_FIELDS, columns)
    columns[_ACTIVE_COLUMN] = rest.pop(_ACTIVE_ATTRIBUTE, True)
    if _ACTIVE_ATTRIBUTE not in document:
        rest[ACTIVE_UNASSIGNED] = True
    for attribute, kind, sub, column in _MIRRORED:
        elements = rest.get(attribute)
        index = _first_of_type(elements, kind) if elements else None
        columns[column] = None
        if elements and index is not None and sub in elements[index]:
            elements = [dict(element) for element in elements]
            columns[column] = elements[index].pop(sub)
            rest[attribute] = elements
    for urn, singular, complex_ in _EXTENSIONS:
        section = dict(document.get(urn) or {})
        _take(section, singular, columns)
        _take(section, complex_, columns)
        if section:
            rest[urn] = section
    columns[DOCUMENT_COLUMN] = rest
    return columns


def row_to_document(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The canonical document of a row (manager as ``{"value": id}``): what PATCH edits."""
    document: dict[str, Any] = {}
    stored_document: dict[str, Any] = row[DOCUMENT_COLUMN] or {}
    for attribute, column, parts in _CORE_FIELDS:
        if column is not None:
            value = row[column]
            if value is not None:
                document[attribute] = value
        else:
            complex_value = {sub: row[c] for sub, c in parts if row[c] is not None}
            if complex_value:
                document[attribute] = complex_value
    if not stored_document.get(ACTIVE_UNASSIGNED):
        document[_ACTIVE_ATTRIBUTE] = bool(row[_ACTIVE_COLUMN])
    for key in _CORE_JSON_ORDER:
        if key in stored_document:
            document[key] = stored_document[key]
    for key, value in stored_document.items():  # anything a later schema version added
        if key not in document and key not in _EXTENSION_URNS and key != ACTIVE_UNASSIGNED:
            document[key] = value
    for attribute, kind, sub, column in _MIRRORED:
        value = row[column]
        if value is None:
            continue
        elements = [dict(element) for element in document.get(attribute, [])]
        index = _first_of_type(elements, kind)
        if index is None:
            elements.append({"type": kind, sub: value})
        else:
            elements[index] = {sub: value, **elements[index]}
        document[attribute] = elements
    for urn, singular, complex_ in _EXTENSIONS:
        section = {}
        for attribute, column, _ in singular:
            value = row[column]
            if value is not None:
                section[attribute] = value
        section.update(stored_document.get(urn, {}))
        for attribute, _, parts in complex_:
            complex_value = {sub: row[c] for sub, c in parts if row[c] is not None}
            if complex_value:
                section[attribute] = complex_value
        if section:
            document[urn] = section
    return document


def timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def render_user(row: Mapping[Any, Any], base_url: str) -> dict[str, Any]:
    """The full SCIM User resource of a row read with ``db.users.USER_WITH_MANAGER``."""
    user_id = row["id"]
    document = row_to_document(row)
    schemas = [urns.CORE_USER]
    enterprise = document.get(urns.ENTERPRISE_USER)
    if enterprise is not None:
        schemas.append(urns.ENTERPRISE_USER)
        manager_id = row["manager_id"]
        if manager_id is not None:
            enterprise["manager"] = {
                "value": manager_id,
                "$ref": f"{base_url}/Users/{manager_id}",
                "displayName": row["manager_display_name"],
            }
    if urns.BLINK_USER in document:
        schemas.append(urns.BLINK_USER)
    location = f"{base_url}/Users/{user_id}"
    return {
        "schemas": schemas,
        "id": user_id,
        **document,
        "meta": {
            "resourceType": "User",
            "created": timestamp(row["created"]),
            "lastModified": timestamp(row["last_modified"]),
            "location": location,
            "version": weak_etag(row["version"]),
        },
    }
