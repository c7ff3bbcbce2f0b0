"""The demo's people and groups as the SCIM documents Entra would send, and what differs.

A person is compared attribute by attribute with what the server holds; only the attributes
that differ are PATCHed, the way Entra's incremental cycle does, so a second run of the same
demo sends no write at all.
"""

from typing import Any

from app.demo.org import DemoGroup, DemoPerson

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BLINK = "urn:ietf:params:scim:schemas:extension:blink:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

WORK_EMAIL = 'emails[type eq "work"].value'
WORK_PHONE = 'phoneNumbers[type eq "work"].value'
MOBILE_PHONE = 'phoneNumbers[type eq "mobile"].value'
MANAGER = f"{ENTERPRISE}:manager"


def user_body(person: DemoPerson, manager_id: str | None) -> dict[str, Any]:
    phones = [{"type": "work", "value": person.work_phone}]
    if person.mobile_phone is not None:
        phones.append({"type": "mobile", "value": person.mobile_phone})
    enterprise: dict[str, Any] = {
        "employeeNumber": person.employee_number,
        "department": person.department,
    }
    if manager_id is not None:
        enterprise["manager"] = {"value": manager_id}
    return {
        "schemas": [CORE_USER, ENTERPRISE, BLINK],
        "externalId": person.external_id,
        "userName": person.user_name,
        "active": person.active,
        "displayName": person.display_name,
        "name": {
            "formatted": person.display_name,
            "givenName": person.given_name,
            "familyName": person.family_name,
        },
        "title": person.title,
        "emails": [{"primary": True, "type": "work", "value": person.email}],
        "phoneNumbers": phones,
        ENTERPRISE: enterprise,
        BLINK: {
            "company": person.company,
            "location": person.location,
            "description": person.description,
        },
    }


def _wanted(person: DemoPerson, manager_id: str | None) -> dict[str, Any]:
    """Each attribute the demo sets, by the PATCH path that sets it."""
    return {
        "externalId": person.external_id,
        "active": person.active,
        "displayName": person.display_name,
        "name.formatted": person.display_name,
        "name.givenName": person.given_name,
        "name.familyName": person.family_name,
        "title": person.title,
        WORK_EMAIL: person.email,
        WORK_PHONE: person.work_phone,
        MOBILE_PHONE: person.mobile_phone,
        f"{ENTERPRISE}:employeeNumber": person.employee_number,
        f"{ENTERPRISE}:department": person.department,
        MANAGER: manager_id,
        f"{BLINK}:company": person.company,
        f"{BLINK}:location": person.location,
        f"{BLINK}:description": person.description,
    }


def _typed(elements: Any, kind: str) -> Any:
    for element in elements if isinstance(elements, list) else []:
        if isinstance(element, dict) and element.get("type") == kind:
            return element.get("value")
    return None


def _held(resource: dict[str, Any]) -> dict[str, Any]:
    """The same attributes, as the server holds them."""
    name = resource.get("name") or {}
    enterprise = resource.get(ENTERPRISE) or {}
    blink = resource.get(BLINK) or {}
    manager = enterprise.get("manager")
    return {
        "externalId": resource.get("externalId"),
        "active": resource.get("active", True),
        "displayName": resource.get("displayName"),
        "name.formatted": name.get("formatted"),
        "name.givenName": name.get("givenName"),
        "name.familyName": name.get("familyName"),
        "title": resource.get("title"),
        WORK_EMAIL: _typed(resource.get("emails"), "work"),
        WORK_PHONE: _typed(resource.get("phoneNumbers"), "work"),
        MOBILE_PHONE: _typed(resource.get("phoneNumbers"), "mobile"),
        f"{ENTERPRISE}:employeeNumber": enterprise.get("employeeNumber"),
        f"{ENTERPRISE}:department": enterprise.get("department"),
        MANAGER: manager.get("value") if isinstance(manager, dict) else None,
        f"{BLINK}:company": blink.get("company"),
        f"{BLINK}:location": blink.get("location"),
        f"{BLINK}:description": blink.get("description"),
    }


def user_changes(
    person: DemoPerson, manager_id: str | None, resource: dict[str, Any]
) -> list[dict[str, Any]]:
    """The PATCH operations that make ``resource`` what the demo wants (none when equal)."""
    held = _held(resource)
    operations: list[dict[str, Any]] = []
    for path, value in _wanted(person, manager_id).items():
        if held[path] == value:
            continue
        if value is None:
            removed = 'phoneNumbers[type eq "mobile"]' if path == MOBILE_PHONE else path
            operations.append({"op": "remove", "path": removed})
        else:
            operations.append({"op": "replace", "path": path, "value": value})
    return operations


def group_body(group: DemoGroup) -> dict[str, Any]:
    return {
        "schemas": [CORE_GROUP],
        "externalId": group.external_id,
        "displayName": group.display_name,
    }


def patch_body(operations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": operations}
