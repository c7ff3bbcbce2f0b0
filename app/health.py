"""Liveness and readiness probes."""

from sqlalchemy import Connection, text
from starlette.requests import Request
from starlette.responses import JSONResponse

from db.database import Database


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _select_one(connection: Connection) -> int:
    return int(connection.execute(text("SELECT 1")).scalar_one())


async def readyz(request: Request) -> JSONResponse:
    database: Database = request.app.state.database
    try:
        await database.read(_select_one)
    except Exception as error:  # any failure to reach the store means "not ready"
        return JSONResponse(
            {"status": "unavailable", "detail": type(error).__name__}, status_code=503
        )
    return JSONResponse({"status": "ok"})
