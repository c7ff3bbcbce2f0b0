"""What a Group's storage needs from a canonical Group document.

Group bodies and PATCH values are normalised by the machinery Users use
(``scim.resource_input``, ``scim.patch_changes``): attribute names are case-insensitive and may
carry the core Group URN, Entra's ADSCIM schema URN is accepted, ``id`` and ``meta`` are
ignored. This module adds the rules particular to a group's columns: ``displayName`` must not
be blank, an empty ``externalId`` means none, and a member is a user (anything saying
otherwise is refused with 400 invalidValue).
"""

from dataclasses import dataclass
from typing import Any

from db.groups import GroupRecord
from scim.errors import ScimError, ScimType
from scim.groups_schema import GROUP_RESOURCE_TYPE
from scim.resource_input import normalise_resource


@dataclass(frozen=True, slots=True)
class GroupInput:
    display_name: str
    external_id: str | None
    member_ids: list[str]


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


def parse_group(body: dict[str, Any]) -> GroupInput:
    """A POST or PUT body; ``displayName`` is required, everything else optional."""
    document = normalise_resource(GROUP_RESOURCE_TYPE, body)
    return GroupInput(
        display_name=display_name_value(document.get("displayName")),
        external_id=external_id_value(document.get("externalId")),
        member_ids=member_ids(document.get("members")),
    )


def group_document(record: GroupRecord) -> dict[str, Any]:
    """The canonical document of a stored group's own fields (members are rows, not here)."""
    document: dict[str, Any] = {"displayName": record.display_name}
    if record.external_id is not None:
        document["externalId"] = record.external_id
    return document
