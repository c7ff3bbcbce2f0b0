"""Request bodies: size limit (413), malformed JSON (400 invalidSyntax), content types."""

import pytest
from starlette.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import TenantTokens
from tests.scim.support import assert_error, create


def test_body_over_the_limit_is_413(settings: Settings, tenant: TenantTokens) -> None:
    small = settings.model_copy(update={"max_body_bytes": 2048})
    with TestClient(create_app(small), headers=tenant.scim_headers()) as scim:
        big = {"userName": "big@contoso.com", "description": "x" * 4096}
        assert_error(scim.post("/scim/Users", json=big), 413)
        chunked = scim.post("/scim/Users", content=iter([b'{"userName": "', b"y" * 4096, b'"}']))
        assert_error(chunked, 413)
        assert scim.get("/scim/Users").json()["totalResults"] == 0
        assert scim.post("/scim/Users", json={"userName": "small@contoso.com"}).status_code == 201


def test_the_default_limit_is_one_mebibyte(scim: TestClient) -> None:
    body = b'{"userName": "' + b"z" * (1024 * 1024) + b'"}'
    assert_error(scim.post("/scim/Users", content=body), 413)


@pytest.mark.parametrize(
    "body", [b"{", b"", b"[1, 2]", b'"text"', b"\xff\xfe", b'{"userName": "a",}']
)
def test_malformed_json_is_invalid_syntax(scim: TestClient, body: bytes) -> None:
    assert_error(scim.post("/scim/Users", content=body), 400, "invalidSyntax")
    user = create(scim, f"m{len(body)}{body[:1]!r}@contoso.com")
    assert_error(scim.patch(f"/scim/Users/{user['id']}", content=body), 400, "invalidSyntax")
    assert_error(scim.put(f"/scim/Users/{user['id']}", content=body), 400, "invalidSyntax")
    assert scim.get(f"/scim/Users/{user['id']}").json() == user


def test_responses_are_scim_json_whatever_the_accept_header(scim: TestClient) -> None:
    for accept in ("application/json", "application/scim+json", "*/*", "text/html"):
        response = scim.get("/scim/Users", headers={"Accept": accept})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/scim+json"


def test_nul_characters_are_400_not_500(scim: TestClient) -> None:
    body = assert_error(
        scim.post("/scim/Users", content=b'{"userName": "nul\\u0000@contoso.com"}'), 400
    )
    assert body["scimType"] == "invalidValue"
    user = create(scim, "clean@contoso.com")
    response = scim.patch(
        f"/scim/Users/{user['id']}",
        content=b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
        b'"Operations": [{"op": "add", "path": "roles", "value": [{"v\\u0000": "x"}]}]}',
    )
    assert_error(response, 400, "invalidValue")
    assert scim.get(f"/scim/Users/{user['id']}").json() == user
    listed = scim.get("/scim/Users", params={"filter": 'userName eq "a\u0000b"'})
    assert_error(listed, 400, "invalidFilter")
