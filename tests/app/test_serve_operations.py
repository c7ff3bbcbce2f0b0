"""``blink-directory serve`` as shipped: JSON request lines instead of uvicorn's access line,
and the metrics of all workers on the metrics address (multiprocess mode)."""

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


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Path, subprocess.Popen[bytes]]]:
    port, metrics_port = free_port(), free_port()
    output = tmp_path / "out.log"
    environment = {
        **os.environ,
        "BLINK_DATABASE_URL": f"sqlite:///{tmp_path / 'directory.db'}",
        "BLINK_PORT": str(port),
        "BLINK_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
        "BLINK_LOG_FORMAT": "auto",  # a file: JSON
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("blink-directory")), "serve", "--workers", "2"],
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
