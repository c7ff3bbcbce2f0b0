"""ETags over meta.version (RFC 7644 §3.14): weak ETag header, If-Match 412, If-None-Match 304."""

import pytest
from starlette.testclient import TestClient

from tests.scim.support import assert_error, create, patch


def test_every_write_changes_the_version_and_the_etag_header(scim: TestClient) -> None:
    user = create(scim, "v@contoso.com")
    versions = [user["meta"]["version"]]
    response = patch(scim, user["id"], {"op": "add", "path": "title", "value": "A"})
    assert response.headers["etag"] == response.json()["meta"]["version"]
    versions.append(response.json()["meta"]["version"])
    response = scim.put(
        f"/scim/Users/{user['id']}", json={"userName": "v@contoso.com", "title": "B"}
    )
    versions.append(response.json()["meta"]["version"])
    assert len(set(versions)) == 3
    assert all(version.startswith('W/"') for version in versions)
    got = scim.get(f"/scim/Users/{user['id']}")
    assert got.headers["etag"] == versions[-1]


def test_if_none_match_with_current_version_is_304(scim: TestClient) -> None:
    user = create(scim, "cache@contoso.com")
    etag = user["meta"]["version"]
    response = scim.get(f"/scim/Users/{user['id']}", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    patch(scim, user["id"], {"op": "add", "path": "title", "value": "changed"})
    response = scim.get(f"/scim/Users/{user['id']}", headers={"If-None-Match": etag})
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_stale_if_match_is_412_and_changes_nothing(scim: TestClient, method: str) -> None:
    user = create(scim, "stale@contoso.com")
    stale = user["meta"]["version"]
    current = patch(scim, user["id"], {"op": "add", "path": "title", "value": "new"}).json()
    headers = {"If-Match": stale}
    url = f"/scim/Users/{user['id']}"
    if method == "patch":
        response = patch(
            scim, user["id"], {"op": "add", "path": "title", "value": "x"}, headers=headers
        )
    elif method == "put":
        response = scim.put(url, json={"userName": "other"}, headers=headers)
    else:
        response = scim.delete(url, headers=headers)
    assert_error(response, 412)
    assert scim.get(url).json() == current


@pytest.mark.parametrize("if_match", ["current", "*", 'W/"0", current'])
def test_matching_if_match_is_accepted(scim: TestClient, if_match: str) -> None:
    user = create(scim, "fresh@contoso.com")
    header = if_match.replace("current", user["meta"]["version"])
    response = patch(
        scim, user["id"], {"op": "add", "path": "title", "value": "x"}, headers={"If-Match": header}
    )
    assert response.status_code == 200
    strong = user["meta"]["version"].removeprefix("W/")
    response = scim.delete(f"/scim/Users/{user['id']}", headers={"If-Match": f'W/"2", {strong}'})
    assert response.status_code == 204
