"""Group queries: one group by id or displayName, and a page of groups."""

from functools import partial

import strawberry

from app.graphql_api.context import Info
from app.graphql_api.errors import ApiError
from app.graphql_api.groups.types import Group, GroupConnection, groups_connection
from app.graphql_api.node import After, First
from db.directory_groups import group_by_display_name


@strawberry.input(description="Narrows the groups listed.")
class GroupFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of displayName."
    )


@strawberry.type
class GroupQueries:
    @strawberry.field(
        description="A group by id or by displayName (case-insensitive): exactly one of them."
    )
    async def group(
        self, info: Info, id: strawberry.ID | None = None, display_name: str | None = None
    ) -> Group | None:
        if (id is None) == (display_name is None):
            raise ApiError("give exactly one of id and displayName")
        loaders = info.context.loaders
        if id is not None:
            record = await loaders.group.load(str(id))
        else:
            assert display_name is not None
            record = await loaders.read(
                partial(
                    group_by_display_name,
                    tenant_id=info.context.tenant_id,
                    display_name=display_name,
                )
            )
        return None if record is None else Group.of(record)

    @strawberry.field(description="Groups of the tenant, by displayName.")
    async def groups(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: GroupFilter | None = None,
    ) -> GroupConnection:
        search = filter.search if filter is not None else None
        return await groups_connection(info, search, first, after)
