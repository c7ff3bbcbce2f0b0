"""A served app collects once at startup and freezes what exists then (``BLINK_GC_FREEZE``,
on by default), so that later full collections skip it; it unfreezes when it stops. The rest
of the suite runs with it off (tests/conftest.py), where every app would collect again."""

import gc

from starlette.testclient import TestClient

from app.main import create_app
from app.settings import Settings


def test_startup_freezes_what_exists_and_shutdown_unfreezes_it(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"gc_freeze": True}))
    before = gc.get_freeze_count()
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0


def test_turned_off_nothing_is_frozen(settings: Settings) -> None:
    assert settings.gc_freeze is False  # the suite's setting
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0
