"""The User attribute map: which SCIM attribute lives in which column of ``db.tables.users``.

This table is the one place that says it. The casting between a User document and its row
(``scim.user_cast``), the filter compiler's attribute → column resolution
(``scim.filter_resources``) and the set of columns a SCIM document decides
(``SCIM_WRITTEN_COLUMNS``) are all derived from it.

Each entry names a SCIM path in one of three shapes:

* ``attribute`` — a singular attribute (``userName``; ``<extension URN>:department``);
* ``attribute.sub`` — a sub-attribute of a singular complex attribute (``name.givenName``,
  ``<enterprise URN>:manager.value``). The complex attribute is stored only through its
  mapped sub-attributes; others (the manager's ``$ref`` and ``displayName``) are rendered, not
  stored;
* ``attribute[type eq "kind"].sub`` — the ``sub`` of the *first* element of a multi-valued
  attribute whose ``type`` is ``kind`` (any case). The value is taken out of that element and
  the rest of the list is kept in the JSON document, so order and other sub-attributes
  survive and nothing is stored twice.

``column`` is None for an attribute kept only in the ``attributes`` JSON column (under its
name; extension attributes under their URN): it is listed here because it is filterable and
sortable (without an index). Only singular attributes can be kept that way. Everything the
map does not name is kept verbatim in the JSON document and is not filterable.

``filterable`` and ``sortable`` say what ``filter`` and ``sortBy`` may name; ``sortBy`` is
resolved through the filter's attribute table, so a sortable attribute must be filterable.
``type``, ``case_exact`` and ``returned`` are RFC 7643's and must agree with the schema
metadata in ``scim.user_schema`` (a test checks it). Case-insensitive strings are compared
through ``lower()``, which the expression indexes are built on.

Adding a stored attribute: add the column to ``db.tables.User`` with its migration, one entry
here, and the GraphQL field.
"""

import re
from dataclasses import dataclass, field
from enum import Enum

from scim import urns


class Placement(Enum):
    SINGULAR = "singular"  # attribute
    SUB_ATTRIBUTE = "sub-attribute"  # attribute.sub
    TYPED_ELEMENT = "typed element"  # attribute[type eq "kind"].sub


_PATH = re.compile(
    r'(?P<attribute>[A-Za-z][\w$]*)(?:\[type eq "(?P<kind>\w+)"\])?(?:\.(?P<sub>\w+))?'
)


@dataclass(frozen=True, slots=True)
class UserAttribute:
    path: str
    column: str | None
    type: str = "string"  # RFC 7643: string, boolean, reference, dateTime, ...
    case_exact: bool = False
    filterable: bool = True
    sortable: bool = True
    returned: str = "default"
    #: Parsed from ``path``: the schema, the top-level attribute, the element type, the sub.
    urn: str = field(init=False, repr=False, compare=False)
    attribute: str = field(init=False, repr=False, compare=False)
    kind: str | None = field(init=False, repr=False, compare=False)
    sub: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        is_extension = self.path.startswith("urn:")
        urn, _, local = self.path.rpartition(":") if is_extension else ("", "", self.path)
        match = _PATH.fullmatch(local)
        if match is None:
            raise ValueError(f"not an attribute path this map supports: {self.path!r}")
        object.__setattr__(self, "urn", urn if is_extension else urns.CORE_USER)
        object.__setattr__(self, "attribute", match["attribute"])
        object.__setattr__(self, "kind", match["kind"])
        object.__setattr__(self, "sub", match["sub"])

    @property
    def placement(self) -> Placement:
        if self.kind is not None:
            if self.sub is None:
                raise ValueError(f"{self.path!r}: a typed element needs a sub-attribute")
            return Placement.TYPED_ELEMENT
        return Placement.SINGULAR if self.sub is None else Placement.SUB_ATTRIBUTE


_ENTERPRISE = urns.ENTERPRISE_USER
_BLINK = urns.BLINK_USER

#: In the order a rendered resource lists them.
USER_ATTRIBUTES: tuple[UserAttribute, ...] = (
    UserAttribute("externalId", "external_id", case_exact=True),
    UserAttribute("userName", "user_name"),
    UserAttribute("name.formatted", "formatted_name"),
    UserAttribute("name.familyName", "family_name"),
    UserAttribute("name.givenName", "given_name"),
    UserAttribute("name.middleName", "middle_name"),
    UserAttribute("name.honorificPrefix", "honorific_prefix"),
    UserAttribute("name.honorificSuffix", "honorific_suffix"),
    UserAttribute("displayName", "display_name"),
    UserAttribute("title", "title"),
    UserAttribute("active", "active", type="boolean"),
    UserAttribute("nickName", None),
    UserAttribute("profileUrl", None, type="reference"),
    UserAttribute("userType", None),
    UserAttribute("preferredLanguage", None),
    UserAttribute("locale", None),
    UserAttribute("timezone", None),
    UserAttribute('emails[type eq "work"].value', "email"),
    UserAttribute('phoneNumbers[type eq "work"].value', "work_phone"),
    UserAttribute('phoneNumbers[type eq "mobile"].value', "mobile_phone"),
    UserAttribute(f"{_ENTERPRISE}:employeeNumber", "employee_number"),
    UserAttribute(f"{_ENTERPRISE}:department", "department"),
    UserAttribute(f"{_ENTERPRISE}:costCenter", None),
    UserAttribute(f"{_ENTERPRISE}:organization", None),
    UserAttribute(f"{_ENTERPRISE}:division", None),
    # A user id: compared exactly, like id.
    UserAttribute(f"{_ENTERPRISE}:manager.value", "manager_id", case_exact=True),
    UserAttribute(f"{_BLINK}:company", "company"),
    UserAttribute(f"{_BLINK}:description", "description"),
    UserAttribute(f"{_BLINK}:location", "location"),
)

#: The JSON column holding everything the typed columns do not.
DOCUMENT_COLUMN = "attributes"

#: Every column a client's SCIM document decides (identity, tenancy and meta are the store's).
SCIM_WRITTEN_COLUMNS: tuple[str, ...] = (
    *(entry.column for entry in USER_ATTRIBUTES if entry.column is not None),
    DOCUMENT_COLUMN,
)


def stored(urn: str) -> tuple[UserAttribute, ...]:
    """The entries of schema ``urn`` kept in columns of their own, in map order."""
    return tuple(entry for entry in USER_ATTRIBUTES if entry.urn == urn and entry.column)


def attribute_urns() -> tuple[str, ...]:
    """The schema URNs the map names, core first, in map order."""
    return tuple(dict.fromkeys((urns.CORE_USER, *(entry.urn for entry in USER_ATTRIBUTES))))


def check_map(entries: tuple[UserAttribute, ...]) -> None:
    """Refuse a map the casting and the filter compiler cannot follow."""
    columns = [entry.column for entry in entries if entry.column is not None]
    if len(set(columns)) != len(columns):
        raise ValueError("a column is mapped twice")
    for entry in entries:
        placement = entry.placement  # refuses a path outside the three shapes
        if entry.column is None and placement is not Placement.SINGULAR:
            raise ValueError(f"{entry.path!r}: only singular attributes can be JSON-only")
        if entry.kind is not None and entry.kind != entry.kind.lower():
            raise ValueError(f"{entry.path!r}: element types are matched in lower case")
        if entry.sortable and not entry.filterable:
            raise ValueError(f"{entry.path!r}: sortable needs filterable")


check_map(USER_ATTRIBUTES)
