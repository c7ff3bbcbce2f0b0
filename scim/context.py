"""Per-request context of the SCIM app: the tenant, the store and the deployment settings."""

from typing import cast

from starlette.requests import Request

from db.database import Database
from db.tokens import TokenGrant
from scim.config import ScimConfig


def grant(request: Request) -> TokenGrant:
    """The token grant ``app.auth.RequireToken`` verified for this request."""
    return cast(TokenGrant, request.state.grant)


def tenant_id(request: Request) -> int:
    return grant(request).tenant_id


def database(request: Request) -> Database:
    return cast(Database, request.app.state.database)


def config(request: Request) -> ScimConfig:
    return cast(ScimConfig, request.app.state.config)


def base_url(request: Request) -> str:
    """The SCIM base URL this request came in on (``…/scim`` or ``…/scim/v2``)."""
    root_path: str = request.scope.get("root_path", "")  # server root path + the mount
    configured = config(request).base_url
    if configured is not None:
        mount = root_path.removeprefix(request.scope.get("app_root_path", ""))
        return configured + mount
    return f"{request.url.scheme}://{request.url.netloc}{root_path}"
