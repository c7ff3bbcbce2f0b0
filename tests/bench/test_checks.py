"""The bench's check of its bulk data against the service's own writes (``bench.checks``):
identical for the rows and events the bench builds, and it says so when they differ."""

from pathlib import Path

import pytest

from bench import history
from bench.checks import check_bulk_rows

FACTORY = "app.main:create_app"


def test_the_bulk_rows_and_events_are_what_the_service_writes(tmp_path: Path) -> None:
    found = check_bulk_rows(tmp_path, tmp_path, FACTORY)
    assert found.startswith("identical"), found
    assert "62 events compared" in found


def test_an_event_built_otherwise_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "USER_EXISTS", "a user by that name exists")
    found = check_bulk_rows(tmp_path, tmp_path, FACTORY)
    assert found.startswith("DIFFER: events"), found
    assert "a user by that name exists" in found
