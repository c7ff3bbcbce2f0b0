"""Per-token rate limit: a token bucket, 429 with Retry-After in each front-end's error shape."""

import pytest
from prometheus_client import generate_latest
from starlette.testclient import TestClient

from app.main import create_app
from app.rate_limit import TokenBuckets
from app.settings import Settings
from tests.conftest import TenantTokens


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(rate=2, burst=3, clock=clock)
    assert [buckets.take("1") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("1") == pytest.approx(0.5)
    clock.now += 0.5
    assert buckets.take("1") == 0
    assert buckets.take("1") == pytest.approx(0.5)
    clock.now += 60  # refills to the burst, never beyond
    assert [buckets.take("1") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("1") > 0


def test_tokens_have_buckets_of_their_own() -> None:
    buckets = TokenBuckets(rate=1, burst=1, clock=FakeClock())
    assert buckets.take("1") == 0
    assert buckets.take("1") == pytest.approx(1)
    assert buckets.take("2") == 0


def test_a_refused_request_does_not_use_up_the_bucket() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(rate=1, burst=1, clock=clock)
    assert buckets.take("7") == 0
    for _ in range(5):
        assert buckets.take("7") > 0
    clock.now += 1
    assert buckets.take("7") == 0


def test_zero_is_not_a_bucket() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBuckets(rate=0, burst=10)


@pytest.fixture
def limited(settings: Settings) -> TestClient:
    app = create_app(
        settings.model_copy(update={"rate_limit_per_second": 0.01, "rate_limit_burst": 2})
    )
    return TestClient(app)


def test_scim_over_the_limit_gets_429_with_retry_after_and_a_scim_error(
    limited: TestClient, tenant: TenantTokens
) -> None:
    with limited:
        headers = tenant.scim_headers()
        for _ in range(2):
            assert limited.get("/scim/Users", headers=headers).status_code == 200
        refused = limited.get('/scim/Users?filter=userName eq "x"', headers=headers)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/scim+json")
        assert int(refused.headers["retry-after"]) >= 1
        body = refused.json()
        assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert body["status"] == "429"
        # The GraphQL token of the same tenant has its own bucket.
        graphql = limited.post(
            "/graphql", json={"query": "{ tenant { slug } }"}, headers=tenant.graphql_headers()
        )
        assert graphql.status_code == 200
        text = generate_latest(limited.app.state.metrics.registry).decode()  # type: ignore[attr-defined]
        assert 'blink_rate_limited_requests_total{front_end="scim"} 1.0' in text
        assert 'route="/scim/Users",status="429"' in text


def test_graphql_over_the_limit_gets_429_with_a_json_error(
    limited: TestClient, tenant: TenantTokens
) -> None:
    with limited:
        headers = tenant.graphql_headers()
        query = {"query": "{ tenant { slug } }"}
        for _ in range(2):
            assert limited.post("/graphql", json=query, headers=headers).status_code == 200
        refused = limited.post("/graphql", json=query, headers=headers)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        (error,) = refused.json()["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert "retry after" in error["message"]


def test_requests_without_a_valid_token_are_not_limited_but_refused(
    limited: TestClient,
) -> None:
    with limited:
        for _ in range(5):
            assert limited.get("/scim/Users").status_code == 401


def test_zero_turns_the_limit_off(settings: Settings, tenant: TenantTokens) -> None:
    for update in ({"rate_limit_per_second": 0.0}, {"rate_limit_burst": 0}):
        app = create_app(settings.model_copy(update={"rate_limit_per_second": 0.01, **update}))
        with TestClient(app) as client:
            for _ in range(5):
                response = client.get("/scim/Users", headers=tenant.scim_headers())
                assert response.status_code == 200
