"""Prometheus metrics: what is counted, with which labels, and where it is served."""

import os
import socket
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.main import create_app
from app.metrics import MAX_OPERATION_NAMES, Metrics, scim_write
from app.metrics_exposure import MULTIPROCESS_DIR_VARIABLE, prepare_multiprocess_dir
from app.settings import Settings
from db.database import Database
from tests.conftest import TenantTokens

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def exposition(app: Starlette) -> str:
    return generate_latest(app.state.metrics.registry).decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_requests_are_counted_by_route_template_method_and_status(
    client: TestClient, tenant: TenantTokens, app: Starlette
) -> None:
    headers = tenant.scim_headers()
    client.get('/scim/Users?filter=userName eq "a@b.c"', headers=headers)
    client.get("/scim/Users/abc", headers=headers)
    client.get("/scim/Users/def", headers=headers)
    text = exposition(app)
    assert 'blink_http_requests_total{method="GET",route="/scim/Users",status="200"} 1.0' in text
    assert (
        'blink_http_requests_total{method="GET",route="/scim/Users/{user_id}",status="404"} 2.0'
        in text
    )
    assert (
        'blink_http_request_duration_seconds_count{method="GET",route="/scim/Users/{user_id}"} 2.0'
        in text
    )
    assert "a@b.c" not in text
    assert "abc" not in text
    assert "tenant=" not in text  # off by default


def test_scim_writes_by_resource_type_operation_and_outcome(
    client: TestClient, tenant: TenantTokens, app: Starlette
) -> None:
    headers = tenant.scim_headers()
    body = {"schemas": [USER], "userName": "ada@contoso.com"}
    assert client.post("/scim/Users", json=body, headers=headers).status_code == 201
    assert client.post("/scim/Users", json=body, headers=headers).status_code == 409
    client.post(
        "/scim/Groups",
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ops"},
        headers=headers,
    )
    client.post("/scim/Users/.search", json={}, headers=headers)
    text = exposition(app)
    assert (
        'blink_scim_writes_total{operation="create",outcome="success",resource_type="User"} 1.0'
        in text
    )
    assert (
        'blink_scim_writes_total{operation="create",outcome="client_error",resource_type="User"}'
        " 1.0" in text
    )
    assert (
        'blink_scim_writes_total{operation="create",outcome="success",resource_type="Group"} 1.0'
        in text
    )
    assert ".search" not in text.split("blink_scim_writes_total", 1)[1].split("# HELP")[0]


def test_scim_write_classification() -> None:
    assert scim_write("/scim/v2/Users/{user_id}", "PATCH") == ("User", "patch")
    assert scim_write("/scim/Groups/{group_id}", "DELETE") == ("Group", "delete")
    assert scim_write("/scim/Users/.search", "POST") is None
    assert scim_write("/scim/Users", "GET") is None
    assert scim_write("/graphql", "POST") is None


def test_graphql_operations_by_name_with_cost(
    client: TestClient, tenant: TenantTokens, app: Starlette
) -> None:
    headers = tenant.graphql_headers()
    query = (
        "query Team { users(first: 10) "
        "{ edges { node { directReports(first: 5) { totalCount } } } } }"
    )
    for _ in range(2):  # the second counts in the series the first found
        assert client.post("/graphql", json={"query": query}, headers=headers).status_code == 200
    client.post("/graphql", json={"query": "{ nonsense }"}, headers=headers)
    text = exposition(app)
    assert 'blink_graphql_operations_total{operation="Team",outcome="success"} 2.0' in text
    assert 'blink_graphql_operations_total{operation="anonymous",outcome="error"} 1.0' in text
    assert 'blink_graphql_operation_cost_sum{operation="Team"} 120.0' in text
    assert 'blink_graphql_operation_cost_count{operation="Team"} 2.0' in text
    # the refused operation had no cost: no cost series of its own
    assert 'blink_graphql_operation_cost_count{operation="anonymous"}' not in text


def test_operation_names_are_bounded() -> None:
    metrics = Metrics(CollectorRegistry())
    for number in range(MAX_OPERATION_NAMES):
        assert metrics.operation_label(f"Op{number}") == f"Op{number}"
    assert metrics.operation_label("OneTooMany") == "other"
    assert metrics.operation_label("Op3") == "Op3"
    assert Metrics(CollectorRegistry()).operation_label("bad name; drop") == "other"
    assert Metrics(CollectorRegistry()).operation_label(None) == "anonymous"


def test_token_cache_hits_and_misses(
    client: TestClient, tenant: TenantTokens, app: Starlette
) -> None:
    for _ in range(3):
        client.get("/scim/ServiceProviderConfig", headers=tenant.scim_headers())
    text = exposition(app)
    assert 'blink_token_cache_lookups_total{result="miss"} 1.0' in text
    assert 'blink_token_cache_lookups_total{result="hit"} 2.0' in text


def test_tenant_labels_when_turned_on(settings: Settings, tenant: TenantTokens) -> None:
    app = create_app(settings.model_copy(update={"metrics_tenant_labels": True}))
    with TestClient(app) as client:
        client.get("/scim/Users/x", headers=tenant.scim_headers())
        client.get("/healthz")
    text = exposition(app)
    assert 'route="/scim/Users/{user_id}",status="404",tenant="acme"' in text
    assert 'route="/healthz",status="200",tenant="-"' in text


def test_pool_gauges(database: Database) -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.sample_pool(database)
    with database.engine.connect():
        metrics.sample_pool(database)
        text = generate_latest(metrics.registry).decode()
    label = "write" if database.is_sqlite else "thread"  # PostgreSQL: the synchronous engine
    assert f'blink_db_pool_connections_in_use{{engine="{label}"}} 1.0' in text
    assert f'blink_db_pool_size{{engine="{label}"}}' in text


def test_metrics_are_served_on_their_own_address_only(settings: Settings) -> None:
    port = free_port()
    app = create_app(settings.model_copy(update={"metrics_address": f"127.0.0.1:{port}"}))
    with TestClient(app) as client:
        client.get("/healthz")
        assert client.get("/metrics").status_code == 404  # never on the API's port
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert scraped.status_code == 200
        assert 'blink_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in (
            scraped.text
        )
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_no_metrics_address_serves_nothing(settings: Settings) -> None:
    assert settings.metrics_address is None
    assert settings.metrics_host_port is None


def test_multiprocess_directory_is_emptied_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"stale")
    monkeypatch.setenv(MULTIPROCESS_DIR_VARIABLE, str(directory))
    assert prepare_multiprocess_dir(2) == str(directory)
    assert list(directory.iterdir()) == []
    assert prepare_multiprocess_dir(1) is None
    assert MULTIPROCESS_DIR_VARIABLE not in os.environ
