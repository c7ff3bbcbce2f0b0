"""The caller's tenant."""

import strawberry

from app.graphql_api.context import Info


@strawberry.type(description="The Blink customer the caller's token belongs to.")
class Tenant:
    slug: str
    name: str


def resolve_tenant(info: Info) -> Tenant:
    grant = info.context.grant
    return Tenant(slug=grant.tenant_slug, name=grant.tenant_name)
