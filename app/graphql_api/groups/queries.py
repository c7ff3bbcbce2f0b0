"""Group queries: one group by id or displayName, and a page of groups."""

from functools import partial

import strawberry

from app.graphql_api.context import Info
from app.graphql_api.errors import ApiError
from app.graphql_api.group_pages import groups_page_of_tenant
from app.graphql_api.groups.types import Group, GroupConnection
from app.graphql_api.limits import checked_search
from app.graphql_api.node import After, First
from app.graphql_api.pages import Page
from db.directory_groups import GroupRecord, group_by_display_name


@strawberry.input(description="Narrows the groups listed.")
class GroupFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of displayName."
    )


@strawberry.type
class GroupQueries:
    @strawberry.field(
        description="A group by id or by displayName (case-insensitive): exactly one of them.",
        graphql_type=Group | None,
    )
    @staticmethod
    async def group(
        info: Info, id: strawberry.ID | None = None, display_name: str | None = None
    ) -> GroupRecord | None:
        if (id is None) == (display_name is None):
            raise ApiError("give exactly one of id and displayName")
        loaders = info.context.loaders
        if id is not None:
            return await loaders.group.load(str(id))
        assert display_name is not None
        return await loaders.read(
            partial(
                group_by_display_name,
                tenant_id=info.context.tenant_id,
                display_name=display_name,
            )
        )

    @strawberry.field(
        description="Groups of the tenant, by displayName.", graphql_type=GroupConnection
    )
    @staticmethod
    async def groups(
        info: Info,
        first: First = None,
        after: After = None,
        filter: GroupFilter | None = None,
    ) -> Page:
        search = checked_search(filter.search if filter is not None else None)
        return await groups_page_of_tenant(info.context, search, first, after)
