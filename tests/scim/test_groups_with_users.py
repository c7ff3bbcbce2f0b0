"""Groups seen from the rest of the service: users' groups, user deletion, discovery, search."""

from typing import Any

from starlette.testclient import TestClient

from tests.scim.groups_support import GROUP_SCHEMA, member_ids, members, patch

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def _user(scim: TestClient, name: str, **extra: Any) -> str:
    response = scim.post("/scim/Users", json={"schemas": [USER_SCHEMA], "userName": name, **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _group(scim: TestClient, name: str, *user_ids: str) -> dict[str, Any]:
    response = scim.post("/scim/Groups", json={"displayName": name, "members": members(*user_ids)})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_user_shows_its_groups_read_only(scim: TestClient) -> None:
    alice = _user(scim, "alice@contoso.com", displayName="Alice")
    bob = _user(scim, "bob@contoso.com")
    sales = _group(scim, "Sales", alice, bob)
    ops = _group(scim, "Ops", alice)
    body = scim.get(f"/scim/Users/{alice}").json()
    assert body["groups"] == [
        {
            "value": ops["id"],
            "$ref": f"http://testserver/scim/Groups/{ops['id']}",
            "display": "Ops",
        },
        {
            "value": sales["id"],
            "$ref": f"http://testserver/scim/Groups/{sales['id']}",
            "display": "Sales",
        },
    ]
    assert list(body)[-1] == "meta"
    assert "groups" not in scim.get(f"/scim/Users/{alice}?excludedAttributes=groups").json()
    only = scim.get(f"/scim/Users/{alice}?attributes=groups.value").json()
    assert only["groups"] == [{"value": ops["id"]}, {"value": sales["id"]}]
    # Members carry the user's displayName; a user without one has no display.
    shown = {m["value"]: m for m in scim.get(f"/scim/Groups/{sales['id']}").json()["members"]}
    assert shown[alice]["display"] == "Alice"
    assert "display" not in shown[bob]
    lonely = _user(scim, "carol@contoso.com")
    assert "groups" not in scim.get(f"/scim/Users/{lonely}").json()


def test_deleting_a_user_removes_them_from_every_group(scim: TestClient) -> None:
    alice = _user(scim, "alice@contoso.com")
    bob = _user(scim, "bob@contoso.com")
    sales = _group(scim, "Sales", alice, bob)
    ops = _group(scim, "Ops", alice)
    assert scim.delete(f"/scim/Users/{alice}").status_code == 204
    after_sales = scim.get(f"/scim/Groups/{sales['id']}").json()
    assert member_ids(after_sales) == [bob]
    assert after_sales["meta"]["version"] != sales["meta"]["version"]
    assert scim.get(f"/scim/Groups/{ops['id']}").json()["members"] == []
    again = scim.patch(
        f"/scim/Groups/{ops['id']}",
        json=patch({"op": "add", "path": "members", "value": members(alice)}),
    )
    assert again.status_code == 400


def test_discovery_describes_the_group(scim: TestClient) -> None:
    schema = scim.get(f"/scim/Schemas/{GROUP_SCHEMA}").json()
    assert schema["id"] == GROUP_SCHEMA
    attributes = {a["name"]: a for a in schema["attributes"]}
    assert attributes["displayName"]["required"] is True
    assert attributes["displayName"]["uniqueness"] == "server"
    member = attributes["members"]
    assert (member["type"], member["multiValued"]) == ("complex", True)
    subs = {s["name"]: s for s in member["subAttributes"]}
    assert set(subs) == {"value", "$ref", "type", "display"}
    assert subs["$ref"]["referenceTypes"] == ["User"]
    assert subs["display"]["mutability"] == "readOnly"
    listed = [s["id"] for s in scim.get("/scim/Schemas").json()["Resources"]]
    assert GROUP_SCHEMA in listed
    resource_type = scim.get("/scim/ResourceTypes/Group").json()
    assert (resource_type["endpoint"], resource_type["schema"]) == ("/Groups", GROUP_SCHEMA)
    names = [r["id"] for r in scim.get("/scim/v2/ResourceTypes").json()["Resources"]]
    assert names == ["User", "Group"]


def test_root_search_spans_users_and_groups(scim: TestClient) -> None:
    users = [_user(scim, f"user{n}@contoso.com") for n in range(3)]
    groups = [_group(scim, f"Group {n}", users[n])["id"] for n in range(2)]
    everything = scim.post("/scim/.search", json={"count": 10}).json()
    assert everything["totalResults"] == 5
    assert [r["id"] for r in everything["Resources"]] == users + groups
    page = scim.post("/scim/.search", json={"startIndex": 3, "count": 2}).json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 3, 2)
    assert [r["id"] for r in page["Resources"]] == [users[2], groups[0]]
    last = scim.post("/scim/.search", json={"startIndex": 5, "count": 2}).json()
    assert [r["id"] for r in last["Resources"]] == [groups[1]]
    # A filter over an attribute of one type only matches resources of that type.
    only_groups = scim.post(
        "/scim/.search", json={"filter": f'members[value eq "{users[1]}"]'}
    ).json()
    assert [r["id"] for r in only_groups["Resources"]] == [groups[1]]
    by_name = scim.post("/scim/.search", json={"filter": 'userName eq "user1@contoso.com"'}).json()
    assert [r["id"] for r in by_name["Resources"]] == [users[1]]
    wrong = scim.post("/scim/.search", json={"filter": 'nothing eq "x"'})
    assert wrong.status_code == 400
    assert wrong.json()["scimType"] == "invalidFilter"
