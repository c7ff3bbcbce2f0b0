"""Where Prometheus scrapes: a separate listen address, ``BLINK_METRICS_ADDRESS``.

Metrics are not served on the API's port: they need no token, and the address is one an
operator keeps private (``127.0.0.1:9464``, or a container network Prometheus shares). With
one worker the app serves its own registry from a thread; with ``--workers N`` the ``serve``
process serves the sum of every worker's files (prometheus-client's multiprocess mode), in a
directory it empties at start.
"""

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

from app.metrics import Metrics
from db.database import Database

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None


def prepare_multiprocess_dir(workers: int) -> str | None:
    """For ``serve``: multiprocess mode with several workers, an empty directory for it."""
    if workers <= 1:
        os.environ.pop(MULTIPROCESS_DIR_VARIABLE, None)
        return None
    path = Path(multiprocess_dir() or tempfile.mkdtemp(prefix="blink-metrics-"))
    if path.exists():
        shutil.rmtree(path)  # files of an earlier run would be summed in
    path.mkdir(parents=True)
    os.environ[MULTIPROCESS_DIR_VARIABLE] = str(path)
    return str(path)


def multiprocess_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def serve_metrics(host: str, port: int, registry: CollectorRegistry) -> Any:
    """Serve ``registry`` at http://host:port/metrics from a daemon thread; returns the server."""
    server, _ = start_http_server(port, addr=host, registry=registry)
    return server


@asynccontextmanager
async def app_metrics(
    metrics: Metrics, database: Database, address: tuple[str, int] | None
) -> AsyncIterator[None]:
    """For the app's lifespan: sample the pool, and serve metrics when this process should."""
    sampler = asyncio.create_task(metrics.sample_pool_forever(database))
    server = None
    if address is not None and multiprocess_dir() is None:
        server = serve_metrics(*address, metrics.registry)
    try:
        yield
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        if server is not None:
            server.shutdown()
            server.server_close()
