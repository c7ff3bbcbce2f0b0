"""The User examples of RFC 7644 (and RFC 7643 §8.2's full user), run against the app."""

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.scim.support import CORE, ENTERPRISE, create, patched

# RFC 7643 §8.2/§8.3, trimmed to what a client sends (no id, meta, groups, password).
BJENSEN: dict[str, Any] = {
    "schemas": [CORE, ENTERPRISE],
    "externalId": "701984",
    "userName": "bjensen@example.com",
    "name": {
        "formatted": "Ms. Barbara J Jensen, III",
        "familyName": "Jensen",
        "givenName": "Barbara",
        "middleName": "Jane",
        "honorificPrefix": "Ms.",
        "honorificSuffix": "III",
    },
    "displayName": "Babs Jensen",
    "nickName": "Babs",
    "profileUrl": "https://login.example.com/bjensen",
    "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ],
    "addresses": [
        {
            "type": "work",
            "streetAddress": "100 Universal City Plaza",
            "locality": "Hollywood",
            "region": "CA",
            "postalCode": "91608",
            "country": "USA",
            "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
            "primary": True,
        },
        {
            "type": "home",
            "streetAddress": "456 Hollywood Blvd",
            "locality": "Hollywood",
            "region": "CA",
            "postalCode": "91608",
            "country": "USA",
            "formatted": "456 Hollywood Blvd\nHollywood, CA 91608 USA",
        },
    ],
    "phoneNumbers": [
        {"value": "555-555-5555", "type": "work"},
        {"value": "555-555-4444", "type": "mobile"},
    ],
    "ims": [{"value": "someaimhandle", "type": "aim"}],
    "photos": [
        {"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"},
        {"value": "https://photos.example.com/profilephoto/72930000000Ccne/T", "type": "thumbnail"},
    ],
    "userType": "Employee",
    "title": "Tour Guide",
    "preferredLanguage": "en-US",
    "locale": "en-US",
    "timezone": "America/Los_Angeles",
    "active": True,
    "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMC"}],
    ENTERPRISE: {
        "employeeNumber": "701984",
        "costCenter": "4130",
        "organization": "Universal Studios",
        "division": "Theme Park",
        "department": "Tour Operations",
    },
}


@pytest.fixture
def bjensen(scim: TestClient) -> dict[str, Any]:
    response = scim.post("/scim/Users", json=BJENSEN)
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body


def test_rfc7643_full_user_round_trips(scim: TestClient, bjensen: dict[str, Any]) -> None:
    fetched = scim.get(f"/scim/Users/{bjensen['id']}").json()
    assert {k: v for k, v in fetched.items() if k not in ("id", "meta")} == BJENSEN


def test_section_3_3_create_answers_location_and_etag(scim: TestClient) -> None:
    response = scim.post(
        "/scim/Users",
        json={
            "schemas": [CORE],
            "userName": "bjensen",
            "externalId": "bjensen",
            "name": {
                "formatted": "Ms. Barbara J Jensen III",
                "familyName": "Jensen",
                "givenName": "Barbara",
            },
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == body["meta"]["location"]
    assert response.headers["etag"] == body["meta"]["version"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('userName eq "bjensen@example.com"', True),
        ('name.familyName co "O\'Malley"', False),
        ('name.familyName co "ens"', True),
        ('userName sw "B"', True),
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "b"', True),
        ("title pr", True),
        ('meta.lastModified gt "2011-05-13T04:42:34Z" and userName sw "b"', True),
        ('meta.lastModified lt "2011-05-13T04:42:34Z"', False),
        ('emails[type eq "work" and value co "@example.com"]', True),
        ('userName sw "b" and not (emails co "example.com")', False),
        ('title pr and (emails.value co "example.org" or emails co "example.com")', True),
        (f'{ENTERPRISE}:department eq "tour operations"', True),
    ],
)
def test_section_3_4_2_2_filters(
    scim: TestClient, bjensen: dict[str, Any], text: str, found: bool
) -> None:
    create(scim, "other@fabrikam.test")
    body = scim.get("/scim/Users", params={"filter": text}).json()
    assert [user["id"] for user in body["Resources"]] == ([bjensen["id"]] if found else [])


def test_section_3_4_2_3_sorting_and_3_4_2_4_pagination(scim: TestClient) -> None:
    for name in ("carol", "alice", "bob"):
        create(scim, name)
    body = scim.get(
        "/scim/Users",
        params={"sortBy": "userName", "sortOrder": "ascending", "startIndex": 1, "count": 2},
    ).json()
    assert [user["userName"] for user in body["Resources"]] == ["alice", "bob"]
    assert (body["totalResults"], body["itemsPerPage"], body["startIndex"]) == (3, 2, 1)


def test_section_3_4_2_5_attributes(scim: TestClient, bjensen: dict[str, Any]) -> None:
    body = scim.get(f"/scim/Users/{bjensen['id']}", params={"attributes": "userName"}).json()
    assert body == {"schemas": [CORE], "id": bjensen["id"], "userName": "bjensen@example.com"}
    body = scim.get(
        f"/scim/Users/{bjensen['id']}", params={"excludedAttributes": "addresses,photos"}
    ).json()
    assert "addresses" not in body
    assert "photos" not in body
    assert body["displayName"] == "Babs Jensen"


def test_section_3_5_2_1_add(scim: TestClient, bjensen: dict[str, Any]) -> None:
    body = patched(
        scim,
        bjensen["id"],
        {
            "op": "add",
            "value": {
                "emails": [{"value": "babs@jensen.net", "type": "other"}],
                "nickName": "Barbie",
            },
        },
    )
    assert body["emails"][-1] == {"value": "babs@jensen.net", "type": "other"}
    assert len(body["emails"]) == 3
    assert body["nickName"] == "Barbie"


def test_section_3_5_2_2_remove(scim: TestClient, bjensen: dict[str, Any]) -> None:
    body = patched(
        scim,
        bjensen["id"],
        {"op": "remove", "path": 'emails[type eq "work" and value ew "example.com"]'},
    )
    assert body["emails"] == [{"value": "babs@jensen.org", "type": "home"}]
    certificate = BJENSEN["x509Certificates"][0]["value"]
    body = patched(
        scim, bjensen["id"], {"op": "remove", "path": f'x509Certificates[value eq "{certificate}"]'}
    )
    assert "x509Certificates" not in body


def test_section_3_5_2_3_replace(scim: TestClient, bjensen: dict[str, Any]) -> None:
    work = {
        "type": "work",
        "streetAddress": "911 Universal City Plaza",
        "locality": "Hollywood",
        "region": "CA",
        "postalCode": "91608",
        "country": "US",
        "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
        "primary": True,
    }
    body = patched(
        scim, bjensen["id"], {"op": "replace", "path": 'addresses[type eq "work"]', "value": work}
    )
    assert body["addresses"][0] == work
    body = patched(
        scim,
        bjensen["id"],
        {
            "op": "replace",
            "path": 'addresses[type eq "work"].streetAddress',
            "value": "1010 Broadway Ave",
        },
    )
    assert body["addresses"][0]["streetAddress"] == "1010 Broadway Ave"
    assert body["addresses"][1] == BJENSEN["addresses"][1]
    emails = [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ]
    body = patched(
        scim, bjensen["id"], {"op": "replace", "value": {"emails": emails, "nickName": "Babs"}}
    )
    assert body["emails"] == emails


def test_section_3_14_etags(scim: TestClient, bjensen: dict[str, Any]) -> None:
    response = scim.get(
        f"/scim/Users/{bjensen['id']}", headers={"If-None-Match": bjensen["meta"]["version"]}
    )
    assert response.status_code == 304
    assert response.headers["etag"] == bjensen["meta"]["version"]
