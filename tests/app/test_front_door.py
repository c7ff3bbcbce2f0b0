"""/scim and /scim/v2 are ordinary mounts of the SCIM app: every SCIM request, Entra's
look-up included, passes the outer app's and the SCIM app's middleware."""

from urllib.parse import quote

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.conftest import TenantTokens
from tests.scim.support import create


class Recorder:
    """Middleware noting every HTTP request it sees as (method, path, decoded query)."""

    def __init__(self, app: ASGIApp, seen: list[tuple[str, str, str]]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope["query_string"].decode("latin-1")
            self.seen.append((scope["method"], scope["path"], query))
        await self.app(scope, receive, send)


def test_prefixes_reach_scim_with_their_mount_in_urls(
    client: TestClient, tenant: TenantTokens
) -> None:
    for prefix in ("/scim", "/scim/v2"):
        response = client.get(f"{prefix}/ServiceProviderConfig", headers=tenant.scim_headers())
        assert response.status_code == 200
        assert response.json()["meta"]["location"] == (
            f"http://testserver{prefix}/ServiceProviderConfig"
        )


def test_lookalike_paths_are_not_scim(client: TestClient, tenant: TenantTokens) -> None:
    response = client.get("/scimx/ServiceProviderConfig", headers=tenant.scim_headers())
    assert response.status_code == 404
    assert "application/scim+json" not in response.headers.get("content-type", "")
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize("prefix", ["/scim", "/scim/v2"])
def test_middleware_on_either_app_sees_the_entra_lookup(
    app: Starlette, tenant: TenantTokens, prefix: str
) -> None:
    outer: list[tuple[str, str, str]] = []
    inner: list[tuple[str, str, str]] = []
    app.add_middleware(Recorder, seen=outer)
    app.state.scim_app.add_middleware(Recorder, seen=inner)
    with TestClient(app) as client:
        client.headers.update(tenant.scim_headers())
        alice = create(client, "alice@contoso.com")
        outer.clear()
        inner.clear()
        expression = 'userName eq "alice@contoso.com"'
        response = client.get(f"{prefix}/Users?filter={quote(expression, safe='')}")
        assert response.status_code == 200
        assert [user["id"] for user in response.json()["Resources"]] == [alice["id"]]
        unauthenticated = client.get(
            f"{prefix}/Users?filter={quote('userName eq x', safe='')}",
            headers={"Authorization": ""},
        )
        assert unauthenticated.status_code == 401
    lookup = ("GET", f"{prefix}/Users", f"filter={quote(expression, safe='')}")
    # the outer app sees both; the SCIM app only what passed the token check around it
    assert outer == [lookup, ("GET", f"{prefix}/Users", "filter=userName%20eq%20x")]
    assert inner == [lookup]
