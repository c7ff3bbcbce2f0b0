"""GraphQL over WebSocket on /graphql: the graphql-transport-ws protocol only, with the token
in the ``connection_init`` payload or the upgrade request's ``Authorization`` header.

Browsers cannot set headers on a WebSocket, so the payload ``{"Authorization": "Bearer …"}``
is the usual way; it wins over the header. The legacy ``graphql-ws`` protocol is not offered
(older strawberry releases let its clients subscribe before authenticating). A missing,
unknown or revoked token closes the socket with 4401, a token of another scope with 4403.
strawberry closes a rejected connection with 4403 whatever the reason, so ``CloseCodes``
(around this app) puts the code and reason decided here on that close message.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import orjson
import strawberry
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from app.graphql_api.context import Context
from app.graphql_api.live_feeds import LiveFeeds, LiveSession
from app.graphql_api.org_cache import OrgMetricsCache
from db.database import Database
from db.tokens import TokenGrant, TokenScope

#: The ASGI state key a rejection decided by ``on_ws_connect`` is left under.
REJECTION = "live_rejection"
UNAUTHORIZED = 4401
FORBIDDEN = 4403


@dataclass(frozen=True, slots=True)
class Rejection:
    code: int
    reason: str


def bearer(value: object) -> str | None:
    """The token of a ``Bearer <token>`` value, or None."""
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


class LiveGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: strawberry.Schema,
        database: Database,
        org_cache: OrgMetricsCache,
        feeds: LiveFeeds,
        verify: Callable[[str], Awaitable[TokenGrant | None]],
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        self.database = database
        self.org_cache = org_cache
        self.feeds = feeds
        self.verify = verify

    async def get_context(self, request: Any, response: Any) -> Context:
        websocket = cast(WebSocket, request)
        session = LiveSession(
            self.feeds,
            self.verify,
            header_token=bearer(websocket.headers.get("authorization")),
            state=websocket.scope.setdefault("state", {}),
        )
        context = Context(database=self.database, maybe_grant=None, org_cache=self.org_cache)
        context.live = session
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        session = context.live
        assert session is not None  # set by get_context
        params = context.connection_params or {}
        secret = bearer(params.get("Authorization", params.get("authorization")))
        secret = secret or session.header_token
        grant = None if secret is None else await self.verify(secret)
        if grant is None:
            reason = "a bearer token is required" if secret is None else "unknown or revoked token"
            session.state[REJECTION] = Rejection(UNAUTHORIZED, reason)
            raise ConnectionRejectionError
        if grant.scope != TokenScope.GRAPHQL:
            reason = f"this token has scope {grant.scope.value!r}; 'graphql' is required here"
            session.state[REJECTION] = Rejection(FORBIDDEN, reason)
            raise ConnectionRejectionError
        context.maybe_grant = grant
        session.secret = secret
        return cast(UnsetType, UNSET)

    def encode_json(self, data: object) -> str:
        # A str: strawberry sends bytes as binary frames, and graphql-transport-ws clients
        # (the browser's graphql-ws among them) read only text frames as messages.
        return orjson.dumps(data).decode()


class CloseCodes:
    """ASGI wrapper: the close of a rejected connection carries the rejection's code and
    reason (strawberry sends 4403 "Forbidden" for every rejection)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})

        async def send_with_code(message: Message) -> None:
            rejection = state.get(REJECTION)
            if message["type"] == "websocket.close" and isinstance(rejection, Rejection):
                message = {**message, "code": rejection.code, "reason": rejection.reason}
            await send(message)

        await self.app(scope, receive, send_with_code)
