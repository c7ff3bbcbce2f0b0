"""Rows for ``db.tables.users`` built from SCIM documents: the bulk path for big datasets.

Loading 100,000 users through the SCIM API takes minutes; inserting rows in batches takes
seconds. The rows must look exactly like what the SCIM layer writes for the same documents,
or the benchmark measures a different database. ``bench.checks.check_bulk_rows`` verifies
that on every run by creating a few users through the API and comparing their stored rows
with the rows built here.

Typed columns hold what Blink filters, sorts or walks on; ``attributes`` keeps the rest of
the document verbatim (``scim.user_cast`` documents the split).
"""

from datetime import datetime
from typing import Any

from bench.dataset import BLINK, ENTERPRISE


def _typed_value(items: list[dict[str, Any]], kind: str) -> str | None:
    for item in items:
        if item.get("type") == kind:
            return item.get("value")
    return None


def user_row(
    document: dict[str, Any], *, user_id: str, tenant_id: int, now: datetime
) -> dict[str, Any]:
    """The ``user`` row the SCIM layer stores for ``document`` (a create plus manager PATCH)."""
    name = document.get("name") or {}
    enterprise = document.get(ENTERPRISE) or {}
    blink = document.get(BLINK) or {}
    manager = enterprise.get("manager")
    emails = document.get("emails") or []
    phones = document.get("phoneNumbers") or []
    return {
        "id": user_id,
        "tenant_id": tenant_id,
        "user_name": document["userName"],
        "external_id": document.get("externalId"),
        "active": bool(document.get("active", True)),
        "display_name": document.get("displayName"),
        "title": document.get("title"),
        "given_name": name.get("givenName"),
        "family_name": name.get("familyName"),
        "formatted_name": name.get("formatted"),
        "middle_name": name.get("middleName"),
        "honorific_prefix": name.get("honorificPrefix"),
        "honorific_suffix": name.get("honorificSuffix"),
        "email": _typed_value(emails, "work"),
        "work_phone": _typed_value(phones, "work"),
        "mobile_phone": _typed_value(phones, "mobile"),
        "department": enterprise.get("department"),
        "employee_number": enterprise.get("employeeNumber"),
        "manager_id": manager["value"] if manager else None,
        "company": blink.get("company"),
        "description": blink.get("description"),
        "location": blink.get("location"),
        "attributes": _leftover_attributes(document),
        "created": now,
        "last_modified": now,
        # Entra's create is version 1, its manager PATCH makes it 2.
        "version": 2 if manager else 1,
    }


def _leftover_attributes(document: dict[str, Any]) -> dict[str, Any]:
    """What the typed columns do not hold: the multi-valued lists minus their mirrored values.

    The SCIM layer keeps ``emails`` and ``phoneNumbers`` with the ``value`` of the first work
    email, work phone and mobile phone taken out (those live in columns), so the list's order
    and other sub-attributes (``primary``) survive.
    """
    leftover: dict[str, Any] = {}
    for attribute, kinds in (("emails", ("work",)), ("phoneNumbers", ("work", "mobile"))):
        elements = [dict(element) for element in document.get(attribute) or []]
        for kind in kinds:
            for element in elements:
                if str(element.get("type", "")).lower() == kind:
                    element.pop("value", None)
                    break
        if elements:
            leftover[attribute] = elements
    return leftover
