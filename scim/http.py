"""Reading SCIM request bodies: size limit, JSON parsing, content types."""

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from scim.context import config
from scim.errors import ScimError, ScimType

T = TypeVar("T")

#: A body larger than this is decoded and parsed in a worker thread. Parsing walks every value
#: of the body (the normaliser, member by member for a group), and the event loop that every
#: other request shares must not stall while it does.
LARGE_BODY_BYTES = 64 * 1024


async def read_body(request: Request) -> bytes:
    """The raw body, refused with 413 beyond the configured limit (before reading it all)."""
    limit = config(request).max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ScimError(413, f"request body exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ScimError(413, f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; anything else is a 400 invalidSyntax.

    The content type is not checked: Entra sends application/scim+json, application/json,
    with or without a charset, and a 415 would fail its provisioning run.
    """
    return await read_parsed(request, _whole)


async def read_parsed(request: Request, parse: Callable[[dict[str, Any]], T]) -> T:
    """``parse`` applied to the body's JSON object (as ``read_json_object`` reads it): on the
    event loop for an ordinary body, in a worker thread for a large one."""
    body = await read_body(request)
    if len(body) > LARGE_BODY_BYTES:
        return await run_in_threadpool(_parse_body, body, parse)
    return _parse_body(body, parse)


def _whole(document: dict[str, Any]) -> dict[str, Any]:
    return document


def _parse_body(body: bytes, parse: Callable[[dict[str, Any]], T]) -> T:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ScimError(400, f"malformed JSON: {error}", ScimType.INVALID_SYNTAX) from None
    if not isinstance(document, dict):
        raise ScimError(400, "the request body must be a JSON object", ScimType.INVALID_SYNTAX)
    if b"\\u0000" in body and _has_nul(document):
        raise ScimError(400, "strings must not contain U+0000", ScimType.INVALID_VALUE)
    return parse(document)


def _has_nul(value: Any) -> bool:
    """PostgreSQL cannot store U+0000 in text or JSONB: refuse it up front (400, not 500)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def path_id(request: Request, name: str, resource: str) -> str:
    """A resource id from the URL path. No id contains NUL, and PostgreSQL cannot even compare
    a string that does, so such an id is answered 404 here rather than failing in the query."""
    value = str(request.path_params[name])
    if "\x00" in value:
        raise ScimError(404, f"{resource} {value!r} not found")
    return value
