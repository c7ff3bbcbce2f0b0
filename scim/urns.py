"""The URNs of the SCIM schemas and messages this service speaks."""

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BLINK_USER = "urn:ietf:params:scim:schemas:extension:blink:2.0:User"
# Entra has been seen sending the enterprise URN without its last colon.
ENTERPRISE_USER_MISSPELLED = "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
