"""Weak ETags over ``meta.version`` (RFC 7644 §3.14) and the conditional-request checks."""

from starlette.requests import Request

from scim.errors import ScimError


def weak_etag(version: int) -> str:
    return f'W/"{version}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag[:2].upper() == "W/" else tag


def etag_in(header: str, etag: str) -> bool:
    """Whether an If-Match / If-None-Match list names ``etag`` (weak comparison; ``*``)."""
    wanted = _opaque(etag)
    return any(
        candidate.strip() == "*" or _opaque(candidate) == wanted for candidate in header.split(",")
    )


def check_if_match(request: Request, version: int) -> None:
    """412 when the client's If-Match names another version than the stored one."""
    header = request.headers.get("if-match")
    if header is not None and not etag_in(header, weak_etag(version)):
        raise ScimError(412, "the resource changed: If-Match does not name its current version")


def not_modified(request: Request, version: int) -> bool:
    """True when a GET's If-None-Match names the current version (answer 304)."""
    header = request.headers.get("if-none-match")
    return header is not None and etag_in(header, weak_etag(version))
