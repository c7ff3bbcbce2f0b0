"""``app.request_limits``: the nesting of a JSON text, counted without parsing it."""

import orjson
import pytest

from app.request_limits import json_depth_exceeds


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [0, 1, 5, 32])
def test_depth_within_the_limit_passes(depth: int) -> None:
    assert not json_depth_exceeds(nested(depth), 32)
    assert not json_depth_exceeds(b'{"a": ' + nested(depth - 1 if depth else 0) + b"}", 32)


@pytest.mark.parametrize("depth", [33, 961, 5000])
def test_depth_over_the_limit_is_found(depth: int) -> None:
    assert json_depth_exceeds(nested(depth), 32)


def test_brackets_inside_strings_do_not_count() -> None:
    text = orjson.dumps({"filter": "(" * 100 + "[" * 100 + '\\"[{' * 50, "list": [[1], [2]]})
    assert not json_depth_exceeds(text, 4)
    assert json_depth_exceeds(orjson.dumps({"a": [[[[["[[["]]]]]}), 4)


def test_many_shallow_brackets_are_not_deep() -> None:
    operations = orjson.dumps({"Operations": [{"value": [{"value": str(n)}]} for n in range(5000)]})
    assert not json_depth_exceeds(operations, 8)
    assert json_depth_exceeds(operations, 4)
