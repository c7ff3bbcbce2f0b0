"""List and search requests (RFC 7644 §3.4.2, §3.4.3): paging, sorting, ListResponse.

``ListQuery`` is read from a GET's query string or a ``.search`` body; both give the same
object, so one code path serves ``GET /Users`` and ``POST /Users/.search``. Unknown query
parameters (Entra's ``aadOptscim062020``) are ignored.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scim import urns
from scim.errors import ScimError, ScimType
from scim.projection import Projection, make_projection
from scim.schema_model import ResourceTypeDef

#: Larger startIndex values are clamped: they are past the end anyway, and an OFFSET beyond
#: 64 bits would be a database error.
MAX_START_INDEX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ListQuery:
    filter: str | None
    sort_by: str | None
    descending: bool
    start_index: int  # 1-based, as echoed in the response
    count: int
    projection: Projection

    @property
    def offset(self) -> int:
        return self.start_index - 1


def _integer(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ScimError(400, f"{name} must be an integer", ScimType.INVALID_VALUE)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ScimError(400, f"{name} must be an integer, not {value!r}", ScimType.INVALID_VALUE)


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScimError(400, f"{name} must be a string", ScimType.INVALID_VALUE)
    return value if value.strip() else None


def make_list_query(
    resource_type: ResourceTypeDef,
    parameters: Mapping[str, Any],
    *,
    default_count: int,
    max_results: int,
) -> ListQuery:
    """Validate paging/sorting/projection parameters; the names are matched exactly as
    RFC 7644 spells them, the way every client sends them."""
    start = _integer(parameters.get("startIndex"), "startIndex")
    count = _integer(parameters.get("count"), "count")
    order = _text(parameters.get("sortOrder"), "sortOrder")
    if order is not None and order.lower() not in ("ascending", "descending"):
        raise ScimError(
            400, "sortOrder must be 'ascending' or 'descending'", ScimType.INVALID_VALUE
        )
    return ListQuery(
        filter=_text(parameters.get("filter"), "filter"),
        sort_by=_text(parameters.get("sortBy"), "sortBy"),
        descending=order is not None and order.lower() == "descending",
        # < 1 means 1 (§3.4.2.4); beyond any possible table means "past the end"
        start_index=min(max(1, start if start is not None else 1), MAX_START_INDEX),
        count=min(max(0, count if count is not None else default_count), max_results),
        projection=make_projection(
            resource_type, parameters.get("attributes"), parameters.get("excludedAttributes")
        ),
    )


def check_search_request(body: Mapping[str, Any]) -> None:
    schemas = body.get("schemas")
    if schemas is not None and (
        not isinstance(schemas, list) or urns.SEARCH_REQUEST not in schemas
    ):
        raise ScimError(
            400,
            f"a search request must have schemas [{urns.SEARCH_REQUEST!r}]",
            ScimType.INVALID_SYNTAX,
        )


def list_response(resources: list[dict[str, Any]], total: int, start_index: int) -> dict[str, Any]:
    return {
        "schemas": [urns.LIST_RESPONSE],
        "totalResults": total,
        "Resources": resources,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
    }
