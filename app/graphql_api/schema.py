"""The GraphQL schema: one Query type assembled from the per-domain modules."""

import strawberry

from app.graphql_api.tenant import Tenant, resolve_tenant


@strawberry.type
class Query:
    tenant: Tenant = strawberry.field(
        resolver=resolve_tenant, description="The tenant of the token that sent this query."
    )


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query)
