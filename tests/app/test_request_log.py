"""The request log: one JSON line per request, with its id, route template and outcome."""

import logging
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from app.logging_setup import TracebackMarker
from app.request_log import redact
from app.settings import Settings
from tests.app.log_capture import CapturedLog, app_logging_to
from tests.conftest import TenantTokens

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


@pytest.fixture
def log() -> CapturedLog:
    return CapturedLog()


@pytest.fixture
def logged(
    log: CapturedLog, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> Iterator[TestClient]:
    with TestClient(app_logging_to(log, monkeypatch, settings)) as client:
        yield client


def test_entra_lookup_logs_one_line_without_the_filter(
    logged: TestClient, tenant: TenantTokens, log: CapturedLog
) -> None:
    response = logged.get(
        '/scim/Users?filter=userName eq "ada.lovelace@contoso.com"',
        headers=tenant.scim_headers(),
    )
    assert response.status_code == 200
    (line,) = log.requests()
    assert line["route"] == "/scim/Users"
    assert (line["method"], line["status"], line["level"]) == ("GET", 200, "info")
    assert line["bytes"] == len(response.content)
    assert isinstance(line["duration_ms"], float)
    assert (line["tenant"], line["token"]) == ("acme", "scim token")
    assert isinstance(line["token_id"], int)
    assert line["request_id"] == response.headers["x-request-id"]
    assert len(line["request_id"]) == 32
    assert line["time"].endswith("Z")
    text = log.text()
    assert "ada.lovelace" not in text
    assert "filter" not in text
    assert tenant.scim not in text
    assert "Bearer" not in text


def test_a_sent_request_id_is_kept_and_a_bad_one_replaced(
    logged: TestClient, log: CapturedLog
) -> None:
    kept = logged.get("/healthz", headers={"X-Request-ID": "entra-7f3a.42"})
    assert kept.headers["x-request-id"] == "entra-7f3a.42"
    replaced = logged.get("/healthz", headers={"X-Request-ID": "a b\n{injected}"})
    assert replaced.headers["x-request-id"] != "a b\n{injected}"
    assert len(replaced.headers["x-request-id"]) == 32
    too_long = logged.get("/healthz", headers={"X-Request-ID": "x" * 129})
    assert too_long.headers["x-request-id"] != "x" * 129
    ids = [line["request_id"] for line in log.requests()]
    assert ids == [
        "entra-7f3a.42",
        replaced.headers["x-request-id"],
        too_long.headers["x-request-id"],
    ]
    assert "injected" not in log.text()


def test_every_response_carries_a_request_id(logged: TestClient, tenant: TenantTokens) -> None:
    for response in (
        logged.get("/nowhere"),
        logged.get("/scim/Users"),  # 401
        logged.get("/scim/v2/Users/nobody", headers=tenant.scim_headers()),
        logged.post("/graphql", json={"query": "{ tenant { slug } }"}),
    ):
        assert response.headers["x-request-id"]


def test_scim_failures_log_scim_type_and_a_detail_without_values(
    logged: TestClient, tenant: TenantTokens, log: CapturedLog
) -> None:
    body = {"schemas": [USER], "userName": "grace.hopper@contoso.com"}
    created = logged.post("/scim/v2/Users", json=body, headers=tenant.scim_headers())
    assert created.status_code == 201
    duplicate = logged.post("/scim/v2/Users", json=body, headers=tenant.scim_headers())
    assert duplicate.status_code == 409
    missing = logged.get("/scim/v2/Users/0f1e2d3c", headers=tenant.scim_headers())
    assert missing.status_code == 404
    first, conflict, not_found = log.requests()
    assert (first["route"], first["status"], first["level"]) == ("/scim/v2/Users", 201, "info")
    assert "scim_type" not in first
    assert (conflict["status"], conflict["scim_type"], conflict["level"]) == (
        409,
        "uniqueness",
        "warning",
    )
    assert conflict["detail"]
    assert (not_found["route"], not_found["status"]) == ("/scim/v2/Users/{user_id}", 404)
    assert "detail" in not_found
    assert "grace.hopper" not in log.text()
    assert "0f1e2d3c" not in log.text()


def test_unauthenticated_requests_are_logged_without_tenant(
    logged: TestClient, log: CapturedLog
) -> None:
    response = logged.get("/scim/Users", headers={"Authorization": "Bearer bdir_wrong"})
    assert response.status_code == 401
    (line,) = log.requests()
    assert (line["status"], line["level"]) == (401, "warning")
    assert "tenant" not in line
    assert "bdir_wrong" not in log.text()


def test_graphql_client_errors_log_their_codes_not_a_traceback(
    logged: TestClient, tenant: TenantTokens, log: CapturedLog
) -> None:
    response = logged.post(
        "/graphql",
        json={
            "query": 'query Page { users(first: 5, after: "garbage") { totalCount } }',
            "operationName": "Page",
        },
        headers=tenant.graphql_headers(),
    )
    assert response.status_code == 200
    assert response.json()["errors"]
    invalid = logged.post(
        "/graphql", json={"query": "{ nonsense }"}, headers=tenant.graphql_headers()
    )
    assert invalid.status_code == 200
    bad_cursor, validation = log.requests()
    assert bad_cursor["route"] == "/graphql"
    assert bad_cursor["operation"] == "Page"
    assert bad_cursor["errors"] == ["BAD_USER_INPUT"]
    assert bad_cursor["level"] == "warning"
    assert validation["operation"] is None
    assert validation["errors"] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Traceback" not in log.text()
    assert "exception" not in bad_cursor


def test_graphql_auth_failures_log_their_code(
    logged: TestClient, tenant: TenantTokens, log: CapturedLog
) -> None:
    response = logged.post(
        "/graphql", json={"query": "{ tenant { slug } }"}, headers=tenant.scim_headers()
    )
    assert response.status_code == 403
    (line,) = log.requests()
    assert line["errors"] == ["FORBIDDEN"]


def test_an_escaping_exception_is_a_500_logged_once_with_its_traceback(
    logged: TestClient, tenant: TenantTokens, log: CapturedLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = logged.app.state.token_verifier  # type: ignore[attr-defined]

    async def broken(secret: str) -> None:
        raise RuntimeError("the token store is on fire")

    monkeypatch.setattr(verifier, "verify", broken)
    response = logged.get("/scim/Users/x", headers=tenant.scim_headers())
    assert response.status_code == 500
    (line,) = log.requests()
    assert (line["status"], line["level"]) == (500, "error")
    assert "RuntimeError: the token store is on fire" in line["exception"]
    assert line["request_id"] == response.headers["x-request-id"]
    assert log.text().count("Traceback") == 1


def test_a_traceback_logged_by_the_app_is_not_repeated(
    logged: TestClient,
    tenant: TenantTokens,
    log: CapturedLog,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers = tenant.scim_headers()
    assert logged.get("/scim/Users/x", headers=headers).status_code == 404  # token now cached
    database = logged.app.state.database  # type: ignore[attr-defined]

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(database, "read", broken)
    marker = TracebackMarker()
    caplog.handler.addFilter(marker)
    try:
        with caplog.at_level(logging.ERROR):
            response = logged.get("/scim/Users/x", headers=headers)
    finally:
        caplog.handler.removeFilter(marker)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/scim+json")
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert len(tracebacks) == 1  # the SCIM app's own
    line = log.requests()[-1]
    assert (line["status"], line["level"]) == (500, "error")
    assert "exception" not in line


def test_the_request_log_can_be_turned_off(
    log: CapturedLog,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
) -> None:
    app = app_logging_to(log, monkeypatch, settings.model_copy(update={"request_log": False}))
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.headers["x-request-id"]
    assert log.text() == ""


def test_level_warning_logs_only_failures(
    log: CapturedLog, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    app = app_logging_to(log, monkeypatch, settings.model_copy(update={"log_level": "warning"}))
    with TestClient(app) as client:
        client.get("/healthz")
        client.get("/nowhere")
    (line,) = log.requests()
    assert (line["route"], line["status"]) == ("<unmatched>", 404)


def test_redact_blanks_quoted_values_and_addresses() -> None:
    assert redact("no user 'abc'") == "no user …"
    assert redact('userName "a@b.c" exists') == "userName … exists"
    assert redact("duplicate a@b.c here") == "duplicate … here"
    assert len(redact("x" * 1000)) == 300


def test_an_unexpected_graphql_error_is_logged_as_one(
    logged: TestClient, tenant: TenantTokens, log: CapturedLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = tenant.graphql_headers()
    query = {"query": "{ tenant { slug } }"}
    assert logged.post("/graphql", json=query, headers=headers).status_code == 200  # token cached
    database = logged.app.state.database  # type: ignore[attr-defined]

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(database, "read", broken)
    response = logged.post(
        "/graphql", json={"query": "{ users(first: 1) { totalCount } }"}, headers=headers
    )
    assert response.json()["errors"][0]["message"] == "Unexpected error."
    line = log.requests()[-1]
    assert line["errors"] == ["INTERNAL_SERVER_ERROR"]
    assert line["level"] == "error"
