"""Provisioning over HTTP the way Entra does it, per user: match, create, link the manager.

Used for the Entra-style initial sync figure and to load the peer (scim2-server) with the same
people. Users are handed out breadth-first, so a manager's create is (nearly always) finished
before a report needs the manager's id; a worker that gets there first waits for it.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench.client import HttpConnection, filter_path
from bench.dataset import ENTERPRISE, Org, scim_document

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def manager_patch(manager_id: str) -> dict[str, Any]:
    """Entra's PATCH that sets a user's manager, as the sync sends it."""
    return {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": {"value": manager_id}}
        ],
    }


@dataclass(frozen=True, slots=True)
class SyncResult:
    requests: int
    seconds: float
    errors: int
    first_error: str
    ids: dict[int, str]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def _sync(
    host: str, port: int, token: str | None, prefix: str, org: Org, connections: int
) -> SyncResult:
    created: dict[int, asyncio.Future[str]] = {
        p.index: asyncio.get_running_loop().create_future() for p in org.people
    }
    queue = iter(org.people)
    requests = errors = 0
    first_error = ""

    def failed(what: str, status: int, body: bytes) -> None:
        nonlocal errors, first_error
        errors += 1
        if not first_error:
            first_error = f"{what} -> {status}: {body[:300]!r}"

    async def worker() -> None:
        nonlocal requests
        connection = await HttpConnection(host, port, token).open()
        try:
            for person in queue:
                reply = await connection.get(filter_path(prefix, person.user_name))
                requests += 1
                if reply.status != 200:
                    failed("match", reply.status, reply.body)
                document = scim_document(org, person, with_manager=False)
                reply = await connection.send_json("POST", f"{prefix}/Users", document)
                requests += 1
                if reply.status != 201:
                    failed("create", reply.status, reply.body)
                    created[person.index].set_result("")
                    continue
                user_id = str(reply.json()["id"])  # type: ignore[index]
                created[person.index].set_result(user_id)
                if person.manager_index is None:
                    continue
                manager_id = await created[person.manager_index]
                patch = manager_patch(manager_id)
                reply = await connection.send_json("PATCH", f"{prefix}/Users/{user_id}", patch)
                requests += 1
                if reply.status not in (200, 204):
                    failed("manager patch", reply.status, reply.body)
        finally:
            await connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    ids = {index: future.result() for index, future in created.items() if future.done()}
    return SyncResult(requests, elapsed, errors, first_error, ids)


def sync(
    host: str, port: int, token: str | None, prefix: str, org: Org, *, connections: int = 8
) -> SyncResult:
    return asyncio.run(_sync(host, port, token, prefix, org, connections))
