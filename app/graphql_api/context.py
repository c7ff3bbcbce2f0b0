"""Per-request GraphQL context: the caller's tenant and the store."""

from dataclasses import dataclass

from strawberry.types import Info as StrawberryInfo

from db.database import Database
from db.tokens import TokenGrant


@dataclass(slots=True)
class Context:
    database: Database
    # None only while rendering the static GraphiQL page, which runs no query; every request
    # that executes one passed app.auth.RequireToken and carries a grant.
    maybe_grant: TokenGrant | None

    @property
    def grant(self) -> TokenGrant:
        if self.maybe_grant is None:
            raise PermissionError("no bearer token")
        return self.maybe_grant

    @property
    def tenant_id(self) -> int:
        return self.grant.tenant_id


Info = StrawberryInfo[Context, None]
