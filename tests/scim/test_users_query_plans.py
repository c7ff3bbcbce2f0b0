"""Entra's match filters use indexes: EXPLAIN the list statement on both databases.

The table gets a few thousand distinct users and fresh statistics, so the planner's choice
reflects a real directory rather than a three-row table.
"""

import uuid
from typing import Any

import pytest
from sqlalchemy import Connection, insert

from db.database import Database
from db.tables import users
from db.tenants import create_tenant
from db.types import utcnow
from db.users import _prepared_page, insert_user, page_statement
from scim.filters import compile_user_filter, template_user_filter
from scim.user_search import DEFAULT_ORDER

ROWS = 3000


def _plan(connection: Connection, statement: Any) -> str:
    compiled = statement.compile(dialect=connection.dialect)
    if connection.dialect.name == "sqlite":
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params).all()
        return "\n".join(str(row[-1]) for row in rows)
    rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ('userName eq "alice@contoso.com"', "ux_user_tenant_username"),
        ('externalId eq "0a21f0f2"', "ix_user_tenant_external_id"),
        ('id eq "7f32d419-e925-4ce1-a766-5d6152a8af99"', None),
        ('emails[type eq "work"].value eq "alice@contoso.com"', "ix_user_tenant_email"),
        ('emails.value eq "alice@contoso.com"', "ix_user_tenant_email"),
    ],
)
def test_match_filters_use_an_index(database: Database, text: str, index: str | None) -> None:
    def work(connection: Connection) -> list[str]:
        tenant = create_tenant(connection, "acme")
        insert_user(connection, tenant.id, {"user_name": "first", "attributes": {}})
        now = utcnow()
        connection.execute(
            insert(users),
            [
                {
                    "id": str(uuid.uuid4()),
                    "tenant_id": tenant.id,
                    "user_name": f"user{number}@contoso.com",
                    "external_id": f"ext-{number}",
                    "email": f"user{number}@contoso.com",
                    "active": True,
                    "attributes": {},
                    "created": now,
                    "last_modified": now,
                    "version": 1,
                }
                for number in range(ROWS)
            ],
        )
        connection.exec_driver_sql("ANALYZE")
        statement = page_statement(compile_user_filter(text), (users.c.created, users.c.id)).params(
            tenant_id=tenant.id, offset=0, limit=100
        )
        plans = [_plan(connection, statement)]
        template = template_user_filter(text)
        if template is not None:  # the statement Entra's look-up runs (scim.user_search)
            prepared = _prepared_page(template.where, DEFAULT_ORDER).statement
            plans.append(
                _plan(
                    connection,
                    prepared.params(
                        tenant_id=tenant.id, offset=0, limit=100, **template.parameters
                    ),
                )
            )
        connection.rollback()
        return plans

    plans = database.write_sync(work)
    assert len(plans) == (2 if "[" not in text else 1)
    for plan in plans:
        if index is None:  # the primary key
            assert (
                "pk" in plan.lower() or "primary key" in plan.lower() or "autoindex" in plan.lower()
            ), plan
        else:
            assert index in plan, plan
        assert "SCAN user\n" not in plan + "\n"
        assert 'Seq Scan on "user"' not in plan
