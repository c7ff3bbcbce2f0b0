"""The Group resource type (RFC 7643 §4.2, §8.7.1) as discovery describes it."""

from scim import urns
from scim.schema_model import Attr, ResourceTypeDef, SchemaDef

GROUP_SCHEMA = urns.CORE_GROUP
#: Entra lists this schema on group creates; it carries nothing Blink stores.
ENTRA_GROUP_SCHEMA = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"

MEMBERS = Attr(
    "members",
    "complex",
    multi_valued=True,
    description="The users in the group. Nested groups are not supported.",
    sub_attributes=(
        Attr(
            "value",
            description="The id of the member user",
            case_exact=True,
            mutability="immutable",
        ),
        Attr(
            "$ref",
            "reference",
            description="The URI of the member user",
            case_exact=True,
            mutability="immutable",
            reference_types=("User",),
        ),
        Attr(
            "type",
            description="The type of the member: always 'User'",
            mutability="immutable",
            canonical_values=("User",),
        ),
        Attr(
            "display",
            description="The member's displayName, when it has one",
            mutability="readOnly",
        ),
    ),
)

CORE_GROUP_SCHEMA = SchemaDef(
    GROUP_SCHEMA,
    "Group",
    "Group",
    (
        Attr(
            "displayName",
            description="A human-readable name for the group, unique per tenant in any case",
            required=True,
            uniqueness="server",
        ),
        MEMBERS,
    ),
)

GROUP_RESOURCE_TYPE = ResourceTypeDef(
    "Group",
    "/Groups",
    "Group",
    CORE_GROUP_SCHEMA,
    (),
    # Entra lists its schema next to the core one; it names nothing beyond the core schema.
    aliases={ENTRA_GROUP_SCHEMA.lower(): GROUP_SCHEMA},
)
