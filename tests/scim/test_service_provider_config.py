"""The SCIM app's own plumbing: discovery, content type, SCIM errors for unknown paths."""

import pytest
from starlette.testclient import TestClient


@pytest.mark.parametrize("prefix", ["/scim", "/scim/v2"])
def test_service_provider_config(scim: TestClient, prefix: str) -> None:
    response = scim.get(f"{prefix}/ServiceProviderConfig")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/scim+json"
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert body["patch"] == {"supported": True}
    assert body["bulk"]["supported"] is False
    assert body["filter"]["supported"] is True
    assert body["filter"]["maxResults"] > 0
    assert body["etag"] == {"supported": True}
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    assert body["meta"]["location"] == f"http://testserver{prefix}/ServiceProviderConfig"


def test_unknown_path_is_a_scim_404(scim: TestClient) -> None:
    response = scim.get("/scim/NoSuchThing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/scim+json"
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_wrong_method_is_a_scim_405(scim: TestClient) -> None:
    response = scim.delete("/scim/ServiceProviderConfig")
    assert response.status_code == 405
    assert response.json()["status"] == "405"
