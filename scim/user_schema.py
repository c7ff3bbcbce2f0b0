"""The User resource type: core User (RFC 7643 §4.1, §8.7.1), Enterprise User (§4.3) and
Blink's extension ``urn:ietf:params:scim:schemas:extension:blink:2.0:User``."""

from scim import urns
from scim.schema_model import Attr, ResourceTypeDef, SchemaDef

_TYPES_EMAIL = ("work", "home", "other")
_TYPES_PHONE = ("work", "home", "mobile", "fax", "pager", "other")


def _multi(name: str, description: str, *, types: tuple[str, ...] = (), ref: bool = False) -> Attr:
    """A multi-valued complex attribute with the usual value/display/type/primary."""
    value = (
        Attr(
            "value",
            "reference",
            description=f"The URI of the {name}",
            reference_types=("external",),
        )
        if ref
        else Attr("value", description=f"The value of the {name}")
    )
    return Attr(
        name,
        "complex",
        multi_valued=True,
        description=description,
        sub_attributes=(
            value,
            Attr("display", description="A human-readable name, primarily used for display"),
            Attr(
                "type",
                description="A label indicating the attribute's function",
                canonical_values=types,
            ),
            Attr("primary", "boolean", description="The primary or preferred value"),
        ),
    )


_NAME = Attr(
    "name",
    "complex",
    description="The components of the user's real name",
    sub_attributes=(
        Attr("formatted", description="The full name, formatted for display"),
        Attr("familyName", description="The family name"),
        Attr("givenName", description="The given name"),
        Attr("middleName", description="The middle name(s)"),
        Attr("honorificPrefix", description="The honorific prefix(es), e.g. 'Ms.'"),
        Attr("honorificSuffix", description="The honorific suffix(es), e.g. 'III'"),
    ),
)

_ADDRESSES = Attr(
    "addresses",
    "complex",
    multi_valued=True,
    description="Physical mailing addresses",
    sub_attributes=(
        Attr("formatted", description="The full mailing address, formatted for display"),
        Attr("streetAddress", description="The full street address component"),
        Attr("locality", description="The city or locality component"),
        Attr("region", description="The state or region component"),
        Attr("postalCode", description="The zip code or postal code component"),
        Attr("country", description="The country name component"),
        Attr("type", description="The kind of address", canonical_values=("work", "home", "other")),
        Attr("primary", "boolean", description="The primary address"),
    ),
)

_GROUPS = Attr(
    "groups",
    "complex",
    multi_valued=True,
    description="The groups the user belongs to (read-only; managed through /Groups)",
    mutability="readOnly",
    sub_attributes=(
        Attr("value", description="The id of the group", mutability="readOnly"),
        Attr(
            "$ref",
            "reference",
            description="The URI of the group",
            mutability="readOnly",
            reference_types=("Group",),
        ),
        Attr("display", description="The displayName of the group", mutability="readOnly"),
        Attr(
            "type",
            description="direct or indirect",
            mutability="readOnly",
            canonical_values=("direct", "indirect"),
        ),
    ),
)

CORE_USER_SCHEMA = SchemaDef(
    urns.CORE_USER,
    "User",
    "User Account",
    (
        Attr(
            "userName",
            description="Unique identifier for the user, typically the sign-in name",
            required=True,
            uniqueness="server",
        ),
        _NAME,
        Attr("displayName", description="The name of the user, suitable for display"),
        Attr("nickName", description="The casual way to address the user"),
        Attr(
            "profileUrl",
            "reference",
            description="A URI of the user's online profile",
            reference_types=("external",),
        ),
        Attr("title", description="The user's title, such as 'Vice President'"),
        Attr("userType", description="The relationship between the organisation and the user"),
        Attr("preferredLanguage", description="The user's preferred language, e.g. 'en-US'"),
        Attr("locale", description="The user's default location for localisation"),
        Attr("timezone", description="The user's time zone, e.g. 'America/Los_Angeles'"),
        Attr("active", "boolean", description="The user's administrative status"),
        Attr(
            "password",
            description="The user's cleartext password; never stored or returned",
            mutability="writeOnly",
            returned="never",
        ),
        _multi("emails", "Email addresses for the user", types=_TYPES_EMAIL),
        _multi("phoneNumbers", "Phone numbers for the user", types=_TYPES_PHONE),
        _multi(
            "ims",
            "Instant messaging addresses for the user",
            types=("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
        ),
        _multi("photos", "URLs of photos of the user", types=("photo", "thumbnail"), ref=True),
        _ADDRESSES,
        _GROUPS,
        _multi("entitlements", "Entitlements of the user"),
        _multi("roles", "Roles of the user"),
        Attr(
            "x509Certificates",
            "complex",
            multi_valued=True,
            description="X.509 certificates issued to the user",
            sub_attributes=(
                Attr("value", "binary", description="The DER-encoded certificate (base64)"),
                Attr("display", description="A human-readable name"),
                Attr("type", description="A label indicating the attribute's function"),
                Attr("primary", "boolean", description="The primary certificate"),
            ),
        ),
    ),
)

ENTERPRISE_USER_SCHEMA = SchemaDef(
    urns.ENTERPRISE_USER,
    "EnterpriseUser",
    "Enterprise User",
    (
        Attr(
            "employeeNumber", description="A string identifier, typically numeric or alphanumeric"
        ),
        Attr("costCenter", description="The name of a cost center"),
        Attr("organization", description="The name of an organization"),
        Attr("division", description="The name of a division"),
        Attr("department", description="The name of a department"),
        Attr(
            "manager",
            "complex",
            description="The user's manager",
            sub_attributes=(
                Attr(
                    "value",
                    description="The id of the SCIM resource of the manager",
                    required=True,
                    case_exact=True,
                ),
                Attr(
                    "$ref",
                    "reference",
                    description="The URI of the manager's SCIM resource",
                    reference_types=("User",),
                ),
                Attr(
                    "displayName",
                    description="The displayName of the manager",
                    mutability="readOnly",
                ),
            ),
        ),
    ),
)

BLINK_USER_SCHEMA = SchemaDef(
    urns.BLINK_USER,
    "BlinkUser",
    "Blink's User extension",
    (
        Attr("company", description="The company the user works for"),
        Attr("description", description="A free-text description of the user"),
        Attr("location", description="Where the user works"),
    ),
)

USER_RESOURCE_TYPE = ResourceTypeDef(
    "User",
    "/Users",
    "User Account",
    CORE_USER_SCHEMA,
    (ENTERPRISE_USER_SCHEMA, BLINK_USER_SCHEMA),
    aliases={urns.ENTERPRISE_USER_MISSPELLED.lower(): urns.ENTERPRISE_USER},
)
