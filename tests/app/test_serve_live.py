"""Live changes across processes: ``serve --workers 2`` on PostgreSQL, real WebSockets. Each
worker has one LISTEN connection; a subscriber sees writes whichever worker took them, and
terminating the LISTEN backends mid-stream loses nothing."""

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.graphql_api.live.listener import APPLICATION_NAME
from tests.app.test_serve_operations import (
    POSTGRES_ONLY,
    cli_command,
    free_port,
    secret_of,
    wait_for,
)
from tests.graphql_api.live_client import Subscription

pytestmark = pytest.mark.skipif(not POSTGRES_ONLY, reason="several workers need PostgreSQL")


@pytest.fixture
def two_workers(
    tmp_path: Path, postgres_migrated: str, postgres_reset: Callable[[], None]
) -> Iterator[tuple[str, str, str, str]]:
    url = postgres_migrated  # this session's (this xdist worker's) database
    postgres_reset()
    port = free_port()
    output = tmp_path / "out.log"
    environment = {
        **os.environ,
        "BLINK_DATABASE_URL": url,
        "BLINK_PORT": str(port),
        "BLINK_LOG_FORMAT": "auto",
        "BLINK_REQUEST_LOG": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    with output.open("wb") as sink:
        process = subprocess.Popen(
            cli_command("serve", "--workers", "2"), env=environment, stdout=sink, stderr=sink
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", process, timeout=120)
        scim = secret_of(output, b"SCIM Secret Token (Entra)")
        graphql = secret_of(output, b"GraphQL bearer token")
        yield base, scim, graphql, url
    except AssertionError:
        print(output.read_text()[-3000:])  # why the workers did not come up
        raise
    finally:
        process.terminate()
        process.wait(timeout=30)


def _listeners(url: str) -> list[int]:
    parsed = make_url(url)
    with psycopg.connect(parsed.set(drivername="postgresql").render_as_string(False)) as db:
        rows = db.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            (parsed.database, APPLICATION_NAME),
        ).fetchall()
    return [row[0] for row in rows]


def _write(base: str, token: str, count: int) -> list[str]:
    """``count`` users, each created on a connection of its own (so both workers take some)."""
    created = []
    for _ in range(count):
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
            response = client.post(
                "/scim/Users",
                json={
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": f"u{time.monotonic_ns()}@example.com",
                },
            )
            assert response.status_code == 201, response.text
            created.append(response.json()["id"])
    return created


def _wait_for_listeners(url: str, count: int) -> list[int]:
    deadline = time.monotonic() + 20
    while len(pids := _listeners(url)) != count:
        assert time.monotonic() < deadline, pids
        time.sleep(0.1)
    return pids


def test_subscribers_on_both_workers_see_every_write_and_survive_a_lost_listener(
    two_workers: tuple[str, str, str, str],
) -> None:
    base, scim, graphql, url = two_workers
    _wait_for_listeners(url, 2)  # one LISTEN connection per worker, none from the pool
    # Several connections: the kernel spreads them over the two workers.
    subscribers = [Subscription(base, graphql) for _ in range(4)]
    try:
        for subscriber in subscribers:
            assert subscriber.ack["type"] == "connection_ack"
        time.sleep(0.5)  # the subscriptions are registered
        first = _write(base, scim, 10)
        for subscriber in subscribers:
            assert [e["resourceId"] for e in subscriber.events(10)] == first
        old = set(_listeners(url))
        with psycopg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(False)
        ) as db:
            for pid in old:
                db.execute("SELECT pg_terminate_backend(%s)", (pid,))
        second = _write(base, scim, 10)  # while the listeners reconnect
        for subscriber in subscribers:
            assert [e["resourceId"] for e in subscriber.events(10)] == second
        assert not old & set(_wait_for_listeners(url, 2))  # reconnected
        third = _write(base, scim, 5)
        for subscriber in subscribers:
            assert [e["resourceId"] for e in subscriber.events(5)] == third
    finally:
        for subscriber in subscribers:
            subscriber.close()
