"""Provisioning the demo organisation through the SCIM API, as Entra's provisioning does.

Every write is a SCIM request to the service's own ASGI app (the code Entra's requests run),
in process over httpx. The tenant's users and groups are read first, a page at a time; then
people are created level by level with their manager set at creation, and anyone already
there is PATCHed only where they differ. Groups follow, their members added and removed in
chunks. Running the same demo twice writes nothing the second time.
"""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import anyio
import httpx
from starlette.types import ASGIApp

from app.demo.org import DemoGroup, DemoOrg, DemoPerson
from app.demo.resources import group_body, patch_body, user_body, user_changes

PAGE = 1000  # the SCIM server's maxResults
MEMBER_CHUNK = 1000  # members per PATCH, well inside the request size limit
PARALLEL = 8  # requests in flight, as Entra sends them


class ProvisioningError(Exception):
    """The SCIM API refused a request the demo sent."""


class Progress(Protocol):
    def start(self, phase: str, total: int) -> None: ...

    def advance(self, phase: str, amount: int = 1) -> None: ...


class NoProgress:
    def start(self, phase: str, total: int) -> None:
        pass

    def advance(self, phase: str, amount: int = 1) -> None:
        pass


@dataclass
class ProvisionReport:
    users_created: int = 0
    users_updated: int = 0
    users_unchanged: int = 0
    groups_created: int = 0
    groups_updated: int = 0
    groups_unchanged: int = 0
    writes: int = 0  # SCIM requests that change something (POST, PATCH)
    user_ids: dict[str, str] = field(default_factory=dict)  # externalId -> SCIM id


class ScimClient:
    def __init__(self, client: httpx.AsyncClient, report: ProvisionReport) -> None:
        self.client = client
        self.report = report

    async def request(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = await self.client.request(method, f"/scim/v2{path}", json=body, params=params)
        if response.status_code >= 400:
            raise ProvisioningError(f"{method} {path}: {response.status_code} {response.text}")
        if method in ("POST", "PATCH"):
            self.report.writes += 1
        return response.json() if response.content else None

    async def every(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every resource of a listing, a page at a time."""
        found: list[dict[str, Any]] = []
        while True:
            page = await self.request("GET", path, startIndex=len(found) + 1, count=PAGE, **params)
            found += page["Resources"]
            if not page["Resources"] or len(found) >= page["totalResults"]:
                return found

    async def patch(self, path: str, operations: list[dict[str, Any]], **params: Any) -> None:
        await self.request("PATCH", path, patch_body(operations), **params)

    async def patch_group(self, path: str, operations: list[dict[str, Any]]) -> None:
        # Entra reads only the status of a group PATCH: no need to render the members.
        await self.patch(path, operations, excludedAttributes="members")


async def _in_parallel(jobs: Iterable[Callable[[], Awaitable[None]]]) -> None:
    """Run ``jobs`` ``PARALLEL`` at a time: a few workers share one iterator, so a level of
    tens of thousands of people never becomes as many waiting tasks."""
    pending = iter(jobs)

    async def worker() -> None:
        for job in pending:
            await job()

    async with anyio.create_task_group() as group:
        for _ in range(PARALLEL):
            group.start_soon(worker)


async def _provision_user(
    scim: ScimClient,
    person: DemoPerson,
    held: dict[str, dict[str, Any]],
    report: ProvisionReport,
    progress: Progress,
) -> None:
    """Create ``person`` with their manager, or PATCH what differs from what is held."""
    ids = report.user_ids
    manager_id = None if person.manager is None else ids[person.manager]
    resource = held.get(person.user_name.lower())
    if resource is None:
        created = await scim.request("POST", "/Users", user_body(person, manager_id))
        ids[person.external_id] = created["id"]
        report.users_created += 1
    else:
        ids[person.external_id] = resource["id"]
        changes = user_changes(person, manager_id, resource)
        if changes:
            await scim.patch(f"/Users/{resource['id']}", changes)
            report.users_updated += 1
        else:
            report.users_unchanged += 1
    progress.advance("users")


async def _provision_users(
    scim: ScimClient, org: DemoOrg, progress: Progress, report: ProvisionReport
) -> None:
    progress.start("users", len(org.people))
    held = {resource["userName"].lower(): resource for resource in await scim.every("/Users")}
    # Level by level: everyone's manager exists (and has an id) before they are written.
    for level in org.levels():
        await _in_parallel(
            partial(_provision_user, scim, person, held, report, progress) for person in level
        )


def _chunks(values: list[str]) -> list[list[dict[str, str]]]:
    return [
        [{"value": value} for value in values[start : start + MEMBER_CHUNK]]
        for start in range(0, len(values), MEMBER_CHUNK)
    ]


async def _provision_group(
    scim: ScimClient, group: DemoGroup, held: dict[str, dict[str, Any]], ids: dict[str, str]
) -> str:
    """Create or update one group; answers "created", "updated" or "unchanged"."""
    wanted = [ids[member] for member in group.members]
    resource = held.get(group.display_name.lower())
    created = resource is None
    if resource is None:
        resource = await scim.request("POST", "/Groups", group_body(group))
        current: set[str] = set()
    else:
        full = await scim.request("GET", f"/Groups/{resource['id']}", attributes="members")
        current = {member["value"] for member in full.get("members", [])}
    changes: list[list[dict[str, Any]]] = []
    if resource.get("externalId") != group.external_id:
        changes.append([{"op": "replace", "path": "externalId", "value": group.external_id}])
    added = [member for member in wanted if member not in current]
    removed = sorted(current - set(wanted))
    changes += [[{"op": "add", "path": "members", "value": c}] for c in _chunks(added)]
    # Entra's legacy Remove with a value list: removes only the members listed.
    changes += [[{"op": "Remove", "path": "members", "value": c}] for c in _chunks(removed)]
    for operations in changes:
        await scim.patch_group(f"/Groups/{resource['id']}", operations)
    if created:
        return "created"
    return "updated" if changes else "unchanged"


async def _provision_groups(
    scim: ScimClient, org: DemoOrg, progress: Progress, report: ProvisionReport
) -> None:
    progress.start("groups", len(org.groups))
    held = {
        resource["displayName"].lower(): resource
        for resource in await scim.every("/Groups", excludedAttributes="members")
    }
    for group in org.groups:
        outcome = await _provision_group(scim, group, held, report.user_ids)
        if outcome == "created":
            report.groups_created += 1
        elif outcome == "updated":
            report.groups_updated += 1
        else:
            report.groups_unchanged += 1
        progress.advance("groups")


async def provision(
    app: ASGIApp, scim_token: str, org: DemoOrg, progress: Progress | None = None
) -> ProvisionReport:
    """Make the tenant of ``scim_token`` hold ``org``, through the SCIM API of ``app``."""
    report = ProvisionReport()
    headers = {
        "Authorization": f"Bearer {scim_token}",
        "Content-Type": "application/scim+json",
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://demo.invalid",
        headers=headers,
        timeout=None,  # noqa: S113 - in process
    ) as client:
        scim = ScimClient(client, report)
        await _provision_users(scim, org, progress or NoProgress(), report)
        await _provision_groups(scim, org, progress or NoProgress(), report)
    return report
