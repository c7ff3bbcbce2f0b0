"""Casting a User between its canonical SCIM document and its row, and rendering it.

Storage split (``db.tables.User``):

* typed, indexed columns — ``userName`` → ``user_name``, ``externalId``, ``active``,
  ``displayName``, ``title``, the six ``name`` parts, the ``value`` of the first
  ``emails`` element of type work → ``email``, of the first ``phoneNumbers`` element of type
  work → ``work_phone`` and of type mobile → ``mobile_phone``; enterprise ``department``,
  ``employeeNumber`` and ``manager.value`` → ``manager_id``; Blink ``company``,
  ``description``, ``location``;
* the ``attributes`` JSON column — everything else, verbatim: the other core attributes
  (``nickName``, ``addresses``, ``roles``, …), the ``emails``/``phoneNumbers`` lists with the
  mirrored ``value`` taken out of their element (so nothing is stored twice and the list's
  order and other sub-attributes survive), and the other enterprise attributes under the
  enterprise URN.

``password`` is never stored. The manager is rendered as ``{"value", "$ref", "displayName"}``
(``displayName`` is the manager's own displayName, ``null`` when they have none).

``active`` is a non-null column (the org chart needs a yes/no): a document without
``active`` (never sent, or removed by PATCH) is stored as active and flagged with the key
``_activeUnassigned`` in ``attributes``, so a GET still leaves it out.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from scim import urns
from scim.etag import weak_etag

_CORE_COLUMNS = (
    ("userName", "user_name"),
    ("displayName", "display_name"),
    ("title", "title"),
)
_NAME_COLUMNS = (
    ("formatted", "formatted_name"),
    ("familyName", "family_name"),
    ("givenName", "given_name"),
    ("middleName", "middle_name"),
    ("honorificPrefix", "honorific_prefix"),
    ("honorificSuffix", "honorific_suffix"),
)
_ENTERPRISE_COLUMNS = (("employeeNumber", "employee_number"), ("department", "department"))
_BLINK_COLUMNS = (("company", "company"), ("description", "description"), ("location", "location"))
#: (attribute, element type, column) of the multi-valued values mirrored into columns.
_MIRRORED = (
    ("emails", "work", "email"),
    ("phoneNumbers", "work", "work_phone"),
    ("phoneNumbers", "mobile", "mobile_phone"),
)
_ACTIVE_UNASSIGNED = "_activeUnassigned"
_CORE_JSON_ORDER = (
    "nickName",
    "profileUrl",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "entitlements",
    "roles",
    "x509Certificates",
)


def _first_of_type(elements: list[Any], kind: str) -> int | None:
    for index, element in enumerate(elements):
        if isinstance(element, dict) and str(element.get("type", "")).lower() == kind:
            return index
    return None


def document_to_columns(document: dict[str, Any]) -> dict[str, Any]:
    """The column values of a canonical User document (see the module docstring)."""
    rest = {key: value for key, value in document.items() if not key.startswith("urn:")}
    columns: dict[str, Any] = {
        "external_id": rest.pop("externalId", None),
        "active": rest.pop("active", True),
    }
    if "active" not in document:
        rest[_ACTIVE_UNASSIGNED] = True
    for attribute, column in _CORE_COLUMNS:
        columns[column] = rest.pop(attribute, None)
    name = rest.pop("name", {})
    for attribute, column in _NAME_COLUMNS:
        columns[column] = name.get(attribute)
    for attribute, kind, column in _MIRRORED:
        elements = rest.get(attribute)
        index = _first_of_type(elements, kind) if elements else None
        columns[column] = None
        if elements and index is not None and "value" in elements[index]:
            elements = [dict(element) for element in elements]
            columns[column] = elements[index].pop("value")
            rest[attribute] = elements
    enterprise = dict(document.get(urns.ENTERPRISE_USER, {}))
    for attribute, column in _ENTERPRISE_COLUMNS:
        columns[column] = enterprise.pop(attribute, None)
    manager = enterprise.pop("manager", None)
    columns["manager_id"] = manager.get("value") if manager else None
    blink = document.get(urns.BLINK_USER, {})
    for attribute, column in _BLINK_COLUMNS:
        columns[column] = blink.get(attribute)
    if enterprise:
        rest[urns.ENTERPRISE_USER] = enterprise
    columns["attributes"] = rest
    return columns


def row_to_document(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The canonical document of a row (manager as ``{"value": id}``): what PATCH edits."""
    document: dict[str, Any] = {}
    if row["external_id"] is not None:
        document["externalId"] = row["external_id"]
    stored: dict[str, Any] = row["attributes"] or {}
    document["userName"] = row["user_name"]
    name = {
        attribute: row[column] for attribute, column in _NAME_COLUMNS if row[column] is not None
    }
    if name:
        document["name"] = name
    for attribute, column in _CORE_COLUMNS[1:]:  # displayName, title
        if row[column] is not None:
            document[attribute] = row[column]
    if not stored.get(_ACTIVE_UNASSIGNED):
        document["active"] = bool(row["active"])
    for key in _CORE_JSON_ORDER:
        if key in stored:
            document[key] = stored[key]
    for key, value in stored.items():  # anything a later schema version added
        if key not in document and key not in (urns.ENTERPRISE_USER, _ACTIVE_UNASSIGNED):
            document[key] = value
    for attribute, kind, column in _MIRRORED:
        value = row[column]
        if value is None:
            continue
        elements = [dict(element) for element in document.get(attribute, [])]
        index = _first_of_type(elements, kind)
        if index is None:
            elements.append({"type": kind, "value": value})
        else:
            elements[index] = {"value": value, **elements[index]}
        document[attribute] = elements
    enterprise = {
        attribute: row[column]
        for attribute, column in _ENTERPRISE_COLUMNS
        if row[column] is not None
    }
    enterprise.update(stored.get(urns.ENTERPRISE_USER, {}))
    if row["manager_id"] is not None:
        enterprise["manager"] = {"value": row["manager_id"]}
    if enterprise:
        document[urns.ENTERPRISE_USER] = enterprise
    blink = {
        attribute: row[column] for attribute, column in _BLINK_COLUMNS if row[column] is not None
    }
    if blink:
        document[urns.BLINK_USER] = blink
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
