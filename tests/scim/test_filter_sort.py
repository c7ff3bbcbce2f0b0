"""sortBy resolves to an ORDER BY expression; case-insensitive attributes sort by lower()."""

import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import ColumnElement, Connection, insert, select

from db.database import Database
from db.tables import groups, users
from db.tenants import create_tenant
from scim.errors import ScimError, ScimType
from scim.filters import group_sort_column, user_sort_column

START = datetime(2024, 1, 1, tzinfo=UTC)
PEOPLE = [  # (id, userName, externalId, familyName, work email)
    ("u1", "carol", "b", "Zed", None),
    ("u2", "Alice", "C", None, "z@x.example"),
    ("u3", "bob", "a", "adams", "A@x.example"),
]


def seed(connection: Connection) -> int:
    tenant = create_tenant(connection, "acme").id
    for n, (uid, name, external, family, email) in enumerate(PEOPLE):
        connection.execute(
            insert(users).values(
                id=uid,
                tenant_id=tenant,
                user_name=name,
                external_id=external,
                family_name=family,
                email=email,
                active=True,
                attributes={},
                created=START + timedelta(days=n),
                last_modified=START - timedelta(days=n),
                version=1,
            )
        )
    for n, name in enumerate(["beta", "Alpha", "gamma"]):
        connection.execute(
            insert(groups).values(
                id=f"g{n}",
                tenant_id=tenant,
                display_name=name,
                created=START + timedelta(days=n),
                last_modified=START,
                version=1,
            )
        )
    return tenant


@pytest.mark.parametrize(
    ("sort_by", "ascending"),
    [
        ("userName", ["u2", "u3", "u1"]),
        ("USERNAME", ["u2", "u3", "u1"]),
        ("urn:ietf:params:scim:schemas:core:2.0:User:userName", ["u2", "u3", "u1"]),
        ("id", ["u1", "u2", "u3"]),
        ("name.familyName", ["u3", "u1", "u2"]),  # missing values last
        ("emails", ["u3", "u2", "u1"]),
        ("emails.value", ["u3", "u2", "u1"]),
        ("meta.created", ["u1", "u2", "u3"]),
        ("meta.lastModified", ["u3", "u2", "u1"]),
    ],
)
def test_users_sort(database: Database, sort_by: str, ascending: list[str]) -> None:
    tenant = database.write_sync(seed)
    column = user_sort_column(sort_by)
    statement = (
        select(users.c.id)
        .where(users.c.tenant_id == tenant)
        .order_by(column.asc().nulls_last(), users.c.id)
    )
    assert list(database.read_sync(lambda c: c.execute(statement).scalars().all())) == ascending


def test_groups_sort(database: Database) -> None:
    tenant = database.write_sync(seed)
    for sort_by, expected in [
        ("displayName", ["g1", "g0", "g2"]),
        ("meta.created", ["g0", "g1", "g2"]),
    ]:
        statement = (
            select(groups.c.id)
            .where(groups.c.tenant_id == tenant)
            .order_by(group_sort_column(sort_by).desc().nulls_last())
        )
        rows = database.read_sync(lambda c, s=statement: c.execute(s).scalars().all())
        assert list(rows) == expected[::-1]


def test_case_exact_attributes_sort_by_the_column_itself() -> None:
    # how "C" and "a" compare is then the database collation's business (C.UTF-8 in CI)
    assert user_sort_column("externalId") is users.c.external_id
    assert user_sort_column("id") is users.c.id
    assert str(user_sort_column("userName")) == 'lower("user".user_name)'
    assert str(group_sort_column("displayName")) == 'lower("group".display_name)'


@pytest.mark.parametrize(
    "sort_by",
    [
        "",
        "nosuch",
        "name",
        "groups",
        "meta.resourceType",
        "userName eq",
        "a[b]",
        "userName.x",
        'emails[type eq "work"].value',
        "urn:x:y:userName",
        "schemas",
        "addresses",
    ],
)
def test_bad_user_sort_is_invalid_value(sort_by: str) -> None:
    with pytest.raises(ScimError) as raised:
        user_sort_column(sort_by)
    assert raised.value.status == 400
    assert raised.value.scim_type is ScimType.INVALID_VALUE
    assert "sort" in raised.value.detail


@pytest.mark.parametrize("sort_by", ["members", "members.value", "userName"])
def test_bad_group_sort_is_invalid_value(sort_by: str) -> None:
    with pytest.raises(ScimError) as raised:
        group_sort_column(sort_by)
    assert raised.value.scim_type is ScimType.INVALID_VALUE


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet=string.ascii_letters + '.:$[]" -').map(str.strip),
        st.sampled_from(["name.givenName", "meta.version", "members.display", "x.y.z", "a:b"]),
    )
)
def test_any_sort_by_is_a_column_or_invalid_value(sort_by: str) -> None:
    for sort_column in (user_sort_column, group_sort_column):
        outcome: object
        try:
            outcome = sort_column(sort_by)
        except ScimError as error:
            outcome = (error.status, error.scim_type)
        assert isinstance(outcome, ColumnElement) or outcome == (400, ScimType.INVALID_VALUE)
