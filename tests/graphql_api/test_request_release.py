"""An answered request lets go of what it loaded at once, not at the garbage collector's next
pass: graphql-core keeps the request's context in a reference cycle of its own, and each
DataLoader holds a bound method of the loaders that hold it."""

import gc
from collections.abc import Iterator

import pytest

from app.graphql_api.loaders import Loaders
from db.directory_reads import UserRecord
from tests.graphql_api.conftest import SeededOrg

ORG_SIZE = 60

ORG_CHART_AND_PATH = """
query ($id: ID!, $from: String!, $to: String!) {
  user(id: $id) {
    managementChain { id }
    manager { id displayName }
    directReports(first: 5) { edges { node { id manager { id } } } }
  }
  reportingPath(fromUserName: $from, toUserName: $to) { id }
  commonManager(aUserName: $from, bUserName: $to) { id }
}
"""


@pytest.fixture
def collector_off() -> Iterator[None]:
    """Only reference counting frees objects while the test runs."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _alive(kind: type) -> int:
    return sum(1 for obj in gc.get_objects() if type(obj) is kind)


def test_an_answered_request_leaves_no_loaders_and_no_records(
    seeded: SeededOrg, collector_off: None
) -> None:
    org = seeded.org
    people = sorted(org.people.values(), key=lambda person: person.id)
    deep = max(people, key=lambda person: len(org.chain(person.id)))
    manager = next(person for person in people if len(org.direct_reports(person.id)) >= 2)
    top = org.people[org.chain(deep.id)[-1]]  # the top of deep's chain: the path is the chain
    variables = {"id": manager.id, "from": deep.user_name, "to": top.user_name}
    seeded.acme.data(ORG_CHART_AND_PATH, variables)  # statements compiled, caches filled
    records, loaders = _alive(UserRecord), _alive(Loaders)

    data = seeded.acme.data(ORG_CHART_AND_PATH, variables)

    assert data["user"]["directReports"]["edges"]
    assert len(data["reportingPath"]) >= 3
    assert _alive(UserRecord) == records
    assert _alive(Loaders) == loaders
