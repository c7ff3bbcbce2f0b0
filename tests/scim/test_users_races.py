"""Concurrent requests: the unique index decides userName races (409, never 500), and
concurrent PATCHes of one user lose nothing. Requests run truly in parallel: an httpx
AsyncClient over the ASGI app, writes in worker threads. The ``client`` fixture runs the
app's lifespan, which closes the store's connections at the end."""

from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.conftest import TenantTokens
from tests.scim.support import PATCH_OP

PARALLEL = 8


async def _gather(
    app: Starlette, tenant: TenantTokens, requests: list[tuple[str, str, Any]]
) -> list[httpx.Response]:
    responses: list[httpx.Response] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=tenant.scim_headers()
    ) as client:

        async def send(method: str, url: str, body: Any) -> None:
            responses.append(await client.request(method, url, json=body))

        async with anyio.create_task_group() as group:
            for method, url, body in requests:
                group.start_soon(send, method, url, body)
    # The activity log's numbering passes run as tasks of this loop (the app's lifespan, which
    # waits for them, runs on the test client's): wait for them before the loop ends, or one
    # cut off mid-pass holds a pooled connection past the store's dispose.
    await app.state.sequencer.drain()
    return responses


def test_racing_creates_of_one_username_give_one_201_and_409s(
    app: Starlette, client: TestClient, tenant: TenantTokens
) -> None:
    requests = [
        ("POST", "/scim/Users", {"userName": f"Race{'@CONTOSO.com' if i % 2 else '@contoso.com'}"})
        for i in range(PARALLEL)
    ]
    responses = anyio.run(_gather, app, tenant, requests)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (PARALLEL - 1)
    assert all(r.json()["scimType"] == "uniqueness" for r in responses if r.status_code == 409)


def test_racing_renames_to_one_username(
    app: Starlette, client: TestClient, tenant: TenantTokens
) -> None:
    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=tenant.scim_headers()
        ) as client:
            ids = [
                (await client.post("/scim/Users", json={"userName": f"u{i}"})).json()["id"]
                for i in range(PARALLEL)
            ]
        rename = {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "userName", "value": "same"}],
        }
        return await _gather(
            app, tenant, [("PATCH", f"/scim/Users/{user_id}", rename) for user_id in ids]
        )

    statuses = sorted(response.status_code for response in anyio.run(scenario))
    assert statuses == [200] + [409] * (PARALLEL - 1)


def test_concurrent_patches_of_one_user_lose_nothing(
    app: Starlette, client: TestClient, tenant: TenantTokens
) -> None:
    async def scenario() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=tenant.scim_headers()
        ) as client:
            user_id = (await client.post("/scim/Users", json={"userName": "busy"})).json()["id"]
            requests = [
                (
                    "PATCH",
                    f"/scim/Users/{user_id}",
                    {
                        "schemas": [PATCH_OP],
                        "Operations": [
                            {"op": "add", "path": "roles", "value": [{"value": f"r{i}"}]}
                        ],
                    },
                )
                for i in range(PARALLEL)
            ]
            responses = await _gather(app, tenant, requests)
            assert {response.status_code for response in responses} == {200}
            body: dict[str, Any] = (await client.get(f"/scim/Users/{user_id}")).json()
            return body

    body = anyio.run(scenario)
    assert sorted(role["value"] for role in body["roles"]) == sorted(
        f"r{i}" for i in range(PARALLEL)
    )
    assert body["meta"]["version"] == f'W/"{PARALLEL + 1}"'


def test_concurrent_manager_patches_closing_loops_never_deadlock(
    app: Starlette, client: TestClient, tenant: TenantTokens
) -> None:
    """Entra links managers in parallel, loops included. Each PATCH locks its user's row and
    the foreign-key check locks the manager's row: with FOR UPDATE those locks conflicted and
    PostgreSQL broke the resulting deadlock with an error (a 500)."""
    ids = []
    for index in range(30):
        response = client.post(
            "/scim/v2/Users",
            json={"userName": f"loop{index}@contoso.com"},
            headers=tenant.scim_headers(),
        )
        ids.append(response.json()["id"])
    manager_path = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
    requests = []
    for start in range(0, 30, 3):  # ten loops of three: a → b → c → a
        triple = ids[start : start + 3]
        for position, user_id in enumerate(triple):
            manager = triple[(position + 1) % 3]
            body = {
                "schemas": [PATCH_OP],
                "Operations": [{"op": "Add", "path": manager_path, "value": manager}],
            }
            requests.append(("PATCH", f"/scim/v2/Users/{user_id}", body))
    for _ in range(3):
        responses = anyio.run(_gather, app, tenant, requests)
        assert sorted(response.status_code for response in responses) == [200] * len(requests)
