"""Derived org figures follow org changes: a noted change is visible on the next request."""

from starlette.testclient import TestClient

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
