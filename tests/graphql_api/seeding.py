"""Seeding an org for GraphQL tests.

Tests get a ``Seeder`` from ``seeder_for(database, client, tenant)`` and never touch the store
themselves. Today that is a ``StoreSeeder``: users go straight into the store with Core inserts,
because the SCIM Users front-end is being built on another branch. When it lands, a
``ScimSeeder(client, tenant)`` that POSTs each person to /scim/v2/Users and PATCHes the
managers implements the same three methods, and ``seeder_for`` returns it instead.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from starlette.testclient import TestClient

from db.database import Database
from db.org_changes import note_org_change
from db.tables import group_members, groups, tenants, users
from tests.conftest import TenantTokens
from tests.graphql_api.org_model import Org

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def tenant_id_of(connection: Connection, slug: str) -> int:
    return int(connection.execute(select(tenants.c.id).where(tenants.c.slug == slug)).scalar_one())


def seed_org(database: Database, tenant_slug: str, org: Org) -> None:
    """Insert every person, then set the managers (loops included), and note one org change."""

    def work(connection: Connection) -> None:
        tenant_id = tenant_id_of(connection, tenant_slug)
        rows = [
            {
                "id": person.id,
                "tenant_id": tenant_id,
                "user_name": person.user_name,
                "external_id": f"ext-{person.id[:8]}",
                "active": person.active,
                "display_name": person.display_name,
                "title": person.title,
                "given_name": (person.display_name or " ").split(" ")[0] or None,
                "family_name": (person.display_name or " ").split(" ")[-1] or None,
                "email": person.email,
                "department": person.department,
                "location": person.location,
                "company": "Acme",
                "employee_number": str(index),
                "attributes": {},
                "created": BASE_TIME + timedelta(seconds=index),
                "last_modified": BASE_TIME + timedelta(seconds=index),
            }
            for index, person in enumerate(org.people.values())
        ]
        connection.execute(insert(users), rows)
        managed = [
            {"user_id": person.id, "new_manager": person.manager_id}
            for person in org.people.values()
            if person.manager_id is not None
        ]
        if managed:
            connection.execute(
                update(users)
                .where(users.c.id == bindparam("user_id"))
                .values(manager_id=bindparam("new_manager")),
                managed,
            )
        note_org_change(connection, tenant_id)

    database.write_sync(work)


def seed_group(
    database: Database, tenant_slug: str, group_id: str, display_name: str, members: list[str]
) -> None:
    def work(connection: Connection) -> None:
        tenant_id = tenant_id_of(connection, tenant_slug)
        connection.execute(
            insert(groups).values(
                id=group_id,
                tenant_id=tenant_id,
                display_name=display_name,
                attributes={},
                created=BASE_TIME,
                last_modified=BASE_TIME,
            )
        )
        if members:
            connection.execute(
                insert(group_members), [{"group_id": group_id, "user_id": m} for m in members]
            )

    database.write_sync(work)


def delete_users(database: Database, tenant_slug: str, user_ids: list[str]) -> None:
    def work(connection: Connection) -> None:
        tenant_id = tenant_id_of(connection, tenant_slug)
        connection.execute(
            delete(users).where(users.c.tenant_id == tenant_id, users.c.id.in_(user_ids))
        )
        note_org_change(connection, tenant_id)

    database.write_sync(work)


class Seeder(Protocol):
    def add_people(self, org: Org) -> None:
        """Create every person of ``org``, then set their managers (loops included)."""

    def remove_people(self, user_ids: list[str]) -> None: ...

    def add_group(self, group_id: str, display_name: str, members: list[str]) -> None: ...


@dataclass(frozen=True)
class StoreSeeder:
    """Seeds through the store (see the module docstring for why not SCIM yet)."""

    database: Database
    tenant_slug: str

    def add_people(self, org: Org) -> None:
        seed_org(self.database, self.tenant_slug, org)

    def remove_people(self, user_ids: list[str]) -> None:
        delete_users(self.database, self.tenant_slug, user_ids)

    def add_group(self, group_id: str, display_name: str, members: list[str]) -> None:
        seed_group(self.database, self.tenant_slug, group_id, display_name, members)


def seeder_for(database: Database, client: TestClient, tenant: TenantTokens) -> Seeder:
    """How tests seed tenant ``tenant``: the one place to switch to SCIM."""
    del client  # the SCIM seeder will use it
    return StoreSeeder(database, tenant.slug)
