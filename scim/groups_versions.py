"""ETags of groups (``W/"<version>"``) and the If-Match / If-None-Match preconditions."""

from starlette.requests import Request

from scim.errors import ScimError


def etag(version: int) -> str:
    return f'W/"{version}"'


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _matches(header: str, version: int) -> bool:
    tags = _tags(header)
    return "*" in tags or f'"{version}"' in tags


def check_if_match(request: Request, version: int) -> None:
    """412 when the client's If-Match names another version of the group."""
    header = request.headers.get("if-match")
    if header is not None and not _matches(header, version):
        raise ScimError(412, "the group was changed since it was read (If-Match failed)")


def not_modified(request: Request, version: int) -> bool:
    """True when If-None-Match already names the current version (answer 304)."""
    header = request.headers.get("if-none-match")
    return header is not None and _matches(header, version)
