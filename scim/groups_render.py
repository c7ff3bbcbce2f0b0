"""Rendering stored groups as SCIM Group resources, and which parts a request wants."""

from typing import Any

from db.group_members import Member
from db.groups import GroupRecord, GroupRef
from scim.etag import weak_etag
from scim.groups_schema import GROUP_SCHEMA
from scim.projection import Projection
from scim.user_cast import timestamp


def render_member(member: Member, base_url: str) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "value": member.user_id,
        "$ref": f"{base_url}/Users/{member.user_id}",
        "type": "User",
    }
    if member.display is not None:
        rendered["display"] = member.display
    return rendered


def render_group(record: GroupRecord, base_url: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": record.id,
        "displayName": record.display_name,
    }
    if record.external_id is not None:
        resource["externalId"] = record.external_id
    if record.members is not None:
        resource["members"] = [render_member(m, base_url) for m in record.members]
    resource["meta"] = {
        "resourceType": "Group",
        "created": timestamp(record.created),
        "lastModified": timestamp(record.last_modified),
        "location": f"{base_url}/Groups/{record.id}",
        "version": weak_etag(record.version),
    }
    return resource


def asks_for_members(projection: Projection) -> bool:
    """Whether ``attributes`` names members explicitly."""
    return any(ref.container is None and ref.name == "members" for ref in projection.include)


def wants_members(projection: Projection) -> bool:
    """False when the response would drop members anyway: then they are never loaded."""
    if projection.include:
        return any(ref.container is None and ref.name == "members" for ref in projection.include)
    return not any(
        ref.container is None and ref.name == "members" and ref.sub is None
        for ref in projection.exclude
    )


def with_user_groups(user: dict[str, Any], refs: list[GroupRef], base_url: str) -> dict[str, Any]:
    """The user resource with its read-only ``groups`` attribute (placed before ``meta``)."""
    if not refs:
        return user
    rendered = [
        {"value": ref.id, "$ref": f"{base_url}/Groups/{ref.id}", "display": ref.display_name}
        for ref in refs
    ]
    result = {key: value for key, value in user.items() if key != "meta"}
    result["groups"] = rendered
    if "meta" in user:
        result["meta"] = user["meta"]
    return result
