"""Prefix dispatch to the front-ends ahead of the outer router.

The SCIM and GraphQL front-ends are complete ASGI apps with their own error handling. Sending
their requests straight to them skips the outer app's exception middleware and route matching,
which the Entra look-up (~120 µs of app work per request) paid on every call.
"""

from starlette.types import ASGIApp, Receive, Scope, Send


class PrefixDispatch:
    """Middleware: requests under a mounted prefix go to its app, as ``Mount`` would send them."""

    def __init__(self, app: ASGIApp, mounts: list[tuple[str, ASGIApp]]) -> None:
        self.app = app
        # Longest prefix first, so /scim/v2 wins over /scim.
        self.mounts = sorted(mounts, key=lambda mount: len(mount[0]), reverse=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            root_path: str = scope.get("root_path", "")
            path: str = scope["path"]
            route_path = path[len(root_path) :] if path.startswith(root_path) else path
            for prefix, app in self.mounts:
                if route_path.startswith(prefix) and route_path[len(prefix) : len(prefix) + 1] in (
                    "/",
                    "",
                ):
                    child = {
                        **scope,
                        "app_root_path": scope.get("app_root_path", root_path),
                        "root_path": root_path + prefix,
                    }
                    await app(child, receive, send)
                    return
        await self.app(scope, receive, send)
