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
