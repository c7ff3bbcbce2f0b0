"""Load generators: ``wrk`` (Debian package) for throughput, the asyncio client as fallback.

``ensure_wrk`` installs wrk with apt-get when it is missing and we are root; if that fails,
throughput runs use ``python_load`` instead and the table says so.
"""

import asyncio
import json
import os
import random
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.client import HttpConnection

LUA = Path(__file__).with_name("lookup.lua")


@dataclass(frozen=True, slots=True)
class Throughput:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    tool: str
    server_cpu_s: float = 0.0  # CPU the server used during the run

    @property
    def cpu_us_per_request(self) -> float:
        return 1e6 * self.server_cpu_s / self.requests if self.requests else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk(log: object = print) -> str | None:
    """Path of wrk, installing the Debian package if needed; None if unavailable."""
    found = shutil.which("wrk")
    if found or os.environ.get("BENCH_NO_WRK") == "1":
        return found if os.environ.get("BENCH_NO_WRK") != "1" else None
    if os.geteuid() == 0 and shutil.which("apt-get"):
        assert callable(log)
        log("wrk missing: installing it with apt-get (Debian package 'wrk')")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)  # type: ignore[call-overload]
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, **quiet)  # type: ignore[call-overload]
    return shutil.which("wrk")


def run_wrk(
    wrk: str,
    base_url: str,
    paths_file: Path,
    *,
    seconds: float,
    connections: int,
    token: str | None,
    seed: int,
) -> Throughput:
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(LUA),
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    command += [base_url, "--", str(paths_file), str(seed)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    for line in output.splitlines():
        if line.startswith("BENCH-JSON "):
            data = json.loads(line.removeprefix("BENCH-JSON "))
            errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
            return Throughput(
                data["requests"],
                data["duration_us"] / 1e6,
                errors,
                data["p50_us"] / 1000,
                data["p99_us"] / 1000,
                "wrk",
            )
    raise RuntimeError(f"wrk printed no summary:\n{output}")


async def _python_load(
    host: str, port: int, paths: list[str], seconds: float, connections: int, token: str | None
) -> Throughput:
    rng = random.Random(1)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        connection = await HttpConnection(host, port, token).open()
        try:
            while (start := time.perf_counter()) < deadline:
                reply = await connection.get(rng.choice(paths))
                latencies.append(time.perf_counter() - start)
                if reply.status >= 400:
                    errors += 1
        finally:
            await connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return Throughput(
        len(latencies),
        elapsed,
        errors,
        latencies[len(latencies) // 2] * 1000,
        latencies[int(len(latencies) * 0.99)] * 1000,
        "python",
    )


def python_load(
    host: str, port: int, paths: list[str], *, seconds: float, connections: int, token: str | None
) -> Throughput:
    return asyncio.run(_python_load(host, port, paths, seconds, connections, token))
