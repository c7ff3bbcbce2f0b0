"""The Relay ``Node`` interface and ``PageInfo``, shared by every type that pages."""

from typing import Annotated

import strawberry

from app.graphql_api.limits import DEFAULT_FIRST, MAX_FIRST

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page size: 1 to {MAX_FIRST} (default {DEFAULT_FIRST}); outside is an error."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(description="An opaque cursor from this list: the page starts after it."),
]


@strawberry.interface(
    description="An object with a stable id (users and groups: their SCIM id; activity "
    "events: `ActivityEvent:<seq>`)."
)
class Node:
    id: strawberry.ID


@strawberry.type(description="Where a page sits in its list (Relay).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(
        description="True when the page was asked for with `after` (forward paging only)."
    )
    start_cursor: str | None
    end_cursor: str | None
