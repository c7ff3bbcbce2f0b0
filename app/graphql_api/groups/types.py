"""The Group type and the connection that lists groups.

A ``Group`` is the store's record itself: its plain fields read the record's attributes.
"""

from collections.abc import Awaitable
from datetime import datetime

import strawberry

from app.graphql_api.activity_pages import resource_activity_field
from app.graphql_api.context import Info
from app.graphql_api.node import After, First, Node, PageInfo
from app.graphql_api.pages import Page
from app.graphql_api.user_pages import user_set_page
from app.graphql_api.users.types import UserConnection
from db.activity import ResourceType
from db.directory_groups import GroupRecord
from db.directory_lists import UserSort, group_members_set


@strawberry.type(description="A group provisioned by Entra over SCIM.")
class Group(Node):
    display_name: str
    external_id: str | None
    created: datetime = strawberry.field(name="createdAt")
    last_modified: datetime = strawberry.field(name="updatedAt")

    @classmethod
    def is_type_of(cls, obj: object, info: object) -> bool:
        return isinstance(obj, GroupRecord)

    @strawberry.field(
        description="Members of the group (active or not), by displayName.",
        graphql_type=UserConnection,
    )
    @staticmethod
    async def members(
        group: strawberry.Parent[GroupRecord], info: Info, first: First = None, after: After = None
    ) -> Page:
        members = group_members_set(info.context.tenant_id, group.id)
        return await user_set_page(info.context, members, UserSort(), first, after)

    activity = resource_activity_field(
        ResourceType.GROUP, "This group's history in the activity log, newest first."
    )


@strawberry.type
class GroupEdge:
    cursor: str
    node: Group


@strawberry.type(description="A page of groups.")
class GroupConnection:
    edges: list[GroupEdge]
    page_info: PageInfo

    @strawberry.field(
        description="Number of groups in the whole list, not just this page.", graphql_type=int
    )
    @staticmethod
    def total_count(page: strawberry.Parent[Page]) -> int | Awaitable[int]:
        return page.count()
