"""Request bodies: size limit (413), malformed JSON (400 invalidSyntax), content types."""

import orjson
import pytest
from starlette.testclient import TestClient

import app.request_limits as request_limits
import db.groups as group_store
import scim.groups as groups_routes
import scim.root_search as root_search
from app.main import create_app
from app.request_limits import SCAN_IN_THREAD_BYTES
from app.settings import Settings
from db.database import Database
from scim.http import LARGE_BODY_BYTES
from scim.urns import SEARCH_REQUEST
from tests.conftest import TenantTokens
from tests.scim.groups_support import GROUP_SCHEMA, make_users, member_ids, members, patch
from tests.scim.support import assert_error, create
from tests.threads import record_where


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


def test_large_group_bodies_are_parsed_in_a_worker_thread(
    scim: TestClient, database: Database, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsing walks every member: a large body is parsed off the event loop, which every
    other request shares; an ordinary one on it, without a thread's hand-over."""
    ids = make_users(database, tenant.slug, 2_000)
    created_on_loop = record_where(monkeypatch, groups_routes, "parse_group")
    patched_on_loop = record_where(monkeypatch, groups_routes, "plan_group_patch")
    body = {"schemas": [GROUP_SCHEMA], "displayName": "Everyone", "members": members(*ids)}
    assert len(orjson.dumps(body)) > LARGE_BODY_BYTES
    group = scim.post("/scim/Groups", json=body)
    assert group.status_code == 201
    small = scim.post("/scim/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "Few"})
    assert small.status_code == 201
    assert created_on_loop == [False, True]

    url = f"/scim/Groups/{group.json()['id']}"
    replace = patch({"op": "replace", "path": "members", "value": members(*ids[500:])})
    assert len(orjson.dumps(replace)) > LARGE_BODY_BYTES
    assert scim.patch(url, json=replace).status_code == 200
    add = patch({"op": "add", "path": "members", "value": members(*ids[:2])})
    assert scim.patch(url, json=add).status_code == 200
    assert patched_on_loop == [False, True]
    assert member_ids(scim.get(url).json()) == sorted(ids[:2] + ids[500:])


def test_large_bad_bodies_get_the_same_answers(
    scim: TestClient, database: Database, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker thread's answers are the loop's: 400 with the same scimType, nothing stored.
    The depth scan of a large body runs in a thread too."""
    ids = make_users(database, tenant.slug, 1_500)
    scanned_on_loop = record_where(monkeypatch, request_limits, "json_depth_exceeds")
    listed = orjson.dumps(members(*ids))
    assert len(listed) > max(LARGE_BODY_BYTES, SCAN_IN_THREAD_BYTES)
    broken = b'{"displayName": "Broken", "members": ' + listed
    assert_error(scim.post("/scim/Groups", content=broken), 400, "invalidSyntax")
    with_nul = b'{"displayName": "N\\u0000", "members": ' + listed + b"}"
    assert_error(scim.post("/scim/Groups", content=with_nul), 400, "invalidValue")
    unknown = b'{"displayName": "Unknown", "members": ' + listed[:-1] + b',{"value": "nobody"}]}'
    assert scim.post("/scim/Groups", content=unknown).status_code in (400, 404)
    deep = b'{"displayName": "Deep", "members": ' + listed + b', "x": ' + b"[" * 40
    deep += b"]" * 40 + b"}"
    error = assert_error(scim.post("/scim/Groups", content=deep), 400, "invalidSyntax")
    assert "nested" in error["detail"]
    assert scanned_on_loop == [False, False, False, False]
    assert scim.get("/scim/Groups").json()["totalResults"] == 0


def test_a_large_groups_members_are_read_and_rendered_in_a_worker_thread(
    scim: TestClient, database: Database, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Megabytes of members leave the event loop; a short list, or none, stays on it."""
    ids = make_users(database, tenant.slug, 2_000)
    large = scim.post(
        "/scim/Groups?excludedAttributes=members",
        json={"schemas": [GROUP_SCHEMA], "displayName": "Large", "members": members(*ids)},
    )
    small = scim.post(
        "/scim/Groups?excludedAttributes=members",
        json={"schemas": [GROUP_SCHEMA], "displayName": "Small", "members": members(*ids[:3])},
    )
    read_on_loop = record_where(monkeypatch, group_store, "get_group")
    rendered_on_loop = record_where(monkeypatch, groups_routes, "render_group")
    got = scim.get(f"/scim/Groups/{large.json()['id']}")
    assert member_ids(got.json()) == sorted(ids)
    assert member_ids(scim.get(f"/scim/Groups/{small.json()['id']}").json()) == sorted(ids[:3])
    bare = scim.get(f"/scim/Groups/{large.json()['id']}?excludedAttributes=members")
    assert "members" not in bare.json()
    assert read_on_loop == [False, False, True]  # members asked for: read in a thread
    assert rendered_on_loop == [False, False, True]  # and rendered in that same thread
    replaced = scim.put(
        f"/scim/Groups/{small.json()['id']}",
        json={"schemas": [GROUP_SCHEMA], "displayName": "Small", "members": members(*ids)},
    )
    assert member_ids(replaced.json()) == sorted(ids)
    assert rendered_on_loop[3:] == [False]


def test_pages_of_groups_other_than_entras_look_up_are_read_and_encoded_in_a_worker_thread(
    scim: TestClient, database: Database, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page with members grows with its groups, one without a filter with the tenant's
    groups: read, rendered and encoded off the event loop. Entra's look-up (a filter, members
    excluded) stays on it."""
    ids = make_users(database, tenant.slug, 500)
    for name, listed in (("Large", ids), ("Small", ids[:2])):
        created = scim.post(
            "/scim/Groups?excludedAttributes=members",
            json={"schemas": [GROUP_SCHEMA], "displayName": name, "members": members(*listed)},
        )
        assert created.status_code == 201
    read_on_loop = record_where(monkeypatch, group_store, "list_groups")
    encoded_on_loop = record_where(monkeypatch, groups_routes, "ScimResponse")
    everything = scim.get("/scim/Groups").json()
    assert [member_ids(group) for group in everything["Resources"]] == [
        sorted(ids),
        sorted(ids[:2]),
    ]
    look_up = {"filter": 'displayName eq "Large"', "excludedAttributes": "members"}
    [found] = scim.get("/scim/Groups", params=look_up).json()["Resources"]
    assert (found["displayName"], "members" in found) == ("Large", False)
    with_members = scim.get("/scim/Groups", params={"filter": 'displayName eq "Small"'})
    assert member_ids(with_members.json()["Resources"][0]) == sorted(ids[:2])
    names = scim.get("/scim/Groups", params={"excludedAttributes": "members"}).json()
    assert [group["displayName"] for group in names["Resources"]] == ["Large", "Small"]
    searched = scim.post(
        "/scim/Groups/.search",
        json={"schemas": [SEARCH_REQUEST], "filter": 'displayName eq "Large"'},
    )
    assert member_ids(searched.json()["Resources"][0]) == sorted(ids)
    assert read_on_loop == [False, True, False, False, False]
    assert encoded_on_loop == read_on_loop
    # A search across resource types encodes the groups' members off the loop too.
    root_encoded_on_loop = record_where(monkeypatch, root_search, "ScimResponse")
    for name, listed in (("Large", ids), ("Small", ids[:2])):
        everywhere = scim.post(
            "/scim/.search",
            json={"schemas": [SEARCH_REQUEST], "filter": f'displayName eq "{name}"'},
        )
        assert [member_ids(found) for found in everywhere.json()["Resources"]] == [sorted(listed)]
    assert root_encoded_on_loop == [False, True]


def test_a_small_patch_that_asks_for_a_large_groups_members_runs_in_a_worker_thread(
    scim: TestClient, database: Database, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its answer holds every member: the write and its read back run off the event loop.
    Without members in the answer, a small PATCH stays on the loop."""
    ids = make_users(database, tenant.slug, 2_000)
    group = scim.post(
        "/scim/Groups?excludedAttributes=members",
        json={"schemas": [GROUP_SCHEMA], "displayName": "Large", "members": members(*ids[1:])},
    ).json()
    read_on_loop = record_where(monkeypatch, group_store, "get_group")
    add = patch({"op": "add", "path": "members", "value": members(ids[0])})
    url = f"/scim/Groups/{group['id']}"
    answered = scim.patch(f"{url}?attributes=members", json=add)
    assert member_ids(answered.json()) == sorted(ids)
    remove = patch({"op": "remove", "path": f'members[value eq "{ids[0]}"]'})
    assert "members" not in scim.patch(url, json=remove).json()
    assert read_on_loop == [False, False, True, True]  # the group locked, then read back
