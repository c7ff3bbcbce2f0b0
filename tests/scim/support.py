"""Helpers shared by the SCIM User tests."""

from typing import Any

from starlette.testclient import TestClient

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BLINK = "urn:ietf:params:scim:schemas:extension:blink:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def create(scim: TestClient, user_name: str, **attributes: Any) -> dict[str, Any]:
    response = scim.post(
        "/scim/Users", json={"schemas": [CORE], "userName": user_name, **attributes}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def patch(scim: TestClient, user_id: str, *operations: dict[str, Any], **kwargs: Any) -> Any:
    return scim.patch(
        f"/scim/Users/{user_id}",
        json={"schemas": [PATCH_OP], "Operations": list(operations)},
        **kwargs,
    )


def patched(scim: TestClient, user_id: str, *operations: dict[str, Any]) -> dict[str, Any]:
    response = patch(scim, user_id, *operations)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert scim.get(f"/scim/Users/{user_id}").json() == body
    return body


def assert_error(response: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/scim+json"
    body: dict[str, Any] = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    if scim_type is not None:
        assert body["scimType"] == scim_type
    return body
