"""First run: an empty directory gets tenant ``default`` and one token of each scope."""

from dataclasses import dataclass

from sqlalchemy import Connection, select

from db.tables import users
from db.tenants import count_tenants, create_tenant
from db.tokens import TokenScope, issue_token

DEFAULT_TENANT = "default"


@dataclass(frozen=True, slots=True)
class FirstRun:
    scim_secret: str
    graphql_secret: str


def bootstrap_if_empty(connection: Connection) -> FirstRun | None:
    """Create the default tenant and its tokens when no tenant exists; else do nothing."""
    if count_tenants(connection) > 0:
        return None
    create_tenant(connection, DEFAULT_TENANT, "Default tenant")
    scim = issue_token(connection, DEFAULT_TENANT, TokenScope.SCIM, "Entra provisioning")
    graphql = issue_token(connection, DEFAULT_TENANT, TokenScope.GRAPHQL, "GraphQL reader")
    return FirstRun(scim_secret=scim.secret, graphql_secret=graphql.secret)


def has_users(connection: Connection) -> bool:
    """Whether any tenant holds a user yet (an empty directory gets the demo hint)."""
    return connection.execute(select(users.c.id).limit(1)).first() is not None


def banner(base_url: str, first_run: FirstRun | None, empty: bool = False) -> str:
    lines = [
        f"SCIM tenant URL (paste into Entra): {base_url}/scim",
        f"GraphiQL:                           {base_url}/graphql",
        f"Org chart:                          {base_url}/orgchart",
    ]
    if first_run is not None:
        lines += [
            "",
            "First run: created tenant 'default'. These secrets are shown once, never again:",
            f"  SCIM Secret Token (Entra): {first_run.scim_secret}",
            f"  GraphQL bearer token:      {first_run.graphql_secret}",
        ]
    if empty:
        lines += [
            "",
            "No one in the directory yet. To see an org chart, provision a demo organisation",
            "(250 people, through the SCIM API; running it again changes nothing):",
            "  .venv/bin/blink-directory demo",
            f"then open {base_url}/orgchart with the GraphQL token.",
        ]
    return "\n".join(lines)
