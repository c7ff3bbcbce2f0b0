"""Refused writes in the activity log, and numbering after writes (``scim.activity_log``)."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from db.database import Database
from db.tables import activity_events
from scim import activity_log as activity_log_module
from scim import users as users_module
from tests.conftest import TenantTokens
from tests.scim.activity_support import events
from tests.scim.support import assert_error, create, patch


def _failures(app: Starlette) -> list[dict[str, Any]]:
    return events(app, outcome="FAILURE")


def _successes(app: Starlette) -> list[dict[str, Any]]:
    return events(app, outcome="SUCCESS")


def test_a_patch_failing_midway_records_one_failure_and_changes_nothing(
    app: Starlette, scim: TestClient
) -> None:
    user = create(scim, "u@contoso.com", title="Engineer")
    before = scim.get(f"/scim/Users/{user['id']}").json()
    response = patch(
        scim,
        user["id"],
        {"op": "replace", "path": "title", "value": "CTO"},
        {"op": "replace", "path": "active", "value": "maybe"},
        headers={"X-Request-ID": "bad-patch"},
    )
    body = assert_error(response, 400)
    assert scim.get(f"/scim/Users/{user['id']}").json() == before
    (failure,) = _failures(app)
    assert (failure["operation"], failure["resource_type"], failure["resource_id"]) == (
        "UPDATE",
        "User",
        user["id"],
    )
    assert (failure["status"], failure["scim_type"], failure["detail"]) == (
        400,
        body.get("scimType"),
        body["detail"],
    )
    assert (failure["method"], failure["path"], failure["request_id"]) == (
        "PATCH",
        "/Users/{user_id}",
        "bad-patch",
    )
    assert failure["changes"] is None
    assert [event["operation"] for event in _successes(app)] == ["CREATE"]


def test_a_duplicate_create_records_one_409_failure(app: Starlette, scim: TestClient) -> None:
    create(scim, "dup@contoso.com")
    body = {"userName": "DUP@contoso.com", "password": "Sup3r-Secret!"}
    assert_error(scim.post("/scim/Users", json=body), 409, "uniqueness")
    (failure,) = _failures(app)
    assert "Sup3r" not in str(failure)
    assert (failure["operation"], failure["status"], failure["scim_type"]) == (
        "CREATE",
        409,
        "uniqueness",
    )
    assert (failure["resource_id"], failure["path"]) == (None, "/Users")
    assert len(_successes(app)) == 1


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_a_stale_if_match_records_one_412_failure_and_changes_nothing(
    app: Starlette, scim: TestClient, method: str
) -> None:
    user = create(scim, "stale@contoso.com", title="A")
    stale = user["meta"]["version"]
    patch(scim, user["id"], {"op": "replace", "path": "title", "value": "B"})
    current = scim.get(f"/scim/Users/{user['id']}").json()
    headers = {"If-Match": stale}
    url = f"/scim/Users/{user['id']}"
    if method == "patch":
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": "C"}],
        }
        response = scim.patch(url, json=body, headers=headers)
    elif method == "put":
        response = scim.put(url, json={"userName": "stale@contoso.com"}, headers=headers)
    else:
        response = scim.delete(url, headers=headers)
    assert response.status_code == 412
    assert scim.get(url).json() == current
    (failure,) = _failures(app)
    assert (failure["status"], failure["method"], failure["resource_id"]) == (
        412,
        method.upper(),
        user["id"],
    )
    assert [event["operation"] for event in _successes(app)] == ["CREATE", "UPDATE"]


def test_group_failures_are_recorded_too(app: Starlette, scim: TestClient) -> None:
    scim.post("/scim/Groups", json={"displayName": "Sales"})
    assert scim.post("/scim/Groups", json={"displayName": "sales"}).status_code == 409
    missing = "00000000-0000-0000-0000-000000000000"
    assert scim.delete(f"/scim/Groups/{missing}").status_code == 404
    conflict, not_found = _failures(app)
    assert (conflict["resource_type"], conflict["status"], conflict["path"]) == (
        "Group",
        409,
        "/Groups",
    )
    assert (not_found["operation"], not_found["resource_id"], not_found["path"]) == (
        "DELETE",
        missing,
        "/Groups/{group_id}",
    )


def test_an_id_that_names_no_resource_is_left_out_and_the_failure_still_recorded(
    app: Starlette, scim: TestClient
) -> None:
    operation = {"op": "replace", "path": "title", "value": "x"}
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [operation]}
    for bad in ("x" * 100, "a%00b"):
        assert scim.patch(f"/scim/Users/{bad}", json=body).status_code == 404
    failures = _failures(app)
    assert [(f["status"], f["resource_id"], f["path"]) for f in failures] == [
        (404, None, "/Users/{user_id}")
    ] * 2


def test_reads_and_searches_that_fail_are_not_recorded(app: Starlette, scim: TestClient) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    assert scim.get(f"/scim/Users/{missing}").status_code == 404
    assert scim.get("/scim/Users", params={"filter": "bogus"}).status_code == 400
    search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "x"}
    assert scim.post("/scim/Users/.search", json=search).status_code == 400
    assert scim.post("/scim/.search", json=search).status_code == 400
    assert events(app) == []


def test_unauthenticated_and_wrong_scope_requests_are_not_recorded(
    app: Starlette, client: TestClient, tenant: TenantTokens
) -> None:
    assert client.post("/scim/Users", json={"userName": "x"}).status_code == 401
    response = client.post("/scim/Users", json={"userName": "x"}, headers=tenant.graphql_headers())
    assert response.status_code == 403
    assert events(app) == []


def test_an_unexpected_error_is_recorded_as_a_500_failure(
    app: Starlette, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(users_module, "create_user_row", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            "/scim/Users", json={"userName": "x@contoso.com"}, headers=tenant.scim_headers()
        )
        (failure,) = _failures(app)  # while the app (and its engine) is up
    assert response.status_code == 500
    assert (failure["status"], failure["detail"]) == (500, "internal server error")
    assert "fire" not in str(failure)


def test_failing_to_record_a_failure_leaves_the_answer_alone(
    app: Starlette, scim: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("the log is unavailable")

    create(scim, "dup@contoso.com")
    monkeypatch.setattr(activity_log_module, "record_events", broken)
    assert_error(scim.post("/scim/Users", json={"userName": "dup@contoso.com"}), 409)
    assert _failures(app) == []


def _unnumbered(database: Database) -> int:
    statement = select(activity_events.c.id).where(activity_events.c.seq.is_(None))
    return database.read_sync(lambda connection: len(connection.execute(statement).all()))


def test_events_are_numbered_after_each_write_without_a_reader(
    app: Starlette, scim: TestClient
) -> None:
    create(scim, "a@contoso.com")
    assert scim.post("/scim/Users", json={"userName": "a@contoso.com"}).status_code == 409
    database: Database = app.state.database
    for _ in range(500):  # the pass runs as a task of its own, shortly after the answer
        if _unnumbered(database) == 0:
            break
        time.sleep(0.01)
    assert _unnumbered(database) == 0


@pytest.fixture
def app_without_log(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"activity_log": False}))
    with TestClient(app) as client:
        yield client


def test_with_the_log_off_nothing_is_recorded(
    app_without_log: TestClient, tenant: TenantTokens
) -> None:
    client = app_without_log
    client.headers.update(tenant.scim_headers())
    user = create(client, "a@contoso.com")
    patch(client, user["id"], {"op": "replace", "path": "title", "value": "T"})
    assert client.post("/scim/Users", json={"userName": "a@contoso.com"}).status_code == 409
    assert client.delete(f"/scim/Users/{user['id']}").status_code == 204
    assert events(client.app) == []  # type: ignore[arg-type]


def test_writes_the_request_limits_refuse_are_recorded(
    settings: Settings, tenant: TenantTokens
) -> None:
    small = settings.model_copy(update={"max_body_bytes": 2048, "max_json_depth": 8})
    app = create_app(small)
    with TestClient(app, headers=tenant.scim_headers()) as scim:
        big = {"userName": "big@contoso.com", "description": "x" * 4096}
        assert_error(scim.post("/scim/Users", json=big, headers={"X-Request-ID": "too-big"}), 413)
        deep: Any = "v"
        for _ in range(20):
            deep = [deep]
        nested = scim.post("/scim/Users", json={"userName": "deep@contoso.com", "x": deep})
        assert 400 <= nested.status_code < 500
        failures = _failures(app)
        assert [(f["method"], f["status"]) for f in failures] == [
            ("POST", 413),
            ("POST", nested.status_code),
        ]
        assert failures[0]["request_id"] == "too-big"
        assert _successes(app) == []
        assert scim.get("/scim/Users").json()["totalResults"] == 0
