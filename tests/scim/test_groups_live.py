"""Concurrent requests over real HTTP against a live server: nothing lost, nothing doubled."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx

from app.settings import Settings
from db.database import Database
from tests.conftest import TenantTokens
from tests.live_server import live_server
from tests.scim.groups_support import make_users, member_ids, members, patch

T = TypeVar("T")


def _at_once(workers: int, job: Callable[[int], T]) -> list[T]:
    barrier = threading.Barrier(workers)

    def run(number: int) -> T:
        barrier.wait()
        return job(number)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


def _client(url: str, tenant: TenantTokens) -> httpx.Client:
    """Several keep-alive connections, shared by the worker threads."""
    return httpx.Client(
        base_url=f"{url}/scim",
        headers=tenant.scim_headers(),
        limits=httpx.Limits(max_connections=10, max_keepalive_connections=10),
        timeout=60,
    )


def test_50_concurrent_single_member_adds_end_with_50_members(
    settings: Settings, database: Database, tenant: TenantTokens
) -> None:
    user_ids = make_users(database, tenant.slug, 50)
    with live_server(settings) as url, _client(url, tenant) as http:
        group = http.post("/Groups", json={"displayName": "Sales"}).json()
        responses = _at_once(
            50,
            lambda n: http.patch(
                f"/Groups/{group['id']}",
                json=patch({"op": "Add", "path": "members", "value": members(user_ids[n])}),
            ),
        )
        assert [r.status_code for r in responses] == [200] * 50
        body = http.get(f"/Groups/{group['id']}").json()
        assert member_ids(body) == sorted(user_ids)
        assert len(body["members"]) == 50
        versions = {r.json()["meta"]["version"] for r in responses}
        assert len(versions) == 50  # every change got its own version


def test_concurrent_adds_and_legacy_removes_keep_exactly_the_right_members(
    settings: Settings, database: Database, tenant: TenantTokens
) -> None:
    user_ids = make_users(database, tenant.slug, 40)
    staying, leaving, joining = user_ids[:10], user_ids[10:20], user_ids[20:]
    with live_server(settings) as url, _client(url, tenant) as http:
        group = http.post(
            "/Groups", json={"displayName": "Sales", "members": members(*staying, *leaving)}
        ).json()

        def change(n: int) -> int:
            if n < len(leaving):
                operation = {"op": "Remove", "path": "members", "value": members(leaving[n])}
            else:
                operation = {"op": "Add", "path": "members", "value": members(joining[n - 10])}
            return http.patch(f"/Groups/{group['id']}", json=patch(operation)).status_code

        assert _at_once(30, change) == [200] * 30
        body = http.get(f"/Groups/{group['id']}").json()
        assert member_ids(body) == sorted(staying + joining)


def test_concurrent_duplicate_creates_one_201_rest_409(
    settings: Settings, tenant: TenantTokens
) -> None:
    with live_server(settings) as url, _client(url, tenant) as http:
        responses = _at_once(
            12,
            lambda n: http.post(
                "/Groups", json={"displayName": "Sales" if n % 2 else "SALES", "externalId": str(n)}
            ),
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * 11
        assert all(r.json()["scimType"] == "uniqueness" for r in responses if r.status_code == 409)
        listed = http.get("/Groups", params={"filter": 'displayName eq "sales"'}).json()
        assert listed["totalResults"] == 1
