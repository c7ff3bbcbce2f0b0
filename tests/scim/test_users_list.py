"""GET /Users and the .search endpoints: paging, sorting, projection, filters."""

from typing import Any

import pytest
from sqlalchemy import event
from starlette.applications import Starlette
from starlette.testclient import TestClient

import scim.user_search as user_search
from scim.config import ScimConfig
from tests.directory_rows import is_background
from tests.scim.support import BLINK, ENTERPRISE, LIST_RESPONSE, assert_error, create
from tests.threads import record_where

SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def _names(body: dict[str, Any]) -> list[str]:
    return [user["userName"] for user in body["Resources"]]


@pytest.fixture
def five(scim: TestClient) -> list[dict[str, Any]]:
    names = ["delta", "Alpha", "echo", "charlie", "Bravo"]
    return [create(scim, name, title=f"t{index}") for index, name in enumerate(names)]


def test_default_page_is_everything_in_creation_order(scim: TestClient, five: list[Any]) -> None:
    body = scim.get("/scim/Users").json()
    assert body["schemas"] == [LIST_RESPONSE]
    assert body["totalResults"] == 5
    assert body["startIndex"] == 1
    assert body["itemsPerPage"] == 5
    assert _names(body) == ["delta", "Alpha", "echo", "charlie", "Bravo"]


def test_count_zero_gives_only_the_total(scim: TestClient, five: list[Any]) -> None:
    body = scim.get("/scim/Users", params={"count": 0}).json()
    assert body["totalResults"] == 5
    assert body["Resources"] == []
    assert body["itemsPerPage"] == 0


@pytest.mark.parametrize(
    ("params", "expected_start", "expected_names"),
    [
        ({"startIndex": 2, "count": 2}, 2, ["Alpha", "echo"]),
        ({"startIndex": 5, "count": 10}, 5, ["Bravo"]),
        ({"startIndex": 9}, 9, []),
        ({"startIndex": 0, "count": 1}, 1, ["delta"]),
        ({"startIndex": -4, "count": 1}, 1, ["delta"]),
        ({"count": -1}, 1, []),
        ({"startIndex": 10**30, "count": 10**30}, 2**31 - 1, []),
    ],
)
def test_paging(
    scim: TestClient,
    five: list[Any],
    params: dict[str, Any],
    expected_start: int,
    expected_names: list[str],
) -> None:
    body = scim.get("/scim/Users", params=params).json()
    assert body["totalResults"] == 5
    assert body["startIndex"] == expected_start
    assert _names(body) == expected_names
    assert body["itemsPerPage"] == len(expected_names)


def test_count_is_capped_at_max_results(app: Starlette, scim: TestClient, five: list[Any]) -> None:
    app.state.scim_app.state.config = ScimConfig(max_results=3)
    body = scim.get("/scim/Users", params={"count": 1000}).json()
    assert body["itemsPerPage"] == 3
    assert body["totalResults"] == 5
    assert scim.get("/scim/ServiceProviderConfig").json()["filter"]["maxResults"] == 3


@pytest.mark.parametrize(
    "params", [{"startIndex": "one"}, {"count": "1.5"}, {"sortOrder": "sideways"}]
)
def test_bad_paging_values_are_400(scim: TestClient, params: dict[str, Any]) -> None:
    assert_error(scim.get("/scim/Users", params=params), 400, "invalidValue")


def test_sorting(scim: TestClient, five: list[Any]) -> None:
    ascending = scim.get("/scim/Users", params={"sortBy": "userName"}).json()
    assert _names(ascending) == ["Alpha", "Bravo", "charlie", "delta", "echo"]
    descending = scim.get(
        "/scim/Users", params={"sortBy": "userName", "sortOrder": "descending"}
    ).json()
    assert _names(descending) == ["echo", "delta", "charlie", "Bravo", "Alpha"]
    paged = scim.get(
        "/scim/Users", params={"sortBy": "userName", "startIndex": 2, "count": 2}
    ).json()
    assert _names(paged) == ["Bravo", "charlie"]


def test_unknown_sort_attribute_is_400(scim: TestClient) -> None:
    assert_error(scim.get("/scim/Users", params={"sortBy": "shoeSize"}), 400)


def test_attributes_projection(scim: TestClient) -> None:
    create(
        scim,
        "p@contoso.com",
        name={"givenName": "P", "familyName": "Q"},
        **{BLINK: {"company": "C"}},
    )
    body = scim.get(
        "/scim/Users", params={"attributes": f"userName,name.givenName,{BLINK}:company"}
    ).json()
    user = body["Resources"][0]
    assert set(user) == {"schemas", "id", "userName", "name", BLINK}
    assert user["name"] == {"givenName": "P"}
    assert user[BLINK] == {"company": "C"}


def test_excluded_attributes_projection(scim: TestClient) -> None:
    created = create(
        scim,
        "x@contoso.com",
        emails=[{"type": "work", "value": "x@c.com"}],
        **{ENTERPRISE: {"department": "D"}},
    )
    body = scim.get(
        f"/scim/Users/{created['id']}",
        params={"excludedAttributes": f"emails,id,meta,{ENTERPRISE}"},
    ).json()
    assert set(body) == {"schemas", "id", "userName"}
    assert ENTERPRISE not in body["schemas"]


def test_attributes_and_excluded_attributes_together_are_400(scim: TestClient) -> None:
    response = scim.get(
        "/scim/Users", params={"attributes": "userName", "excludedAttributes": "title"}
    )
    assert_error(response, 400, "invalidSyntax")


def test_filters_reach_the_store(scim: TestClient, five: list[Any]) -> None:
    create(scim, "worker", emails=[{"type": "work", "value": "Worker@Contoso.com"}])
    body = scim.get(
        "/scim/Users", params={"filter": 'emails[type eq "work"].value eq "worker@contoso.com"'}
    )
    assert _names(body.json()) == ["worker"]
    body = scim.get(
        "/scim/Users", params={"filter": 'userName sw "a" or title eq "t4"', "sortBy": "userName"}
    )
    assert _names(body.json()) == ["Alpha", "Bravo"]


@pytest.mark.parametrize("text", ["userName eq", 'shoeSize eq "9"', 'userName eq "a" and', "((("])
def test_bad_filters_are_invalid_filter(scim: TestClient, text: str) -> None:
    assert_error(scim.get("/scim/Users", params={"filter": text}), 400, "invalidFilter")


@pytest.mark.parametrize(
    "text",
    ['userName eq "x\' OR 1=1 --"', 'userName co "%"', 'userName sw "_"', 'userName eq "\\\\"'],
)
def test_filter_values_are_data(scim: TestClient, five: list[Any], text: str) -> None:
    body = scim.get("/scim/Users", params={"filter": text})
    assert body.status_code == 200
    assert body.json()["totalResults"] == 0


@pytest.mark.parametrize("path", ["/scim/Users/.search", "/scim/.search", "/scim/v2/.search"])
def test_search_endpoints_match_get(scim: TestClient, five: list[Any], path: str) -> None:
    query = {
        "schemas": [SEARCH],
        "filter": 'userName ne "echo"',
        "sortBy": "userName",
        "sortOrder": "descending",
        "startIndex": 2,
        "count": 2,
        "attributes": ["userName"],
    }
    response = scim.post(path, json=query)
    assert response.status_code == 200
    params = {
        key: ",".join(value) if isinstance(value, list) else value for key, value in query.items()
    }
    del params["schemas"]
    assert response.json() == scim.get("/scim/Users", params=params).json()
    assert _names(response.json()) == ["charlie", "Bravo"]


def test_search_with_wrong_schemas_is_400(scim: TestClient) -> None:
    response = scim.post(
        "/scim/Users/.search", json={"schemas": ["urn:nope"], "filter": 'userName eq "a"'}
    )
    assert_error(response, 400, "invalidSyntax")


def test_match_by_username_is_one_statement(
    scim: TestClient, app: Starlette, five: list[Any]
) -> None:
    database = app.state.database
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    for engine in database.engines:  # PostgreSQL's requests: the event loop's engine
        event.listen(engine, "before_cursor_execute", record)
    try:
        body = scim.get("/scim/Users", params={"filter": 'userName eq "ALPHA"'}).json()
    finally:
        for engine in database.engines:
            event.remove(engine, "before_cursor_execute", record)
    assert _names(body) == ["Alpha"]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len([s for s in selects if not is_background(s)]) == 1


def test_pages_other_than_entras_look_up_are_read_in_a_worker_thread(
    scim: TestClient, five: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page counts every matching user of the tenant and renders up to max_results: off
    the event loop. Entra's look-up (a lone equality filter) stays on it."""
    on_loop = record_where(monkeypatch, user_search, "list_users")
    assert scim.get("/scim/Users").json()["totalResults"] == 5
    found = scim.get("/scim/Users", params={"filter": 'userName eq "ALPHA"'}).json()
    assert _names(found) == ["Alpha"]
    paged = scim.get("/scim/Users", params={"count": 2, "attributes": "userName"}).json()
    assert (paged["totalResults"], _names(paged)) == (5, ["delta", "Alpha"])
    searched = scim.post(
        "/scim/Users/.search", json={"schemas": [SEARCH], "filter": 'title sw "t"'}
    )
    assert searched.json()["totalResults"] == 5
    assert on_loop == [False, True, False, False]
