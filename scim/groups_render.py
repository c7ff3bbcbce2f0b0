"""Rendering stored groups as SCIM Group resources, trimmed by attributes/excludedAttributes."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.group_members import Member
from db.groups import GroupRecord
from scim.groups_input import attribute_name
from scim.groups_schema import GROUP_SCHEMA
from scim.groups_versions import etag

ALWAYS_RETURNED = frozenset({"id", "schemas"})


def timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


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
        "version": etag(record.version),
    }
    return resource


def _names(value: str | list[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else value
    names = frozenset(attribute_name(part.strip()) for part in parts if part.strip())
    return names or None


@dataclass(frozen=True, slots=True)
class Projection:
    """Which attributes a response carries (RFC 7644 §3.9); names are lower-cased."""

    attributes: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()

    @classmethod
    def parse(
        cls, attributes: str | list[str] | None, excluded: str | list[str] | None
    ) -> "Projection":
        return cls(_names(attributes), _names(excluded) or frozenset())

    @property
    def wants_members(self) -> bool:
        """False when members would be dropped anyway: then they are never loaded."""
        if self.attributes is not None:
            return any(n == "members" or n.startswith("members.") for n in self.attributes)
        return "members" not in self.excluded

    def apply(self, resource: dict[str, Any]) -> dict[str, Any]:
        if self.attributes is not None:
            return {
                key: self._sub(key, value, self.attributes, keep=True)
                for key, value in resource.items()
                if key.lower() in ALWAYS_RETURNED or self._mentions(key, self.attributes)
            }
        return {
            key: self._sub(key, value, self.excluded, keep=False)
            for key, value in resource.items()
            if key.lower() in ALWAYS_RETURNED or key.lower() not in self.excluded
        }

    @staticmethod
    def _mentions(key: str, names: frozenset[str]) -> bool:
        lowered = key.lower()
        return any(n == lowered or n.startswith(lowered + ".") for n in names)

    @staticmethod
    def _sub(key: str, value: Any, names: frozenset[str], *, keep: bool) -> Any:
        """Apply ``members.value``-style names to the sub-attributes of a complex value."""
        prefix = key.lower() + "."
        subs = {n.removeprefix(prefix) for n in names if n.startswith(prefix)}
        if not subs or (keep and key.lower() in names):
            return value

        def trim(item: Any) -> Any:
            if not isinstance(item, dict):
                return item
            return {k: v for k, v in item.items() if (k.lower() in subs) == keep}

        return [trim(item) for item in value] if isinstance(value, list) else trim(value)
