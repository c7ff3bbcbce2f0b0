"""Derived org figures follow org changes: a noted change is visible on the next request."""

from collections.abc import Awaitable

import anyio
from starlette.testclient import TestClient

from app.graphql_api.context import Context
from app.graphql_api.org_cache import OrgMetricsCache
from db.database import Database
from db.org_changes import org_version
from db.tenants import create_tenant
from db.tokens import TokenGrant, TokenScope
from db.users import insert_user
from tests.conftest import TenantTokens
from tests.graphql_api.conftest import GraphQLClient
from tests.graphql_api.org_model import Org, Person, generate_org
from tests.graphql_api.seeding import seeder_for

QUERY = """query($id: ID!) {
  user(id: $id) { reportCount directReportCount reports(maxDepth: 50) { totalCount } }
  orgHealth { userCount }
}"""


def test_counts_follow_users_added_and_removed(client: TestClient, tenant: TenantTokens) -> None:
    seeder = seeder_for(client, tenant)
    org = seeder.add_people(generate_org(40))
    gql = GraphQLClient(client, tenant)
    top = next(p.id for p in org.people.values() if p.manager_id is None and p.active)
    before = gql.data(QUERY, {"id": top})
    assert before["user"]["reportCount"] == org.report_count(top)
    assert before["orgHealth"]["userCount"] == 40

    newcomer = Person(
        "00000000-0000-4000-8000-0000000000aa",
        "new@example.com",
        "New Person",
        "Engineer",
        "Sales",
        "Oslo",
        "new@example.com",
        manager_id=top,
    )
    (newcomer_id,) = seeder.add_people(Org({newcomer.id: newcomer})).people
    after = gql.data(QUERY, {"id": top})
    assert after["user"]["reportCount"] == before["user"]["reportCount"] + 1
    assert after["user"]["directReportCount"] == before["user"]["directReportCount"] + 1
    assert after["user"]["reports"]["totalCount"] == after["user"]["reportCount"]
    assert after["orgHealth"]["userCount"] == 41

    seeder.remove_people([newcomer_id])
    assert gql.data(QUERY, {"id": top}) == before


def test_a_process_cache_follows_changes_committed_by_another(database_url: str) -> None:
    """Two stores on one database stand for two worker processes: the cache of one re-derives
    after every org change the other commits, never while the change is still open, and
    never keeps figures older than the version it files them under."""
    reader, writer = Database(database_url), Database(database_url)
    cache = OrgMetricsCache(reader)

    def user_count(tenant_id: int) -> int:
        return anyio.run(cache.current, tenant_id).user_count

    try:
        tenant = writer.write_sync(lambda c: create_tenant(c, "acme")).id
        boss = writer.write_sync(lambda c: insert_user(c, tenant, {"user_name": "boss"}))
        assert user_count(tenant) == 1
        for number in range(3):
            writer.write_sync(
                lambda c, n=number: insert_user(
                    c, tenant, {"user_name": f"u{n}", "manager_id": boss}
                )
            )
            assert user_count(tenant) == number + 2
        # A change still open in the other process is not seen, and its commit is.
        held = writer.engine.connect()
        held.begin()
        insert_user(held, tenant, {"user_name": "late", "manager_id": boss})
        assert user_count(tenant) == 4
        held.commit()
        held.close()
        metrics = anyio.run(cache.current, tenant)
        assert metrics.user_count == 5
        assert metrics.report_counts[boss] == 4
    finally:
        reader.dispose()
        writer.dispose()


def test_counts_are_values_once_the_figures_at_the_known_version_are_cached(
    database_url: str,
) -> None:
    """``directReportCount`` and ``reportCount`` answer an int, with no awaitable, when the
    process holds the figures at the org version the request read (the ETag layer's); an
    awaitable when it does not, and after an org change until the figures are derived again."""
    database = Database(database_url)
    cache = OrgMetricsCache(database)

    def context() -> Context:
        version = database.read_sync(lambda c: org_version(c, tenant))
        grant = TokenGrant(1, tenant, "acme", "Acme", TokenScope.GRAPHQL)
        return Context(database, grant, org_cache=cache, known_org_version=version)

    async def awaited(value: int | Awaitable[int]) -> int:
        assert not isinstance(value, int)
        return await value

    try:
        tenant = database.write_sync(lambda c: create_tenant(c, "acme")).id
        boss = database.write_sync(lambda c: insert_user(c, tenant, {"user_name": "boss"}))
        for name in ("a", "b"):
            database.write_sync(
                lambda c, n=name: insert_user(c, tenant, {"user_name": n, "manager_id": boss})
            )
        first = context()
        assert first.ready_org_metrics() is None
        assert anyio.run(awaited, first.direct_report_count(boss, False)) == 2
        # Derived once: the next request at that version answers both counts as values.
        second = context()
        assert second.direct_report_count(boss, False) == 2
        assert second.report_count(boss, True) == 2
        database.write_sync(
            lambda c: insert_user(c, tenant, {"user_name": "c", "manager_id": boss})
        )
        third = context()
        assert anyio.run(awaited, third.report_count(boss, False)) == 3
        assert third.direct_report_count(boss, False) == 3
    finally:
        database.dispose()
