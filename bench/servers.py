"""Real servers for the benchmark: uvicorn subprocesses, the same flags for all (one worker
unless a figure asks for more).

The service runs as shipped: with the request log on, configured the way ``blink-directory
serve`` configures logging (JSON lines; here into the server's log file under ``.bench/logs``),
uvicorn's access line off, and under ``serve``'s HTTP protocol (``SERVE_HTTP``: uvicorn's own
with a deadline for each request head). Two differences: the rate limit is off (the load
generator drives every request with one token, which the limit exists to stop), and so is the
activity log's retention: the bench's log (``bench.history``) is dated from a fixed day, and
the service would start pruning it once that day is older than the retention period,
changing the database under the bench and away from the floor's copy.
"""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.cli import WORKER_HEALTHCHECK_SECONDS
from app.logging_setup import logging_config

HOST = "127.0.0.1"
UVICORN_FLAGS = ["--log-level", "info", "--no-access-log"]
#: The HTTP protocol ``serve`` gives uvicorn (``app.cli``).
SERVE_HTTP = "app.header_timeout:HeaderTimeoutProtocol"
#: The environment ``serve`` would run with, apart from the rate limit and the retention
#: (see above).
AS_SHIPPED = {
    "BLINK_LOG_LEVEL": "info",
    "BLINK_LOG_FORMAT": "json",
    "BLINK_REQUEST_LOG": "true",
    "BLINK_RATE_LIMIT_PER_SECOND": "0",
    "BLINK_ACTIVITY_RETENTION_DAYS": "0",
}


def log_config_file(directory: Path) -> Path:
    """``serve``'s logging configuration as a file for ``uvicorn --log-config``."""
    path = directory / "log-config.json"
    path.write_text(json.dumps(logging_config("info", "json")))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    port: int
    pid: int

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def status(self, field: str) -> int:
        """A ``/proc/<pid>/status`` memory field in kB (VmHWM = peak RSS, VmRSS = now)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def cpu_seconds(self) -> float:
        """User + system CPU time the server (with its worker processes, if any) has used so
        far (robust on a busy machine)."""
        return sum(_cpu_seconds(pid) for pid in self.processes())

    def processes(self) -> list[int]:
        """The server's process and its worker processes (``--workers N``)."""
        return [self.pid, *_children(self.pid)]

    def connections(self) -> dict[int, int]:
        """Established TCP connections to the server's port held by each of its processes."""
        inodes = _established_inodes(self.port)
        held: dict[int, int] = {}
        for pid in self.processes():
            count = 0
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    count += 1
            if count:
                held[pid] = count
        return held

    def peak_rss_mb(self) -> float:
        return self.status("VmHWM") / 1024

    def rss_mb(self) -> float:
        return self.status("VmRSS") / 1024


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """uvicorn's worker processes (``--workers N``): the children of its parent process."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of the established TCP connections whose local port is ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                found.add(fields[9])
    return found


#: How long a server may take to start listening. The floor loads the 100,000-person org, its
#: groups and its log before it listens (about 18 s on the development machine): a machine a
#: few times slower must still finish the run.
STARTUP_SECONDS = 180


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on port {port} within {timeout} s")


@contextmanager
def serve(
    name: str,
    factory: str,
    env: dict[str, str] | None = None,
    log_dir: Path | None = None,
    workers: int = 1,
    http: str | None = None,
) -> Iterator[Server]:
    """Run ``uvicorn --factory <factory> --workers <workers>`` until the block ends;
    ``http``: uvicorn's HTTP protocol class (an import string), else its own."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", HOST]
    command += ["--port", str(port), "--workers", str(workers), *UVICORN_FLAGS]
    if http is not None:
        command += ["--http", http]
    if workers > 1:
        # As ``serve`` does: uvicorn's 5 s default replaces workers still starting on a busy host.
        command += ["--timeout-worker-healthcheck", str(WORKER_HEALTHCHECK_SECONDS)]
    if log_dir:
        command += ["--log-config", str(log_config_file(log_dir))]
    log = (log_dir / f"{name}.log").open("wb") if log_dir else subprocess.DEVNULL
    process = subprocess.Popen(
        command,
        env={**os.environ, **AS_SHIPPED, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_listening(port, process, timeout=STARTUP_SECONDS)
        yield Server(name, port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_dir:
            log.close()  # type: ignore[union-attr]
