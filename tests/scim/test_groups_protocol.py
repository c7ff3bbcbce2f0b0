"""/Groups beyond Entra's dialect: RFC 7644 semantics, errors, ETags, tenancy, queries."""

from typing import Any

import pytest
from starlette.testclient import TestClient

from db.database import Database
from db.errors import Conflict, InvalidReference, NotFound, StoreError
from scim.errors import ScimType, from_store_error
from tests.conftest import TenantTokens
from tests.scim.groups_support import GROUP_SCHEMA, make_users, member_ids, members, patch


@pytest.fixture
def user_ids(database: Database, tenant: TenantTokens) -> list[str]:
    return make_users(database, tenant.slug, 5)


def _create(scim: TestClient, name: str = "Sales", **extra: Any) -> dict[str, Any]:
    response = scim.post(
        "/scim/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": name, **extra}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _get(scim: TestClient, group_id: str, query: str = "") -> dict[str, Any]:
    response = scim.get(f"/scim/Groups/{group_id}{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_v2_prefix_serves_groups(scim: TestClient) -> None:
    response = scim.post("/scim/v2/Groups", json={"displayName": "Sales"})
    assert response.status_code == 201
    assert response.json()["meta"]["location"].startswith("http://testserver/scim/v2/Groups/")
    assert scim.get(f"/scim/v2/Groups/{response.json()['id']}").status_code == 200


def test_unknown_member_is_400_and_changes_nothing(scim: TestClient, user_ids: list[str]) -> None:
    group = _create(scim, members=members(user_ids[0]))
    response = scim.patch(
        f"/scim/Groups/{group['id']}",
        json=patch({"op": "add", "path": "members", "value": members(user_ids[1], "nobody")}),
    )
    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidValue"
    assert "nobody" in response.json()["detail"]
    after = _get(scim, group["id"])
    assert member_ids(after) == [user_ids[0]]
    assert after["meta"]["version"] == group["meta"]["version"]
    create = scim.post("/scim/Groups", json={"displayName": "Ops", "members": members("nobody")})
    assert create.status_code == 400
    assert scim.get('/scim/Groups?filter=displayName eq "Ops"').json()["totalResults"] == 0


def test_nested_group_is_400_with_a_clear_detail(scim: TestClient) -> None:
    inner = _create(scim, "Inner")
    outer = _create(scim, "Outer")
    for value in (
        [{"value": inner["id"]}],
        [{"value": inner["id"], "type": "Group"}],
    ):
        response = scim.patch(
            f"/scim/Groups/{outer['id']}",
            json=patch({"op": "add", "path": "members", "value": value}),
        )
        assert response.status_code == 400
        assert response.json()["scimType"] == "invalidValue"
        assert "nested groups are not supported" in response.json()["detail"]


def test_patch_is_atomic_and_names_the_failing_operation(
    scim: TestClient, user_ids: list[str]
) -> None:
    group = _create(scim)
    response = scim.patch(
        f"/scim/Groups/{group['id']}",
        json=patch(
            {"op": "add", "path": "members", "value": members(user_ids[0])},
            {"op": "replace", "path": "displayName", "value": "Renamed"},
            {"op": "remove", "path": "displayName"},
        ),
    )
    assert response.status_code == 400
    assert response.json()["scimType"] == "mutability"
    assert response.json()["detail"].startswith("operation 3 (remove displayName)")
    after = _get(scim, group["id"])
    assert (after["displayName"], after["members"]) == ("Sales", [])


@pytest.mark.parametrize(
    ("body", "status", "scim_type"),
    [
        (
            {
                "schemas": ["urn:wrong"],
                "Operations": [{"op": "add", "path": "members", "value": []}],
            },
            400,
            "invalidSyntax",
        ),
        (patch(), 400, "invalidSyntax"),
        (patch({"op": "move", "path": "members"}), 400, "invalidSyntax"),
        (patch({"op": "add", "path": "nickName", "value": "x"}), 400, "invalidPath"),
        (patch({"op": "add", "path": "members"}), 400, "invalidValue"),
        (patch({"op": "add", "path": "members", "value": [{"display": "x"}]}), 400, "invalidValue"),
        (patch({"op": "add", "path": "members", "value": [{"value": 7}]}), 400, "invalidValue"),
        (patch({"op": "replace", "path": "displayName", "value": ""}), 400, "invalidValue"),
        (patch({"op": "replace", "path": "displayName", "value": ["x"]}), 400, "invalidValue"),
        (patch({"op": "replace", "path": "id", "value": "other"}), 400, "mutability"),
        (patch({"op": "remove"}), 400, "noTarget"),
        (patch({"op": "replace", "value": "Sales"}), 400, "invalidValue"),
        (patch({"op": "add", "path": 'members[value eq "x"]', "value": "y"}), 400, "invalidPath"),
        (patch("not an object"), 400, "invalidSyntax"),  # type: ignore[arg-type]
    ],
)
def test_bad_patches_are_400_and_change_nothing(
    scim: TestClient, body: dict[str, Any], status: int, scim_type: str
) -> None:
    group = _create(scim)
    response = scim.patch(f"/scim/Groups/{group['id']}", json=body)
    assert response.status_code == status, response.text
    assert response.json()["scimType"] == scim_type
    assert _get(scim, group["id"])["meta"]["version"] == group["meta"]["version"]


def test_malformed_bodies(scim: TestClient) -> None:
    assert scim.post("/scim/Groups", content=b"{nope").json()["scimType"] == "invalidSyntax"
    missing = scim.post("/scim/Groups", json={"schemas": [GROUP_SCHEMA]})
    assert missing.status_code == 400
    assert "displayName" in missing.json()["detail"]
    assert scim.post("/scim/Groups", json={"displayName": 5}).status_code == 400
    assert scim.post("/scim/Groups", json={"displayName": "X", "externalId": 5}).status_code == 400
    assert scim.post("/scim/Groups", json={"displayName": "X", "members": [3]}).status_code == 400


def test_rename_onto_another_group_is_409(scim: TestClient) -> None:
    _create(scim, "Ops")
    sales = _create(scim, "Sales")
    for request in (
        lambda: scim.patch(
            f"/scim/Groups/{sales['id']}",
            json=patch({"op": "replace", "path": "displayName", "value": "OPS"}),
        ),
        lambda: scim.put(f"/scim/Groups/{sales['id']}", json={"displayName": "ops"}),
    ):
        response = request()
        assert response.status_code == 409
        assert response.json()["scimType"] == "uniqueness"
    assert _get(scim, sales["id"])["displayName"] == "Sales"


def test_put_replaces_everything(scim: TestClient, user_ids: list[str]) -> None:
    group = _create(scim, externalId="e1", members=members(*user_ids[:2]))
    response = scim.put(
        f"/scim/Groups/{group['id']}",
        json={
            "schemas": [GROUP_SCHEMA],
            "id": "ignored",
            "meta": {"version": "ignored"},
            "displayName": "Retail",
            "members": [{"value": user_ids[3], "type": "User"}],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == group["id"]
    assert (body["displayName"], "externalId" in body) == ("Retail", False)
    assert member_ids(body) == [user_ids[3]]
    assert response.headers["etag"] == body["meta"]["version"] != group["meta"]["version"]
    assert scim.put("/scim/Groups/nope", json={"displayName": "x"}).status_code == 404


def test_etags(scim: TestClient, user_ids: list[str]) -> None:
    group = _create(scim)
    version = group["meta"]["version"]
    url = f"/scim/Groups/{group['id']}"
    assert scim.get(url, headers={"If-None-Match": version}).status_code == 304
    assert scim.get(url, headers={"If-None-Match": 'W/"999"'}).status_code == 200
    add = patch({"op": "add", "path": "members", "value": members(user_ids[0])})
    changed = scim.patch(url, json=add, headers={"If-Match": version})
    assert changed.status_code == 200
    new_version = changed.json()["meta"]["version"]
    assert new_version != version
    stale = scim.patch(
        url, json=patch({"op": "remove", "path": "members"}), headers={"If-Match": version}
    )
    assert stale.status_code == 412
    assert (
        scim.put(url, json={"displayName": "X"}, headers={"If-Match": version}).status_code == 412
    )
    assert scim.delete(url, headers={"If-Match": version}).status_code == 412
    assert member_ids(_get(scim, group["id"])) == [user_ids[0]]
    assert scim.patch(url, json=add, headers={"If-Match": "*"}).status_code == 200
    current = _get(scim, group["id"])["meta"]["version"]
    assert scim.delete(url, headers={"If-Match": current}).status_code == 204


def test_other_tenants_see_nothing(
    scim: TestClient, make_tenant: Any, user_ids: list[str], database: Database
) -> None:
    group = _create(scim, members=members(user_ids[0]))
    other = make_tenant("globex")
    headers = other.scim_headers()
    url = f"/scim/Groups/{group['id']}"
    assert scim.get(url, headers=headers).status_code == 404
    assert (
        scim.patch(
            url, json=patch({"op": "remove", "path": "members"}), headers=headers
        ).status_code
        == 404
    )
    assert scim.delete(url, headers=headers).status_code == 404
    assert scim.get("/scim/Groups", headers=headers).json()["totalResults"] == 0
    # Another tenant may use the same name, and cannot add acme's users.
    theirs = scim.post(
        "/scim/Groups",
        json={"displayName": "Sales", "members": members(user_ids[1])},
        headers=headers,
    )
    assert theirs.status_code == 400
    assert (
        scim.post("/scim/Groups", json={"displayName": "Sales"}, headers=headers).status_code == 201
    )
    assert member_ids(_get(scim, group["id"])) == [user_ids[0]]


def test_list_pages_sorts_and_projects(scim: TestClient, user_ids: list[str]) -> None:
    for name in ["delta", "Alpha", "charlie", "Bravo", "echo"]:
        _create(scim, name, members=members(user_ids[0]))
    page = scim.get(
        "/scim/Groups?sortBy=displayName&startIndex=2&count=2&attributes=displayName"
    ).json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 2, 2)
    assert [g["displayName"] for g in page["Resources"]] == ["Bravo", "charlie"]
    assert set(page["Resources"][0]) == {"schemas", "id", "displayName"}
    descending = scim.get("/scim/Groups?sortBy=displayName&sortOrder=descending&count=1").json()
    assert [g["displayName"] for g in descending["Resources"]] == ["echo"]
    assert descending["Resources"][0]["members"][0]["value"] == user_ids[0]
    zero = scim.get("/scim/Groups?count=0").json()
    assert (zero["totalResults"], zero["Resources"], zero["itemsPerPage"]) == (5, [], 0)
    beyond = scim.get("/scim/Groups?startIndex=10").json()
    assert (beyond["totalResults"], beyond["Resources"]) == (5, [])
    only_values = scim.get(
        '/scim/Groups?filter=displayName eq "alpha"&attributes=members.value'
    ).json()
    assert only_values["Resources"][0]["members"] == [{"value": user_ids[0]}]
    no_display = scim.get(
        '/scim/Groups?filter=displayName eq "alpha"&excludedAttributes=members.display,meta'
    ).json()
    resource = only = no_display["Resources"][0]
    assert "meta" not in resource
    assert only["members"][0] == {
        "value": user_ids[0],
        "$ref": f"http://testserver/scim/Users/{user_ids[0]}",
        "type": "User",
    }


def test_search_endpoint(scim: TestClient, user_ids: list[str]) -> None:
    target = _create(scim, "Sales", externalId="abc", members=members(user_ids[1]))
    _create(scim, "Ops")
    response = scim.post(
        "/scim/Groups/.search",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": f'members[value eq "{user_ids[1]}"]',
            "excludedAttributes": ["members"],
            "startIndex": 1,
            "count": 10,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert [g["id"] for g in body["Resources"]] == [target["id"]]
    assert "members" not in body["Resources"][0]
    by_external = scim.post("/scim/Groups/.search", json={"filter": 'externalId eq "abc"'}).json()
    assert by_external["totalResults"] == 1
    by_id = scim.get(f'/scim/Groups?filter=id eq "{target["id"]}"').json()
    assert by_id["totalResults"] == 1
    by_member_value = scim.get(f'/scim/Groups?filter=members.value eq "{user_ids[1]}"').json()
    assert [g["id"] for g in by_member_value["Resources"]] == [target["id"]]


@pytest.mark.parametrize(
    "query",
    [
        'filter=nickName eq "x"',
        "filter=displayName eq",
        "count=many",
        "startIndex=first",
        "sortOrder=sideways",
        "sortBy=members",
    ],
)
def test_bad_queries_are_400(scim: TestClient, query: str) -> None:
    response = scim.get(f"/scim/Groups?{query}")
    assert response.status_code == 400
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_unknown_query_parameters_are_ignored(scim: TestClient) -> None:
    _create(scim)
    response = scim.get("/scim/Groups?aadOptscim062020&filter=displayName+eq+%22Sales%22")
    assert response.json()["totalResults"] == 1


def test_deleting_a_user_row_removes_their_memberships(
    scim: TestClient, user_ids: list[str], database: Database
) -> None:
    from db.tables import users

    group = _create(scim, members=members(*user_ids[:2]))
    database.write_sync(lambda c: c.execute(users.delete().where(users.c.id == user_ids[0])))
    assert member_ids(_get(scim, group["id"])) == [user_ids[1]]


def test_patch_answer_leaves_out_members_beyond_max_results(
    scim: TestClient, database: Database, tenant: TenantTokens
) -> None:
    ids = make_users(database, tenant.slug, 1001, "bulk", display_names=False)
    group = _create(scim, members=members(*ids[:1000]))
    url = f"/scim/Groups/{group['id']}"
    at_limit = scim.patch(url, json=patch({"op": "replace", "path": "externalId", "value": "a"}))
    assert len(at_limit.json()["members"]) == 1000
    add = patch({"op": "add", "path": "members", "value": members(ids[1000])})
    over = scim.patch(url, json=add)
    assert over.status_code == 200
    assert "members" not in over.json()
    asked = scim.patch(f"{url}?attributes=members,displayName", json=add)
    assert len(asked.json()["members"]) == 1001
    assert len(_get(scim, group["id"])["members"]) == 1001


def test_remove_members_matching_an_or_filter(scim: TestClient, user_ids: list[str]) -> None:
    group = _create(scim, members=members(*user_ids))
    path = f'members[value eq "{user_ids[0]}" or value eq "{user_ids[3]}"]'
    response = scim.patch(f"/scim/Groups/{group['id']}", json=patch({"op": "remove", "path": path}))
    assert response.status_code == 200
    assert member_ids(response.json()) == sorted([user_ids[1], user_ids[2], user_ids[4]])
    unsupported = scim.patch(
        f"/scim/Groups/{group['id']}",
        json=patch({"op": "remove", "path": 'members[display eq "x"]'}),
    )
    assert unsupported.status_code == 400
    assert unsupported.json()["scimType"] == "invalidPath"
    assert len(_get(scim, group["id"])["members"]) == 3


@pytest.mark.parametrize(
    ("path", "removed"),
    [
        ('members[value eq "{0}"]', [0]),
        ('MEMBERS[VALUE EQ "{0}"]', [0]),
        (f'{GROUP_SCHEMA}:members[value eq "{{0}}"]', [0]),
        ('members[value eq "{0}" or value eq "{2}"]', [0, 2]),
        ('members[(value eq "{0}") or (value eq "{1}" or value eq "{2}")]', [0, 1, 2]),
        ('members[value eq "say \\"or\\" here" or value eq "{1}"]', [1]),
        ('members[value eq "nobody"]', []),
    ],
)
def test_member_filter_paths_remove_the_members_they_name(
    scim: TestClient, user_ids: list[str], path: str, removed: list[int]
) -> None:
    group = _create(scim, members=members(*user_ids[:3]))
    text = path.format(*user_ids)
    response = scim.patch(f"/scim/Groups/{group['id']}", json=patch({"op": "remove", "path": text}))
    assert response.status_code == 200, response.text
    kept = sorted(user_ids[i] for i in range(3) if i not in removed)
    assert member_ids(response.json()) == kept


@pytest.mark.parametrize(
    "path",
    [
        'members[value ne "x"]',
        'members[value eq "x" and type eq "User"]',
        'members[not (value eq "x")]',
        'members[value eq "x"].display',
        'members[value eq "x"',
        "members[" + "(" * 316 + 'value eq "x"' + ")" * 316 + "]",
        'members[value[value eq "x"] eq "y"]',
    ],
)
def test_member_filters_beyond_value_eq_are_400_invalid_path(
    scim: TestClient, user_ids: list[str], path: str
) -> None:
    group = _create(scim, members=members(*user_ids[:2]))
    response = scim.patch(f"/scim/Groups/{group['id']}", json=patch({"op": "remove", "path": path}))
    assert response.status_code == 400, response.text
    assert response.json()["scimType"] == "invalidPath"
    assert len(_get(scim, group["id"])["members"]) == 2


def test_ids_with_nul_are_404_not_500(scim: TestClient) -> None:
    url = "/scim/Groups/a%00b"
    assert scim.get(url).status_code == 404
    assert scim.put(url, json={"displayName": "x"}).status_code == 404
    assert scim.patch(url, json=patch({"op": "remove", "path": "members"})).status_code == 404
    assert scim.delete(url).status_code == 404
    bad_member = scim.post(
        "/scim/Groups", json={"displayName": "x", "members": [{"value": "a\u0000"}]}
    )
    assert bad_member.status_code == 400


def test_extreme_paging_values(scim: TestClient) -> None:
    _create(scim)
    huge = scim.get("/scim/Groups?startIndex=99999999999999999999999&count=99999999999999999999")
    assert huge.status_code == 200
    assert (huge.json()["totalResults"], huge.json()["Resources"]) == (1, [])
    negative = scim.get("/scim/Groups?startIndex=-5&count=-1").json()
    assert (negative["startIndex"], negative["itemsPerPage"], negative["totalResults"]) == (1, 0, 1)


def test_group_bodies_are_normalised_like_user_bodies(
    scim: TestClient, user_ids: list[str]
) -> None:
    created = scim.post(
        "/scim/Groups",
        json={
            "schemas": [GROUP_SCHEMA],
            f"{GROUP_SCHEMA}:displayName": "Qualified",
            "EXTERNALID": "ext-q",
            "Members": [{"VALUE": user_ids[0], "type": "User", "$ref": None}],
            "id": "ignored",
            "meta": {"resourceType": "Group"},
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["displayName"], body["externalId"]) == ("Qualified", "ext-q")
    assert member_ids(body) == [user_ids[0]]
    unknown = scim.post("/scim/Groups", json={"displayName": "X", "owner": "someone"})
    assert unknown.status_code == 400
    assert unknown.json()["scimType"] == "invalidSyntax"
    schema = scim.post("/scim/Groups", json={"schemas": ["urn:nope"], "displayName": "X"})
    assert schema.json()["scimType"] == "invalidSyntax"


def test_pathless_and_qualified_member_operations(scim: TestClient, user_ids: list[str]) -> None:
    group = _create(scim)
    url = f"/scim/Groups/{group['id']}"
    added = scim.patch(
        url,
        json=patch(
            {"op": "Add", "value": {"members": members(user_ids[0], user_ids[1])}},
            {"op": "add", "path": f"{GROUP_SCHEMA}:members", "value": members(user_ids[2])},
            {"op": "replace", "value": {f"{GROUP_SCHEMA}:displayName": "Renamed"}},
        ),
    )
    assert added.status_code == 200, added.text
    assert member_ids(added.json()) == sorted(user_ids[:3])
    assert added.json()["displayName"] == "Renamed"
    sub = scim.patch(url, json=patch({"op": "remove", "path": "members.value"}))
    assert sub.status_code == 400
    assert sub.json()["scimType"] == "invalidPath"
    blank = scim.patch(url, json=patch({"op": "replace", "value": {"displayName": "  "}}))
    assert blank.status_code == 400
    assert blank.json()["detail"].startswith("operation 1 (replace)")
    assert member_ids(_get(scim, group["id"])) == sorted(user_ids[:3])


@pytest.mark.parametrize(
    ("error", "status", "scim_type"),
    [
        (NotFound("no group 'x'"), 404, None),
        (Conflict("displayName 'x' is taken"), 409, ScimType.UNIQUENESS),
        (InvalidReference("no user 'x'"), 400, ScimType.INVALID_VALUE),
    ],
)
def test_store_errors_map_to_scim_errors(
    error: StoreError, status: int, scim_type: ScimType | None
) -> None:
    mapped = from_store_error(error)
    assert (mapped.status, mapped.scim_type, mapped.detail) == (status, scim_type, str(error))
