"""The service as ``app.main.create_app`` builds it, plus a statement counter for the bench.

With ``BENCH_COUNT_SQL=1`` every SQL statement sent by the app's engines is counted, and
``GET /__bench/sql`` returns the count since the previous call and the statements' first
characters (and resets both). Without it the
wrapper only compares one path per request.
"""

import os
from typing import Any

import orjson
from sqlalchemy import event
from starlette.types import ASGIApp, Receive, Scope, Send

from app.main import create_app as create_service
from app.settings import Settings

COUNTER_PATH = "/__bench/sql"


class StatementCounter:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0
        self.statements: list[str] = []

    def on_execute(self, connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.count += 1
        self.statements.append(" ".join(statement.split())[:160])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == COUNTER_PATH:
            body = orjson.dumps({"statements": self.count, "sql": self.statements})
            self.count = 0
            self.statements = []
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def create_app() -> ASGIApp:
    service = create_service(Settings())
    if os.environ.get("BENCH_COUNT_SQL") != "1":
        return service
    counter = StatementCounter(service)
    database = service.state.database
    # ``engines``: PostgreSQL's read engine is an option view of the write engine and shares
    # its events, so listening on both would count each of its statements twice.
    for engine in database.engines:
        event.listen(engine, "before_cursor_execute", counter.on_execute)
    return counter
