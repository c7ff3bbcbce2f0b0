"""Group filters, above all Entra's membership check, select the right groups on both databases."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, insert, select

from db.database import Database
from db.tables import group_members, groups, users
from db.tenants import create_tenant
from scim.errors import ScimError, ScimType
from scim.filters import compile_group_filter

CREATED = datetime(2024, 1, 1, tzinfo=UTC)


def seed(connection: Connection) -> int:
    tenant = create_tenant(connection, "acme").id
    for uid in ("u-ann", "u-ben", "u-cid"):
        connection.execute(
            insert(users).values(
                id=uid,
                tenant_id=tenant,
                user_name=f"{uid}@contoso.com",
                active=True,
                attributes={},
                created=CREATED,
                last_modified=CREATED,
                version=1,
            )
        )
    rows = [
        ("g-sales", "Sales", "ext-Sales", datetime(2024, 1, 1, tzinfo=UTC)),
        ("g-eng", "Engineering_100%", None, datetime(2024, 6, 1, tzinfo=UTC)),
        ("g-empty", "Empty", "ext-empty", datetime(2025, 1, 1, tzinfo=UTC)),
    ]
    for gid, name, external, created in rows:
        connection.execute(
            insert(groups).values(
                id=gid,
                tenant_id=tenant,
                display_name=name,
                external_id=external,
                created=created,
                last_modified=created,
                version=1,
            )
        )
    for gid, uid in [("g-sales", "u-ann"), ("g-sales", "u-ben"), ("g-eng", "u-ben")]:
        connection.execute(insert(group_members).values(group_id=gid, user_id=uid))
    return tenant


@pytest.fixture
def acme(database: Database) -> int:
    return database.write_sync(seed)


def matching(database: Database, tenant: int, text: str) -> set[str]:
    statement = select(groups.c.id).where(groups.c.tenant_id == tenant, compile_group_filter(text))
    return set(database.read_sync(lambda c: c.execute(statement).scalars().all()))


CASES: list[tuple[str, set[str]]] = [
    ('displayName eq "sales"', {"g-sales"}),
    ('displayName eq "SALES"', {"g-sales"}),
    ('displayName co "_100%"', {"g-eng"}),
    ('displayName co "r_1"', set()),
    ('displayName sw "e"', {"g-eng", "g-empty"}),
    ('externalId eq "ext-Sales"', {"g-sales"}),
    ('externalId eq "ext-sales"', set()),
    ("externalId pr", {"g-sales", "g-empty"}),
    ('id eq "g-eng"', {"g-eng"}),
    ('urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "Empty"', {"g-empty"}),
    # membership, every spelling
    ('members[value eq "u-ben"]', {"g-sales", "g-eng"}),
    ('members.value eq "u-ann"', {"g-sales"}),
    ('members eq "u-ann"', {"g-sales"}),
    ('members[value eq "U-ANN"]', set()),
    ('id eq "g-sales" and members[value eq "u-ann"]', {"g-sales"}),
    ('id eq "g-eng" and members[value eq "u-ann"]', set()),
    ('id eq "g-sales" and members[value eq "u-cid"]', set()),
    ('id eq "g-sales" and members.value eq "u-ben"', {"g-sales"}),
    ("members pr", {"g-sales", "g-eng"}),
    ("not (members pr)", {"g-empty"}),
    ('members[type eq "User"]', {"g-sales", "g-eng"}),
    ('members[type eq "Group"]', set()),
    ('members[value eq "u-ann" or value eq "u-cid"]', {"g-sales"}),
    ('members[value eq "u-ann"] and members[value eq "u-ben"]', {"g-sales"}),
    ('members[value eq "u-ann" and value eq "u-ben"]', set()),
    ('members.value ne "u-ben"', {"g-sales"}),
    ('not (members[value eq "u-ben"])', {"g-empty"}),
    ('members[not (value eq "u-ann")]', {"g-sales", "g-eng"}),
    ('meta.created ge "2024-06-01T00:00:00Z"', {"g-eng", "g-empty"}),
    ('meta.lastModified lt "2024-06-01T00:00:00Z"', {"g-sales"}),
    ('meta.resourceType eq "Group"', {"g-sales", "g-eng", "g-empty"}),
    ('schemas eq "urn:ietf:params:scim:schemas:core:2.0:Group"', {"g-sales", "g-eng", "g-empty"}),
]


def test_group_filters_select_the_right_groups(database: Database, acme: int) -> None:
    mismatches = [
        f"{text}: got {sorted(got)}, expected {sorted(expected)}"
        for text, expected in CASES
        if (got := matching(database, acme, text)) != expected
    ]
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('userName eq "x"', "userName"),
        ('members[display eq "x"]', "display"),
        ('members[value eq "x"] eq "y"', "members"),
        (
            'urn:ietf:params:scim:schemas:core:2.0:User:displayName eq "x"',
            "urn:ietf:params:scim:schemas:core:2.0:User",
        ),
        ('displayName[value eq "x"]', "displayName"),
    ],
)
def test_group_filter_errors(text: str, named: str) -> None:
    with pytest.raises(ScimError) as raised:
        compile_group_filter(text)
    assert raised.value.scim_type is ScimType.INVALID_FILTER
    assert named in raised.value.detail
