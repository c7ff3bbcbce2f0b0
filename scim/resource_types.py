"""The resource types this service provider serves; discovery is rendered from this list."""

from scim.groups_schema import GROUP_RESOURCE_TYPE
from scim.schema_model import ResourceTypeDef, SchemaDef
from scim.user_schema import USER_RESOURCE_TYPE

RESOURCE_TYPES: tuple[ResourceTypeDef, ...] = (USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE)


def all_schemas() -> list[SchemaDef]:
    """Every schema of every resource type, once each, in declaration order."""
    seen: dict[str, SchemaDef] = {}
    for resource_type in RESOURCE_TYPES:
        for schema in (resource_type.core, *resource_type.extensions):
            seen.setdefault(schema.id, schema)
    return list(seen.values())
