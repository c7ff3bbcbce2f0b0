"""The tenant's counters for GraphQL requests: one statement for the requests of a tenant that
ask in the same turn of the event loop, never a read begun before a request asked."""

import asyncio
from collections.abc import Callable
from functools import partial

import pytest

from app.graphql_api.version_reads import TenantVersionReads
from db.database import Database
from db.org_changes import TenantVersions, note_data_change, tenant_versions
from db.tenants import create_tenant
from tests.directory_rows import count_statements


def _versions_statements(statements: list[str]) -> int:
    return sum(1 for statement in statements if "tenant_org_version" in statement)


def _tenants(database: Database, *slugs: str) -> list[int]:
    return [database.write_sync(partial(create_tenant, slug=slug)).id for slug in slugs]


def _bump(database: Database, tenant_id: int) -> None:
    database.write_sync(lambda c: note_data_change(c, tenant_id))


def _read_now(database: Database, tenant_id: int) -> TenantVersions:
    return database.read_sync(lambda c: tenant_versions(c, tenant_id))


def test_requests_asking_together_share_one_read(database: Database) -> None:
    acme, globex = _tenants(database, "acme", "globex")
    _bump(database, acme)
    reads = TenantVersionReads(database)

    async def together() -> list[TenantVersions]:
        return list(await asyncio.gather(*(reads.read(t) for t in (acme, acme, acme, globex))))

    async def run() -> list[TenantVersions]:
        try:
            return await together()
        finally:
            await database.aclose()

    with count_statements(*database.engines) as log:
        found = asyncio.run(run())
    assert found == [_read_now(database, acme)] * 3 + [_read_now(database, globex)]
    assert found[0].data == found[3].data + 1
    assert _versions_statements(log.statements) == 2  # one per tenant


def test_a_request_never_takes_a_read_begun_before_it_asked(database: Database) -> None:
    (acme,) = _tenants(database, "acme")
    reads = TenantVersionReads(database)

    async def run() -> tuple[TenantVersions, TenantVersions]:
        try:
            first = asyncio.ensure_future(reads.read(acme))
            await asyncio.sleep(0)  # the first read has started
            await asyncio.to_thread(_bump, database, acme)  # a write commits meanwhile
            second = await reads.read(acme)
            return await first, second
        finally:
            await database.aclose()

    first, second = asyncio.run(run())
    assert second == _read_now(database, acme)
    assert second.data >= first.data


@pytest.mark.parametrize("fail", [False, "statement", "store"])
def test_one_request_going_away_or_a_failed_read_touches_only_its_own(
    database: Database, monkeypatch: pytest.MonkeyPatch, fail: bool | str
) -> None:
    (acme,) = _tenants(database, "acme")
    reads = TenantVersionReads(database)
    broken: Callable[..., object] = lambda *args, **kwargs: 1 / 0  # noqa: E731
    if fail == "statement":
        monkeypatch.setattr("app.graphql_api.version_reads.tenant_versions", broken)
    elif fail == "store":  # the store fails before any statement runs
        monkeypatch.setattr(database, "read", broken)

    async def run() -> list[object]:
        try:
            leaving = asyncio.ensure_future(reads.read(acme))
            staying = asyncio.ensure_future(reads.read(acme))
            await asyncio.sleep(0)
            leaving.cancel()
            gathered = asyncio.gather(leaving, staying, return_exceptions=True)
            return list(await asyncio.wait_for(gathered, 10))  # a lost outcome: no answer
        finally:
            await database.aclose()

    left, stayed = asyncio.run(run())
    assert isinstance(left, asyncio.CancelledError)
    if fail:
        assert isinstance(stayed, ZeroDivisionError)
    else:
        assert stayed == _read_now(database, acme)
