"""The live-changes benchmark's collector, and a tiny run of it against a real server."""

from collections.abc import Iterator

import pytest

from app.settings import Settings
from bench.live import Deliveries, percentile, run
from tests.conftest import TenantTokens
from tests.graphql_api.live_client import create_user, scim_client
from tests.live_server import live_server


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 100 .. 1, unordered on purpose
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_deliveries_match_events_to_the_writes_that_made_them() -> None:
    deliveries = Deliveries(subscribers=2)
    deliveries.answered("a", 10.0)
    deliveries.answered("b", 20.0)
    deliveries.receive(0, "a", 10.5)
    deliveries.receive(1, "a", 10.25)
    deliveries.receive(0, "b", 21.0)
    deliveries.receive(0, "b", 22.0)  # a repeat: counted, not a second latency
    deliveries.receive(1, "probe", 5.0)  # not a measured write
    assert deliveries.expected == 4
    assert deliveries.delivered == 3
    assert not deliveries.complete
    assert deliveries.duplicates == 1
    assert sorted(deliveries.latencies()) == [0.25, 0.5, 1.0]
    deliveries.receive(1, "b", 20.5)
    assert deliveries.complete


@pytest.fixture
def base(database_url: str) -> Iterator[str]:
    with live_server(
        Settings(database_url=database_url, request_log=False, db_analyze_seconds=0), ws="auto"
    ) as url:
        yield url


def test_a_tiny_run_delivers_every_write_to_every_subscriber(
    base: str, tenant: TenantTokens
) -> None:
    writes = 4
    with scim_client(base, tenant.scim) as scim:
        users = [create_user(scim) for _ in range(2 * writes + 20)]
    host, port = base.removeprefix("http://").split(":")
    result = run(
        host, int(port), tenant.scim, tenant.graphql, users, subscribers=2, writes=writes, rate=20
    )
    assert result.write_errors == 0, result.first_error
    assert (result.writes, result.expected, result.delivered) == (4, 8, 8)
    assert result.missing == 0
    assert result.duplicates == 0
    assert len(result.latencies) == 8
