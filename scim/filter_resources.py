"""The filterable attributes of SCIM Users and Groups, mapped onto ``db.tables``.

Case rules are RFC 7643's ``caseExact``: ids and ``externalId`` compare exactly, every other
string case-insensitively through ``lower()`` on both sides, which is what the expression
indexes ``ux_user_tenant_username``, ``ix_user_tenant_email`` and ``ux_group_tenant_display_name``
are built on.

Singular attributes are filterable whether they have a column or live in the ``attributes``
JSON document (``userType``, ``nickName``, enterprise ``costCenter`` ...; read with SQLAlchemy's
portable JSON path operators, so without an index). Multi-valued attributes are what the
columns hold: ``emails`` is the work email (``emails[type eq "work"]``); other emails stay in
the JSON document and are not matched, so that ``emails.value eq`` remains an index look-up.
``phoneNumbers`` are the work and the mobile number. Addresses, roles, ims, photos,
entitlements and certificates are not filterable.
"""

from sqlalchemy import ColumnElement, or_

from db.tables import group_members, groups, users
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

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BLINK_USER = "urn:ietf:params:scim:schemas:extension:blink:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def _text(column: ColumnElement[object]) -> ColumnField:
    return ColumnField(column)


def _exact(column: ColumnElement[object]) -> ColumnField:
    return ColumnField(column, case_exact=True)


def _timestamp(column: ColumnElement[object]) -> ColumnField:
    return ColumnField(column, Kind.DATETIME)


def _document(*path: str) -> ColumnField:
    """A singular string kept in the user's JSON document (``scim.user_cast`` stores it there
    under its canonical name, extension attributes under their URN)."""
    key = path if len(path) > 1 else path[0]
    return ColumnField(users.c.attributes[key].as_string())


def _single(fields: dict[str, ColumnField | ConstantField]) -> Complex:
    """A singular complex attribute (``name``, ``meta``): no default sub-attribute."""
    return Complex((Element(fields),), default=None)


def _stored_in(column: ColumnElement[object], **constants: str) -> Element:
    """The element of a multi-valued attribute whose ``value`` is kept in ``column``."""
    fields: dict[str, ColumnField | ConstantField] = {"value": _text(column)}
    fields.update({name.lower(): ConstantField(value) for name, value in constants.items()})
    return Element(fields, present=has_value(column))


def _schema_element(urn: str, *columns: ColumnElement[object]) -> Element:
    present = or_(*(has_value(column) for column in columns))
    return Element({"value": ConstantField(urn)}, present=present)


_user_members = group_members.alias("filter_user_group")

_ENTERPRISE_COLUMNS = (
    users.c.department,
    users.c.employee_number,
    users.c.manager_id,
    users.c.attributes[ENTERPRISE_USER].as_string(),  # costCenter, organization, division
)
_BLINK_COLUMNS = (users.c.company, users.c.description, users.c.location)

_USER_CORE: dict[str, Attribute] = {
    "id": _exact(users.c.id),
    "externalid": _exact(users.c.external_id),
    "username": _text(users.c.user_name),
    "displayname": _text(users.c.display_name),
    "title": _text(users.c.title),
    "active": ColumnField(users.c.active, Kind.BOOLEAN),
    "nickname": _document("nickName"),
    "profileurl": _document("profileUrl"),
    "usertype": _document("userType"),
    "preferredlanguage": _document("preferredLanguage"),
    "locale": _document("locale"),
    "timezone": _document("timezone"),
    "name": _single(
        {
            "givenname": _text(users.c.given_name),
            "familyname": _text(users.c.family_name),
            "formatted": _text(users.c.formatted_name),
            "middlename": _text(users.c.middle_name),
            "honorificprefix": _text(users.c.honorific_prefix),
            "honorificsuffix": _text(users.c.honorific_suffix),
        }
    ),
    "emails": Complex((_stored_in(users.c.email, type="work"),)),
    "phonenumbers": Complex(
        (
            _stored_in(users.c.work_phone, type="work"),
            _stored_in(users.c.mobile_phone, type="mobile"),
        )
    ),
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
            _schema_element(ENTERPRISE_USER, *_ENTERPRISE_COLUMNS),
            _schema_element(BLINK_USER, *_BLINK_COLUMNS),
        )
    ),
}

_USER_ENTERPRISE: dict[str, Attribute] = {
    "department": _text(users.c.department),
    "employeenumber": _text(users.c.employee_number),
    "costcenter": _document(ENTERPRISE_USER, "costCenter"),
    "organization": _document(ENTERPRISE_USER, "organization"),
    "division": _document(ENTERPRISE_USER, "division"),
    # manager.value is a user id: compared exactly, like id
    # (index ix_user_tenant_manager_display_name).
    "manager": Complex(
        (Element({"value": _exact(users.c.manager_id)}, present=has_value(users.c.manager_id)),)
    ),
}

_USER_BLINK: dict[str, Attribute] = {
    "company": _text(users.c.company),
    "description": _text(users.c.description),
    "location": _text(users.c.location),
}

USER_SCHEMA = ResourceSchema(
    name="User",
    core_urn=CORE_USER,
    schemas={
        CORE_USER.lower(): _USER_CORE,
        ENTERPRISE_USER.lower(): _USER_ENTERPRISE,
        BLINK_USER.lower(): _USER_BLINK,
    },
    urn_aliases={
        # Entra's long-standing misspelling of the enterprise URN.
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0user": ENTERPRISE_USER.lower(),
    },
    unfilterable=frozenset(
        {
            "password",
            "addresses",
            "ims",
            "photos",
            "roles",
            "entitlements",
            "x509certificates",
        }
    ),
)

_group_members = group_members.alias("filter_group_member")

_GROUP_CORE: dict[str, Attribute] = {
    "id": _exact(groups.c.id),
    "externalid": _exact(groups.c.external_id),
    "displayname": _text(groups.c.display_name),
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
