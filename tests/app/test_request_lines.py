"""JSON request lines are written in batches: on a timer, at once for failures, at shutdown."""

import asyncio
import io

import orjson
import pytest
from starlette.testclient import TestClient

from app.request_lines import JsonLines
from app.settings import Settings
from tests.app.log_capture import CapturedLog, app_logging_to


def memory_lines(**options: float) -> tuple[JsonLines, io.BytesIO]:
    raw = io.BytesIO()
    return JsonLines(io.TextIOWrapper(raw, write_through=True), "info", **options), raw


def statuses(raw: io.BytesIO) -> list[int]:
    return [orjson.loads(line)["status"] for line in raw.getvalue().splitlines()]


def test_info_lines_wait_for_the_timer_of_their_batch() -> None:
    lines, raw = memory_lines(flush_seconds=0.05)

    async def serve() -> list[int]:
        lines.write("info", {"status": 200}, None)
        lines.write("info", {"status": 201}, None)
        waiting = statuses(raw)
        await asyncio.sleep(0.2)
        return waiting

    assert asyncio.run(serve()) == []
    assert statuses(raw) == [200, 201]


def test_a_failure_is_written_at_once_after_the_lines_before_it() -> None:
    lines, raw = memory_lines(flush_seconds=60)

    async def serve() -> None:
        lines.write("info", {"status": 200}, None)
        lines.write("warning", {"status": 404}, None)
        assert statuses(raw) == [200, 404]
        lines.write("info", {"status": 204}, None)
        lines.write("error", {"status": 500}, RuntimeError("boom"))
        assert statuses(raw) == [200, 404, 204, 500]

    asyncio.run(serve())


def test_a_full_batch_is_written_at_once() -> None:
    lines, raw = memory_lines(flush_seconds=60, max_batch_bytes=1000)

    async def serve() -> None:
        for number in range(50):
            lines.write("info", {"status": 200, "number": number}, None)

    asyncio.run(serve())
    written = len(statuses(raw))
    assert 0 < written < 50  # the batches that filled up; the last one waits
    lines.flush()
    assert len(statuses(raw)) == 50


def test_without_an_event_loop_each_line_is_written_at_once() -> None:
    lines, raw = memory_lines()
    lines.write("info", {"status": 200}, None)
    assert statuses(raw) == [200]


def test_a_batch_whose_loop_is_gone_is_written_with_the_next_line() -> None:
    lines, raw = memory_lines(flush_seconds=0.01)

    async def one_request() -> None:
        lines.write("info", {"status": 200}, None)

    asyncio.run(one_request())  # the loop ends before the timer fires
    assert statuses(raw) == []

    async def later_request() -> None:
        await asyncio.sleep(0.05)
        lines.write("info", {"status": 201}, None)

    asyncio.run(later_request())
    assert statuses(raw) == [200, 201]


@pytest.fixture
def log() -> CapturedLog:
    return CapturedLog()


def test_the_app_writes_waiting_lines_when_it_shuts_down(
    log: CapturedLog, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    app = app_logging_to(log, monkeypatch, settings)
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
    # read the stream itself, not through CapturedLog.text(), which flushes first
    requests = [orjson.loads(line) for line in log.raw.getvalue().splitlines()]
    assert [line["route"] for line in requests] == ["/healthz"] * 3
