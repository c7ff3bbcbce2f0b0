"""Reading Group documents and member lists sent by clients (POST, PUT and PATCH values).

Attribute names are case-insensitive (RFC 7643 §2.1) and may carry the core Group URN as a
prefix. Read-only and unknown attributes (``id``, ``meta``, Entra's ADSCIM extension, ...) are
ignored. A member is a user: anything saying otherwise is refused with 400 invalidValue.
"""

from dataclasses import dataclass
from typing import Any

from scim.errors import ScimError, ScimType
from scim.groups_schema import GROUP_SCHEMA


@dataclass(frozen=True, slots=True)
class GroupInput:
    display_name: str
    external_id: str | None
    member_ids: list[str]


def attribute_name(name: str) -> str:
    """``urn:…:core:2.0:Group:displayName`` and ``DISPLAYNAME`` both mean ``displayname``."""
    lowered = name.lower()
    prefix = GROUP_SCHEMA.lower() + ":"
    return lowered.removeprefix(prefix)


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    return {attribute_name(key): value for key, value in document.items()}


def invalid(detail: str) -> ScimError:
    return ScimError(400, detail, ScimType.INVALID_VALUE)


def display_name_value(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid("displayName must be a non-empty string")
    return value


def external_id_value(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid("externalId must be a string")
    return value


def member_id(entry: Any) -> str:
    """The user id of one member entry: ``{"value": id, ...}`` (or a bare id string)."""
    if isinstance(entry, str) and entry:
        return entry
    if not isinstance(entry, dict):
        raise invalid("a member must be an object with a 'value'")
    fields = {key.lower(): value for key, value in entry.items()}
    kind = fields.get("type")
    if kind is not None and (not isinstance(kind, str) or kind.lower() != "user"):
        if isinstance(kind, str) and kind.lower() == "group":
            raise invalid("nested groups are not supported: a member must be a User")
        raise invalid(f"unsupported member type {kind!r}: a member must be a User")
    value = fields.get("value")
    if not isinstance(value, str) or not value:
        raise invalid("a member needs a non-empty string 'value' (the user's id)")
    return value


def member_ids(value: Any) -> list[str]:
    """The ids of a member list; a single member object is taken as a list of one."""
    if value is None:
        return []
    entries = value if isinstance(value, list) else [value]
    return [member_id(entry) for entry in entries]


def parse_group(document: dict[str, Any]) -> GroupInput:
    """A POST or PUT body; ``displayName`` is required, everything else optional."""
    fields = normalised(document)
    if "displayname" not in fields:
        raise invalid("displayName is required")
    return GroupInput(
        display_name=display_name_value(fields["displayname"]),
        external_id=external_id_value(fields.get("externalid")),
        member_ids=member_ids(fields.get("members")),
    )
