"""The parameters of a Group query (GET /Groups and POST /Groups/.search), RFC 7644 §3.4.2."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scim.config import ScimConfig
from scim.errors import ScimError, ScimType
from scim.groups_render import Projection


@dataclass(frozen=True, slots=True)
class GroupQuery:
    filter: str | None
    start_index: int  # 1-based
    count: int
    sort_by: str | None
    descending: bool
    projection: Projection


def _integer(name: str, value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ScimError(400, f"{name} must be an integer", ScimType.INVALID_VALUE) from None


def _text(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ScimError(400, f"{name} must be a string", ScimType.INVALID_VALUE)
    return value


def _names(name: str, value: Any) -> str | list[str] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ScimError(400, f"{name} must be a list of attribute names", ScimType.INVALID_VALUE)


def parse_query(parameters: Mapping[str, Any], config: ScimConfig) -> GroupQuery:
    """From query-string parameters or a SearchRequest body (same names, RFC 7644 §3.4.3)."""
    start_index = max(1, _integer("startIndex", parameters.get("startIndex"), 1))
    count = _integer("count", parameters.get("count"), config.default_count)
    sort_order = (_text("sortOrder", parameters.get("sortOrder")) or "ascending").lower()
    if sort_order not in ("ascending", "descending"):
        raise ScimError(400, "sortOrder must be ascending or descending", ScimType.INVALID_VALUE)
    return GroupQuery(
        filter=_text("filter", parameters.get("filter")),
        start_index=start_index,
        count=min(max(count, 0), config.max_results),
        sort_by=_text("sortBy", parameters.get("sortBy")),
        descending=sort_order == "descending",
        projection=Projection.parse(
            _names("attributes", parameters.get("attributes")),
            _names("excludedAttributes", parameters.get("excludedAttributes")),
        ),
    )
