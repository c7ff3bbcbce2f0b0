"""The filterable attributes of SCIM Users and Groups, mapped onto ``db.tables``.

User attributes come from the attribute map (``scim.user_attributes``); only what is not a
stored attribute is added here: ``id``, ``groups`` (rows of ``group_member``), ``meta`` and
``schemas``. Attributes the User schemas declare but the map does not name (``addresses``,
``roles``, ``ims``, ``photos``, ``entitlements``, certificates, ``password``) are refused as
unfilterable.

Case rules are RFC 7643's ``caseExact``: ids and ``externalId`` compare exactly, every other
string case-insensitively through ``lower()`` on both sides, which is what the expression
indexes ``ux_user_tenant_username``, ``ix_user_tenant_email`` and ``ux_group_tenant_display_name``
are built on.

Singular attributes the map keeps in the ``attributes`` JSON document (``userType``,
``nickName``, enterprise ``costCenter`` ...) are read with SQLAlchemy's portable JSON path
operators, so without an index. Multi-valued attributes are what the columns hold: ``emails``
is the work email (``emails[type eq "work"]``); other emails stay in the JSON document and are
not matched, so that ``emails.value eq`` remains an index look-up. ``phoneNumbers`` are the
work and the mobile number.
"""

from sqlalchemy import ColumnElement, or_

from db.tables import group_members, groups, users
from scim import urns
from scim.filter_schema import (
    Attribute,
    ColumnField,
    Complex,
    ConstantField,
    Element,
    Kind,
    Related,
    ResourceSchema,
    has_value,
)
from scim.user_attributes import (
    DOCUMENT_COLUMN,
    USER_ATTRIBUTES,
    Placement,
    UserAttribute,
    attribute_urns,
)
from scim.user_schema import USER_RESOURCE_TYPE

CORE_USER = urns.CORE_USER
ENTERPRISE_USER = urns.ENTERPRISE_USER
BLINK_USER = urns.BLINK_USER
CORE_GROUP = urns.CORE_GROUP

_KINDS = {"boolean": Kind.BOOLEAN, "dateTime": Kind.DATETIME}


def _exact(column: ColumnElement[object]) -> ColumnField:
    return ColumnField(column, case_exact=True)


def _timestamp(column: ColumnElement[object]) -> ColumnField:
    return ColumnField(column, Kind.DATETIME)


def _single(fields: dict[str, ColumnField | ConstantField]) -> Complex:
    """A singular complex attribute (``name``, ``meta``): no default sub-attribute."""
    return Complex((Element(fields),), default=None)


def _user_column(entry: UserAttribute) -> ColumnElement[object]:
    """The entry's column, or its value in the JSON document (under its URN if an extension's)."""
    if entry.column is not None:
        return users.c[entry.column]
    document = users.c[DOCUMENT_COLUMN]
    key = entry.attribute if entry.urn == CORE_USER else (entry.urn, entry.attribute)
    value: ColumnElement[object] = document[key].as_string()
    return value


def _user_field(entry: UserAttribute) -> ColumnField:
    return ColumnField(
        _user_column(entry),
        _KINDS.get(entry.type, Kind.STRING),
        case_exact=entry.case_exact,
        sortable=entry.sortable,
    )


def _mapped(urn: str) -> dict[str, Attribute]:
    """The filterable attributes the map gives schema ``urn``, by lower-case name."""
    groups_: dict[str, list[UserAttribute]] = {}
    for entry in USER_ATTRIBUTES:
        if entry.urn == urn and entry.filterable:
            groups_.setdefault(entry.attribute, []).append(entry)
    attributes: dict[str, Attribute] = {}
    for name, entries in groups_.items():
        placement = entries[0].placement
        if placement is Placement.SINGULAR:
            attributes[name.lower()] = _user_field(entries[0])
        elif placement is Placement.SUB_ATTRIBUTE:
            fields: dict[str, ColumnField | ConstantField] = {
                (entry.sub or "").lower(): _user_field(entry) for entry in entries
            }
            value = next((entry for entry in entries if entry.sub == "value"), None)
            if value is None:
                attributes[name.lower()] = _single(fields)
            else:  # ``manager eq "…"`` means its value; the manager exists when it has one
                present = has_value(_user_column(value))
                attributes[name.lower()] = Complex((Element(fields, present=present),))
        else:  # one element per typed column: a condition matches when any of them does
            attributes[name.lower()] = Complex(
                tuple(
                    Element(
                        {
                            (entry.sub or "").lower(): _user_field(entry),
                            "type": ConstantField(entry.kind or ""),
                        },
                        present=has_value(_user_column(entry)),
                    )
                    for entry in entries
                )
            )
    return attributes


def _schema_element(urn: str) -> Element:
    """``schemas[value eq urn]``: the extension is present when any of its attributes is."""
    entries = [entry for entry in USER_ATTRIBUTES if entry.urn == urn]
    columns = [users.c[entry.column] for entry in entries if entry.column is not None]
    if any(entry.column is None for entry in entries):
        columns.append(users.c[DOCUMENT_COLUMN][urn].as_string())
    present = or_(*(has_value(column) for column in columns))
    return Element({"value": ConstantField(urn)}, present=present)


_user_members = group_members.alias("filter_user_group")

_USER_EXTENSIONS = attribute_urns()[1:]

_USER_CORE: dict[str, Attribute] = {
    "id": _exact(users.c.id),
    **_mapped(CORE_USER),
    "groups": Related(
        _user_members,
        _user_members.c.user_id == users.c.id,
        Element({"value": _exact(_user_members.c.group_id), "type": ConstantField("direct")}),
    ),
    "meta": _single(
        {
            "created": _timestamp(users.c.created),
            "lastmodified": _timestamp(users.c.last_modified),
            "resourcetype": ConstantField("User"),
        }
    ),
    "schemas": Complex(
        (
            Element({"value": ConstantField(CORE_USER)}),
            *(_schema_element(urn) for urn in _USER_EXTENSIONS),
        )
    ),
}

_USER_SCHEMAS: dict[str, dict[str, Attribute]] = {
    CORE_USER.lower(): _USER_CORE,
    **{urn.lower(): _mapped(urn) for urn in _USER_EXTENSIONS},
}

USER_SCHEMA = ResourceSchema(
    name="User",
    core_urn=CORE_USER,
    schemas=_USER_SCHEMAS,
    urn_aliases={
        alias: canonical.lower() for alias, canonical in USER_RESOURCE_TYPE.aliases.items()
    },
    # What the schemas declare and the map does not make filterable.
    unfilterable=frozenset(
        attribute.name.lower()
        for schema in (USER_RESOURCE_TYPE.core, *USER_RESOURCE_TYPE.extensions)
        for attribute in schema.attributes
        if attribute.name.lower() not in _USER_SCHEMAS[schema.id.lower()]
    ),
)

_group_members = group_members.alias("filter_group_member")

_GROUP_CORE: dict[str, Attribute] = {
    "id": _exact(groups.c.id),
    "externalid": _exact(groups.c.external_id),
    "displayname": ColumnField(groups.c.display_name),
    # members[value eq "<uid>"] is an EXISTS on group_member's (group_id, user_id) key.
    "members": Related(
        _group_members,
        _group_members.c.group_id == groups.c.id,
        Element({"value": _exact(_group_members.c.user_id), "type": ConstantField("User")}),
    ),
    "meta": _single(
        {
            "created": _timestamp(groups.c.created),
            "lastmodified": _timestamp(groups.c.last_modified),
            "resourcetype": ConstantField("Group"),
        }
    ),
    "schemas": Complex((Element({"value": ConstantField(CORE_GROUP)}),)),
}

GROUP_SCHEMA = ResourceSchema(
    name="Group",
    core_urn=CORE_GROUP,
    schemas={CORE_GROUP.lower(): _GROUP_CORE},
    urn_aliases={},
    unfilterable=frozenset(),
)
