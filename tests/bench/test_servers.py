"""The bench runs the service under the HTTP protocol ``serve`` gives uvicorn."""

from pathlib import Path

import pytest
from uvicorn.importer import import_from_string

from bench.servers import SERVE_HTTP
from tests.app.test_cli import captured_serve, run


def test_the_bench_serves_with_serves_http_protocol(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/directory.db"
    calls = captured_serve(monkeypatch, url)
    code, _, _ = run("serve", "--port", "8124", "--database-url", url)
    assert code == 0
    assert calls[0]["http"] is import_from_string(SERVE_HTTP)
