"""Entra's match request is answered by ``scim.entra_lookup`` ahead of the SCIM app, with
exactly the bytes the SCIM app gives; every other request shape still reaches the SCIM app."""

from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from scim import entra_lookup
from scim.entra_lookup import entra_filter
from tests.scim.support import CORE, ENTERPRISE, LIST_RESPONSE, create, patched


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"filter=userName+eq+%22abc%22", 'userName eq "abc"'),
        (b"filter=userName%20eq%20%22a%2Bb%22", 'userName eq "a+b"'),
        (b"aadOptscim062020&filter=userName+eq+%22x%22", 'userName eq "x"'),
        (b"filter=userName+eq+%22x%22&unknown=1", 'userName eq "x"'),
        (b"filter=", ""),
        (b"", None),
        (b"filter=a&filter=b", None),
        (b"filter=userName+eq+%22x%22&startIndex=1", None),
        (b"filter=userName+eq+%22x%22&count=5", None),
        (b"filter=userName+eq+%22x%22&attributes=userName", None),
        (b"filter=userName+eq+%22x%22&excludedAttributes=emails", None),
        (b"filter=userName+eq+%22x%22&sortBy=userName", None),
        (b"filter=userName+eq+%22x%22&st%61rtIndex=2", None),  # an encoded name
        (b"%66ilter=userName+eq+%22x%22", None),
    ],
)
def test_only_a_lone_filter_is_taken(query: bytes, expected: str | None) -> None:
    assert entra_filter(query) == expected


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many requests the fast path answered from the store."""
    calls: list[int] = []
    original = entra_lookup.list_users

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(entra_lookup, "list_users", counting)
    return calls


def _path(prefix: str, expression: str, extra: str = "") -> str:
    return f"{prefix}/Users?filter={quote(expression, safe='')}{extra}"


@pytest.mark.parametrize(
    "expression",
    [
        'userName eq "Alice@Contoso.com"',
        'USERNAME eq "alice@contoso.COM"',
        'externalId eq "ext-1"',
        'emails[type eq "work"].value eq "alice.work@contoso.com"',
        f'{ENTERPRISE}:employeeNumber eq "E-7"',
        'userName eq "nobody@contoso.com"',
    ],
)
@pytest.mark.parametrize("prefix", ["/scim", "/scim/v2"])
def test_the_fast_answer_is_the_scim_apps_answer(
    scim: TestClient, taken: list[int], expression: str, prefix: str
) -> None:
    boss = create(scim, "boss@contoso.com", displayName="The Boss")
    alice = create(
        scim,
        "alice@contoso.com",
        externalId="ext-1",
        emails=[{"type": "work", "value": "alice.work@contoso.com", "primary": True}],
        schemas=[CORE, ENTERPRISE],
        **{ENTERPRISE: {"employeeNumber": "E-7"}},
    )
    patched(
        scim,
        alice["id"],
        {"op": "add", "path": f"{ENTERPRISE}:manager", "value": {"value": boss["id"]}},
    )

    fast = scim.get(_path(prefix, expression))
    templated = 0 if "[" in expression else 1  # a value filter has no template
    assert len(taken) == templated
    slow = scim.get(_path(prefix, expression, "&startIndex=1"))  # same answer, SCIM app
    assert len(taken) == templated
    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content
    assert fast.headers["content-type"] == slow.headers["content-type"]
    assert fast.headers["content-length"] == slow.headers["content-length"]
    body = fast.json()
    assert body["schemas"] == [LIST_RESPONSE]
    if "nobody" in expression:
        assert body["totalResults"] == 0
        assert body["Resources"] == []
    else:
        (resource,) = body["Resources"]
        assert resource["id"] == alice["id"]
        assert resource["meta"]["location"].endswith(f"{prefix}/Users/{alice['id']}")
        assert resource[ENTERPRISE]["manager"]["displayName"] == "The Boss"


@pytest.mark.parametrize(
    "query",
    [
        'filter=userName eq "a" or userName eq "b"',
        'filter=userName co "a"',
        "filter=userName eq",  # invalid: the SCIM app answers 400 invalidFilter
        'filter=userName eq "\\ud800"',  # a lone surrogate: not a value the template takes
        "",
    ],
)
def test_other_requests_reach_the_scim_app(scim: TestClient, taken: list[int], query: str) -> None:
    create(scim, "a@contoso.com")
    response = scim.get(f"/scim/Users?{query}")
    assert response.status_code in (200, 400)
    assert response.headers["content-type"] == "application/scim+json"
    assert taken == []


def test_a_store_error_is_answered_by_the_scim_app(
    scim: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = create(scim, "alice@contoso.com")

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(entra_lookup, "list_users", failing)
    response = scim.get(_path("/scim", 'userName eq "alice@contoso.com"'))
    assert response.status_code == 200
    assert [user["id"] for user in response.json()["Resources"]] == [alice["id"]]


def test_the_token_is_still_required(client: TestClient) -> None:
    response = client.get(_path("/scim", 'userName eq "alice@contoso.com"'))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
