"""What the Entra match request costs when nothing is rebuilt per request: a reference point.

Not a second implementation: it answers only ``GET /scim/Users?filter=userName eq "…"``, but
with the service's real parts — token check (``app.auth.RequireToken``), store
(``db.database.Database``, inline SQLite reads), the user row statement
(``db.users.USER_WITH_MANAGER``), rendering (``scim.user_cast.render_user``) and orjson —
and one difference: the statement is built once with bound parameters, so a request neither
constructs SQL nor computes SQLAlchemy's cache key, and the filter is matched by one regular
expression. The gap between this and the service is what per-request statement building and
filter compilation cost (see the README's Performance section).
"""

import re
from typing import Any

from sqlalchemy import Connection, bindparam, func
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from app.auth import RequireToken, TokenVerifier
from app.settings import Settings
from db.database import Database
from db.tables import users
from db.tokens import TokenScope
from db.users import USER_WITH_MANAGER
from scim.context import tenant_id
from scim.errors import scim_error_response
from scim.listing import list_response
from scim.responses import ScimResponse
from scim.user_cast import render_user

USER_NAME_EQ = re.compile(r'^\s*userName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)

#: Built once; executing the same object reuses its memoised cache key and compiled form.
MATCH = (
    USER_WITH_MANAGER.where(
        users.c.tenant_id == bindparam("tenant"),
        func.lower(users.c.user_name) == func.lower(bindparam("user_name")),
    )
    .order_by(users.c.created, users.c.id)
    .limit(2)
)


def create_app() -> Starlette:
    settings = Settings()
    database = Database(settings.database_url)

    async def match(request: Request) -> Response:
        found = USER_NAME_EQ.match(request.query_params.get("filter", ""))
        if found is None:
            return scim_error_response(400, "the floor app only answers userName eq")
        parameters = {"tenant": tenant_id(request), "user_name": found.group(1)}

        def read(connection: Connection) -> list[Any]:
            return list(connection.execute(MATCH, parameters).mappings())

        rows = await database.read(read)
        base = f"{request.url.scheme}://{request.url.netloc}/scim"
        return ScimResponse(list_response([render_user(row, base) for row in rows], len(rows), 1))

    scim = RequireToken(
        Starlette(routes=[Route("/Users", match)]),
        verifier=TokenVerifier(database, settings.token_cache_seconds),
        required=TokenScope.SCIM,
        reject=lambda status, detail: scim_error_response(status, detail),
    )
    return Starlette(routes=[Mount("/scim", scim)])
