"""Prefix dispatch sends /scim and /scim/v2 (and nothing else) to the SCIM app."""

from starlette.testclient import TestClient

from tests.conftest import TenantTokens


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
