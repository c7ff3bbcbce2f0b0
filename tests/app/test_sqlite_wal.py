"""The SQLite WAL stays bounded under an Entra-style initial sync over real HTTP.

The sync is the benchmark's (``bench.scim_load``: per user a match GET, a POST and a manager
PATCH, over 8 connections) against a real uvicorn server. Before the WAL could start over it
grew by about 100 kB per user whatever the checkpoints did (310 MB after 3,000 users, 1 GB
after 10,000). The test runs 1,000 users, which kept that way would leave about 90 MB, and
requires the file never to pass 32 MB at any point: a bound set by the writes between two
checkpoints, not by the size of the sync, so it holds for 10,000 users as well (measured in
docs/performance.md) without making the suite wait for one.
"""

import shutil
import threading
from pathlib import Path

from app.settings import Settings
from bench.dataset import generate
from bench.scim_load import sync
from db.database import Database
from db.tenants import create_tenant
from db.tokens import TokenScope, issue_token
from tests.live_server import live_server

USERS = 1_000
BOUND = 32 * 1024 * 1024


def test_the_wal_stays_bounded_under_an_entra_style_sync(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "directory.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    database = Database(url)
    try:
        database.write_sync(lambda c: create_tenant(c, "acme"))
        token = database.write_sync(lambda c: issue_token(c, "acme", TokenScope.SCIM)).secret
    finally:
        database.dispose()
    wal = Path(f"{path}-wal")
    largest = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal largest
        while not done.wait(0.01):
            if wal.exists():
                largest = max(largest, wal.stat().st_size)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    org = generate(USERS, 0)
    try:
        with live_server(Settings(database_url=url)) as base:
            host, port = base.removeprefix("http://").split(":")
            result = sync(host, int(port), token, "/scim", org, connections=8)
    finally:
        done.set()
        watcher.join()
    assert result.errors == 0, result.first_error
    with_manager = sum(1 for person in org.people if person.manager_index is not None)
    assert result.requests == 2 * USERS + with_manager
    assert 0 < largest < BOUND
