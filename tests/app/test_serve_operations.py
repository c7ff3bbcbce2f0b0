"""``blink-directory serve`` as shipped: JSON request lines instead of uvicorn's access line,
the metrics of all workers on the metrics address (multiprocess mode), and with several workers
(PostgreSQL) every worker answers from the database: a revoked token is refused by all of them
once ``BLINK_TOKEN_CACHE_SECONDS`` has passed, and org figures follow every write; every worker
closes a connection whose request head is not complete by ``BLINK_HEADER_TIMEOUT_SECONDS``."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.conftest import BACKENDS

POSTGRES_ONLY = [backend for backend in BACKENDS if backend == "postgresql"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


#: How long a worker may keep answering for a revoked token (``BLINK_TOKEN_CACHE_SECONDS``).
TOKEN_CACHE_SECONDS = 1.0


def cli_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("blink-directory")), *args]


@pytest.fixture
def served(
    tmp_path: Path, database_url: str
) -> Iterator[tuple[str, str, Path, subprocess.Popen[bytes]]]:
    """``serve`` on each backend: two workers on PostgreSQL, the one SQLite serves."""
    workers = "1" if database_url.startswith("sqlite") else "2"
    port, metrics_port = free_port(), free_port()
    output = tmp_path / "out.log"
    environment = {
        **os.environ,
        "BLINK_DATABASE_URL": database_url,
        "BLINK_PORT": str(port),
        "BLINK_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
        "BLINK_LOG_FORMAT": "auto",  # a file: JSON
        "BLINK_TOKEN_CACHE_SECONDS": str(TOKEN_CACHE_SECONDS),
        "BLINK_HEADER_TIMEOUT_SECONDS": "1",
    }
    if workers != "1":
        environment["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    else:  # one worker serves its own metrics (prometheus-client reads the variable at import)
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with output.open("wb") as sink:
        process = subprocess.Popen(
            cli_command("serve", "--workers", workers),
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", process)
        yield base, f"http://127.0.0.1:{metrics_port}/metrics", output, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_logs_json_request_lines_and_serves_metrics_of_all_workers(
    served: tuple[str, str, Path, subprocess.Popen[bytes]],
) -> None:
    base, metrics_url, output, process = served
    token = re.search(rb"SCIM Secret Token \(Entra\): (\S+)", output.read_bytes())
    assert token is not None
    headers = {"Authorization": f"Bearer {token.group(1).decode()}"}
    with httpx.Client(base_url=base, headers=headers) as client:
        for number in range(20):
            response = client.get(
                "/scim/Users", params={"filter": f'userName eq "person{number}@contoso.com"'}
            )
            assert response.status_code == 200
    deadline = time.monotonic() + 20
    while True:
        scraped = httpx.get(metrics_url, timeout=5).text
        if 'blink_http_requests_total{method="GET",route="/scim/Users",status="200"} 20.0' in (
            scraped
        ):
            break
        assert time.monotonic() < deadline, scraped
        time.sleep(0.2)
    # Request lines wait in memory for a short while; a normal stop writes them all.
    process.terminate()
    process.wait(timeout=30)
    text = output.read_text()
    requests = [
        orjson.loads(line)
        for line in text.splitlines()
        if line.startswith("{") and '"event":"request"' in line
    ]
    lookups = [line for line in requests if line["route"] == "/scim/Users"]
    assert len(lookups) == 20
    assert {line["tenant"] for line in lookups} == {"default"}
    assert "contoso.com" not in text  # no query strings
    assert '"GET /scim/Users' not in text  # no uvicorn access line
    assert "Started server process" in text


def secret_of(output: Path, label: bytes) -> str:
    found = re.search(re.escape(label) + rb":\s+(\S+)", output.read_bytes())
    assert found is not None
    return found.group(1).decode()


def statuses(base: str, path: str, token: str, times: int = 24) -> list[int]:
    """``times`` requests, each on a connection of its own (so the workers share them)."""
    return [
        httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {token}"}).status_code
        for _ in range(times)
    ]


@pytest.mark.parametrize("database_url", POSTGRES_ONLY, indirect=True)
def test_every_worker_refuses_a_revoked_token_after_the_cache_window(
    served: tuple[str, str, Path, subprocess.Popen[bytes]], database_url: str
) -> None:
    base, _, output, _ = served
    deadline = time.monotonic() + 30
    while output.read_text().count("Started server process") < 2:  # both workers
        assert time.monotonic() < deadline
        time.sleep(0.1)

    def cli(*args: str) -> str:
        environment = {**os.environ, "BLINK_DATABASE_URL": database_url}
        done = subprocess.run(cli_command(*args), env=environment, capture_output=True, check=True)
        return done.stdout.decode()

    created = cli("token", "create", "--tenant", "default", "--scope", "scim")
    token_id = re.search(r"created scim token (\d+)", created)
    assert token_id is not None
    secret = created.split()[-1]
    assert set(statuses(base, "/scim/Users?count=1", secret)) == {200}  # cached by the workers
    cli("token", "revoke", token_id.group(1))
    time.sleep(TOKEN_CACHE_SECONDS + 0.5)
    assert set(statuses(base, "/scim/Users?count=1", secret)) == {401}


@pytest.mark.parametrize("database_url", POSTGRES_ONLY, indirect=True)
def test_every_worker_answers_org_figures_of_the_latest_write(
    served: tuple[str, str, Path, subprocess.Popen[bytes]],
) -> None:
    base, _, output, _ = served
    scim = secret_of(output, b"SCIM Secret Token (Entra)")
    graphql = secret_of(output, b"GraphQL bearer token")
    query = {"query": "{ orgHealth { userCount } }"}

    def user_counts() -> set[int]:
        counts = set()
        for _ in range(24):  # a connection each: both workers answer
            reply = httpx.post(
                f"{base}/graphql", json=query, headers={"Authorization": f"Bearer {graphql}"}
            )
            counts.add(reply.json()["data"]["orgHealth"]["userCount"])
        return counts

    headers = {"Authorization": f"Bearer {scim}"}
    ids = []
    for number in range(3):
        created = httpx.post(
            f"{base}/scim/Users", json={"userName": f"u{number}@contoso.com"}, headers=headers
        )
        assert created.status_code == 201
        ids.append(created.json()["id"])
        assert user_counts() == {number + 1}
    assert httpx.delete(f"{base}/scim/Users/{ids[0]}", headers=headers).status_code == 204
    assert user_counts() == {2}


def test_every_worker_cuts_off_a_slow_request_head(
    served: tuple[str, str, Path, subprocess.Popen[bytes]],
) -> None:
    """``serve`` puts uvicorn's protocol under the head deadline, in each worker process, with
    the deadline from the environment (1 s here)."""
    from tests.app.test_header_timeout import closed_while_trickling

    host, port = served[0].removeprefix("http://").split(":")
    # Several connections, so that with two workers both are (most likely) asked.
    for _ in range(4):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            received = closed_while_trickling(sock, [bytes([byte]) for byte in b"X-Slow: 12"], 1)
        assert received == b""
    # A whole head is answered as before.
    assert httpx.get(f"{served[0]}/healthz").status_code == 200
