"""Entra's look-ups are index look-ups on both databases, proven with the planners' own EXPLAIN.

The tables are seeded with a few thousand rows over two tenants and ANALYZEd, so PostgreSQL's
planner chooses by cost, as in production; nothing disables sequential scans.
"""

import re
from datetime import UTC, datetime

from sqlalchemy import Connection, Select, insert, select, text

from db.database import Database
from db.tables import group_members, groups, users
from db.tenants import create_tenant
from scim.filters import compile_group_filter, compile_user_filter

USERS_PER_TENANT = 3000
GROUPS_PER_TENANT = 1000
MEMBERS_PER_GROUP = 5
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def seed(connection: Connection) -> int:
    tenant_ids = [create_tenant(connection, slug).id for slug in ("acme", "globex")]
    for tenant in tenant_ids:
        connection.execute(
            insert(users),
            [
                {
                    "id": f"u-{tenant}-{n}",
                    "tenant_id": tenant,
                    "user_name": f"User{n}@tenant{tenant}.example",
                    "external_id": f"ext-{tenant}-{n}",
                    "email": f"person{n}@tenant{tenant}.example",
                    "active": True,
                    "attributes": {},
                    "created": NOW,
                    "last_modified": NOW,
                    "version": 1,
                }
                for n in range(USERS_PER_TENANT)
            ],
        )
        connection.execute(
            insert(groups),
            [
                {
                    "id": f"g-{tenant}-{n}",
                    "tenant_id": tenant,
                    "display_name": f"Group {n}",
                    "external_id": f"gext-{tenant}-{n}",
                    "created": NOW,
                    "last_modified": NOW,
                    "version": 1,
                }
                for n in range(GROUPS_PER_TENANT)
            ],
        )
        connection.execute(
            insert(group_members),
            [
                {"group_id": f"g-{tenant}-{n}", "user_id": f"u-{tenant}-{(n * 7 + k) % 3000}"}
                for n in range(GROUPS_PER_TENANT)
                for k in range(MEMBERS_PER_GROUP)
            ],
        )
    connection.execute(text("ANALYZE"))
    return tenant_ids[0]


def explain(connection: Connection, statement: Select[tuple[str]]) -> str:
    sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "sqlite":
        rows = connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
        return "\n".join(row[-1] for row in rows)
    return "\n".join(row[0] for row in connection.execute(text(f"EXPLAIN {sql}")))


def uses_only_indexes(dialect: str, plan: str, indexes: list[str]) -> bool:
    if dialect == "sqlite":
        searches = [line for line in plan.splitlines() if line.startswith(("SEARCH", "SCAN"))]
        return all(line.startswith("SEARCH") for line in searches) and all(
            re.search(rf"USING (COVERING )?INDEX {index}\b", plan) for index in indexes
        )
    return "Seq Scan" not in plan and all(
        re.search(
            rf"(Index Scan|Index Only Scan) using {index}\b|Bitmap Index Scan on {index}\b", plan
        )
        for index in indexes
    )


def test_entra_lookups_use_indexes(database: Database) -> None:
    acme = database.write_sync(seed)
    sqlite = database.is_sqlite
    user_pk = "sqlite_autoindex_user_1" if sqlite else "user_pkey"
    group_pk = "sqlite_autoindex_group_1" if sqlite else "group_pkey"
    member_pk = "sqlite_autoindex_group_member_1" if sqlite else "group_member_pkey"
    uid, gid = f"u-{acme}-1234", f"g-{acme}-42"
    member = f"u-{acme}-{(42 * 7 + 3) % 3000}"

    def users_where(filter_text: str) -> Select[tuple[str]]:
        return select(users.c.id).where(users.c.tenant_id == acme, compile_user_filter(filter_text))

    def groups_where(filter_text: str) -> Select[tuple[str]]:
        return select(groups.c.id).where(
            groups.c.tenant_id == acme, compile_group_filter(filter_text)
        )

    expectations = [
        (users_where(f'userName eq "user1234@tenant{acme}.example"'), ["ux_user_tenant_username"]),
        (users_where(f'externalId eq "ext-{acme}-1234"'), ["ix_user_tenant_external_id"]),
        (users_where(f'id eq "{uid}"'), [user_pk]),
        (
            users_where(f'emails.value eq "PERSON1234@tenant{acme}.example"'),
            ["ix_user_tenant_email"],
        ),
        (
            users_where(f'emails[type eq "work"].value eq "person1234@tenant{acme}.example"'),
            ["ix_user_tenant_email"],
        ),
        (groups_where('displayName eq "group 42"'), ["ux_group_tenant_display_name"]),
        (groups_where(f'id eq "{gid}" and members[value eq "{member}"]'), [group_pk, member_pk]),
        (groups_where(f'id eq "{gid}" and members.value eq "{member}"'), [group_pk, member_pk]),
    ]
    dialect = "sqlite" if sqlite else "postgresql"
    failures = []
    for statement, indexes in expectations:
        plan = database.read_sync(lambda c, s=statement: explain(c, s))
        if not uses_only_indexes(dialect, plan, indexes):
            failures.append(f"{statement}\n-- expected {indexes}, plan:\n{plan}")
    assert not failures, "\n\n".join(failures)

    # and the plans answer correctly
    def ids(statement: Select[tuple[str]]) -> list[str]:
        return list(database.read_sync(lambda c: c.execute(statement).scalars().all()))

    assert ids(users_where(f'userName eq "USER1234@TENANT{acme}.EXAMPLE"')) == [uid]
    assert ids(groups_where(f'id eq "{gid}" and members[value eq "{member}"]')) == [gid]
    assert ids(groups_where(f'id eq "{gid}" and members[value eq "{uid}"]')) == []
