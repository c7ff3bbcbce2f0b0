"""The GraphQL schema: one Query type assembled from the per-domain modules, with limits."""

from collections.abc import Callable

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.tools import merge_types

from app.graphql_api.activity.queries import ActivityQueries
from app.graphql_api.activity.types import ActivityEvent
from app.graphql_api.cost import cost_errors
from app.graphql_api.document_caches import (
    RuledValidationCache,
    TokenLimitedParserCache,
    ValidatedDocuments,
)
from app.graphql_api.groups.queries import GroupQueries
from app.graphql_api.groups.types import Group
from app.graphql_api.identity_cache import DOCUMENTS_KEPT
from app.graphql_api.limits import MAX_ALIASES, MAX_QUERY_DEPTH, MAX_TOKENS
from app.graphql_api.live.subscriptions import LiveSubscriptions
from app.graphql_api.observability import ObservingMaskErrors
from app.graphql_api.org.queries import OrgQueries
from app.graphql_api.tenant import Tenant, resolve_tenant
from app.graphql_api.users.queries import UserQueries
from app.graphql_api.users.types import User


@strawberry.type
class TenantQueries:
    tenant: Tenant = strawberry.field(
        resolver=resolve_tenant, description="The tenant of the token that sent this query."
    )


Query = merge_types(
    "Query", (TenantQueries, UserQueries, OrgQueries, GroupQueries, ActivityQueries)
)


# The depth and alias limiters each create a new validation-rule class when constructed, and
# the validation cache is keyed by the rule classes: built per request, every request would
# miss the cache. So they are built once.
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_QUERY_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


def build_schema(*, debug: bool = False) -> strawberry.Schema:
    # Factories: strawberry builds fresh extensions per request; the parser cache lives at
    # module level, the validation verdicts in this schema's store, shared by all requests.
    validated = ValidatedDocuments(LIMIT_RULES, kept=DOCUMENTS_KEPT)
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: TokenLimitedParserCache(max_tokens=MAX_TOKENS, maxsize=DOCUMENTS_KEPT),
        lambda: RuledValidationCache(validated, checks=(cost_errors,)),
    ]
    # Unexpected errors are masked (unless debugging), after the request log has read them.
    extensions.append(lambda: ObservingMaskErrors(mask=not debug))
    return strawberry.Schema(
        query=Query,
        subscription=LiveSubscriptions,
        types=[User, Group, ActivityEvent],
        extensions=extensions,
    )


def schema_sdl() -> str:
    """The schema in SDL, as committed in graphql/schema.graphql."""
    return build_schema().as_str() + "\n"
