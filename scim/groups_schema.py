"""The Group resource as the discovery endpoints describe it (RFC 7643 §4.2, §8.7.1)."""

from typing import Any

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
#: Entra lists this schema on group creates; it carries nothing Blink stores.
ENTRA_GROUP_SCHEMA = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def _attribute(name: str, description: str, **overrides: Any) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "name": name,
        "type": "string",
        "multiValued": False,
        "description": description,
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    }
    attribute.update(overrides)
    return attribute


def group_schema(location: str) -> dict[str, Any]:
    members = _attribute(
        "members",
        "The users in the group. Nested groups are not supported.",
        type="complex",
        multiValued=True,
        subAttributes=[
            _attribute(
                "value",
                "The id of the member user.",
                caseExact=True,
                mutability="immutable",
            ),
            _attribute(
                "$ref",
                "The URI of the member user.",
                type="reference",
                referenceTypes=["User"],
                caseExact=True,
                mutability="immutable",
            ),
            _attribute(
                "type",
                "The type of the member: always 'User'.",
                canonicalValues=["User"],
                mutability="immutable",
            ),
            _attribute(
                "display",
                "The member's displayName, when it has one.",
                mutability="readOnly",
            ),
        ],
    )
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "Group",
        "attributes": [
            _attribute(
                "displayName",
                "A human-readable name for the group, unique per tenant in any case.",
                required=True,
                uniqueness="server",
            ),
            _attribute(
                "externalId",
                "The provisioning client's identifier of the group.",
                caseExact=True,
            ),
            members,
        ],
        "meta": {"resourceType": "Schema", "location": location},
    }


def group_resource_type(location: str) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "Group",
        "schema": GROUP_SCHEMA,
        "schemaExtensions": [],
        "meta": {"resourceType": "ResourceType", "location": location},
    }
