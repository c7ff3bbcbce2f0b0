"""Opaque cursors: a keyset position, tagged with what it was sorted by, in base64url JSON."""

import base64
import binascii
from typing import Any

import orjson

from app.graphql_api.errors import ApiError


def encode_cursor(kind: str, key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([kind, *key])).decode("ascii").rstrip("=")


def decode_cursor(kind: str, cursor: str) -> list[Any]:
    """The key inside ``cursor``; ApiError unless it is a cursor of this ``kind`` of list."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        decoded = None
    if not (isinstance(decoded, list) and decoded and decoded[0] == kind):
        raise ApiError("invalid cursor for this list")
    return decoded[1:]
