"""Seeding an org for GraphQL tests through the SCIM API, the way Microsoft Entra ID does it.

SCIM is the only writer of the directory, so the tests build their orgs through it too:
``ScimSeeder.add_people`` POSTs every person to /scim/v2/Users with the body Entra sends, then
links the managers with one PATCH per user, cycling through the three manager value forms
Entra uses (see /work/shared/docs/entra-scim-dialect.md, "Manager link"). Groups are a POST
to /scim/v2/Groups and a PATCH adding the members.

The server assigns every id (``id`` is read-only in SCIM). The generated ``Org`` keeps its
own ids as each person's ``externalId`` (Entra's object id plays that part), and
``add_people`` returns the same org renamed to the ids the server answered with; the model
never reads the store. Tests use the returned org and the returned group ids.

There is no store seeder any more: no test needs an org too large to build over SCIM (the
largest is test_org_chart's 3,000 users, plus globex's 30). The manager PATCHes go 8 at a
time; creates stay one at a time so that creation order is the model's order.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from tests.conftest import TenantTokens
from tests.graphql_api.org_model import Org, Person

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BLINK_USER = "urn:ietf:params:scim:schemas:extension:blink:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTRA_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
COMPANY = "Acme"
PARALLEL = 8


def user_body(person: Person, employee_number: int) -> dict[str, Any]:
    """The create body Entra sends for ``person`` (displayName left out when they have none)."""
    words = (person.display_name or person.user_name.split("@")[0].replace(".", " ")).split()
    given, family = words[0], words[1 if len(words) > 1 else 0]
    body: dict[str, Any] = {
        "schemas": [CORE_USER, ENTERPRISE_USER, BLINK_USER],
        "externalId": person.id,
        "userName": person.user_name,
        "active": person.active,
        "emails": [{"primary": True, "type": "work", "value": person.email}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": f"{given} {family}", "familyName": family, "givenName": given},
        "title": person.title,
        "roles": [],
        ENTERPRISE_USER: {
            "employeeNumber": str(employee_number),
            "department": person.department,
        },
        BLINK_USER: {"company": COMPANY, "location": person.location},
    }
    if person.display_name is not None:
        body["displayName"] = person.display_name
    return body


def manager_operation(manager_id: str, form: int) -> dict[str, Any]:
    """One of the three manager links seen from Entra, chosen by ``form`` modulo 3."""
    path = f"{ENTERPRISE_USER}:manager"
    if form % 3 == 0:
        return {"op": "Add", "path": path, "value": manager_id}
    if form % 3 == 1:
        return {"op": "add", "path": path, "value": {"value": manager_id}}
    reference = f"https://testserver/scim/v2/Users/{manager_id}"
    return {"op": "Add", "path": "manager", "value": [{"$ref": reference, "value": manager_id}]}


class ScimSession:
    """One tenant's SCIM requests over an httpx AsyncClient on the ASGI app."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.client.request(method, f"/scim/v2{path}", json=body)
        expected = {"POST": 201, "PATCH": 200, "DELETE": 204}[method]
        assert response.status_code == expected, (method, path, response.text)
        return response.json() if response.content else None

    async def patch(self, path: str, operation: dict[str, Any]) -> None:
        await self.send("PATCH", path, {"schemas": [PATCH_OP], "Operations": [operation]})


@dataclass(frozen=True)
class ScimSeeder:
    """Writes people and groups of one tenant through its SCIM token.

    Requests go through an httpx AsyncClient over the ASGI app (the app whose lifespan the
    test's TestClient runs): creates one after another, so creation order is the model's
    order, and the manager PATCHes ``PARALLEL`` at a time, as Entra sends them.
    """

    app: ASGIApp
    tenant: TenantTokens

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[ScimSession]:
        headers = {**self.tenant.scim_headers(), "Content-Type": "application/scim+json"}
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as client:
            yield ScimSession(client)

    def add_people(self, org: Org) -> Org:
        """Create every person of ``org``, then link their managers (loops included); return
        ``org`` under the ids the server assigned."""
        return anyio.run(self._add_people, org)

    async def _add_people(self, org: Org) -> Org:
        async with self._session() as scim:
            assigned = {
                person.id: (await scim.send("POST", "/Users", user_body(person, index)))["id"]
                for index, person in enumerate(org.people.values())
            }
            seeded = org.with_ids(assigned)
            managers = {p.id: p.manager_id for p in seeded.people.values() if p.manager_id}
            links = [
                (user_id, manager_operation(manager_id, form))
                for form, (user_id, manager_id) in enumerate(managers.items())
            ]
            limiter = anyio.CapacityLimiter(PARALLEL)

            async def link(user_id: str, operation: dict[str, Any]) -> None:
                async with limiter:
                    await scim.patch(f"/Users/{user_id}", operation)

            async with anyio.create_task_group() as group:
                for user_id, operation in links:
                    group.start_soon(link, user_id, operation)
        return seeded

    def remove_people(self, user_ids: list[str]) -> None:
        async def remove() -> None:
            async with self._session() as scim:
                for user_id in user_ids:
                    await scim.send("DELETE", f"/Users/{user_id}")

        anyio.run(remove)

    def add_group(self, display_name: str, members: list[str]) -> str:
        """Create a group, add ``members`` in one PATCH, and return the group's id."""

        async def add() -> str:
            body = {
                "schemas": [CORE_GROUP, ENTRA_GROUP],
                "externalId": f"ext-{display_name}",
                "displayName": display_name,
            }
            async with self._session() as scim:
                group_id: str = (await scim.send("POST", "/Groups", body))["id"]
                if members:
                    value = [{"$ref": None, "value": member} for member in members]
                    operation = {"op": "Add", "path": "members", "value": value}
                    await scim.patch(f"/Groups/{group_id}", operation)
            return group_id

        return anyio.run(add)


def seeder_for(client: TestClient, tenant: TenantTokens) -> ScimSeeder:
    """How tests seed tenant ``tenant``: through its SCIM API, on the app ``client`` runs."""
    return ScimSeeder(client.app, tenant)
