"""Entra's match request, ``GET /Users?filter=<attribute> eq "<value>"``, is answered by the
SCIM app's own ``GET /Users`` endpoint: the same bytes as the general list path gives, and a
store error is answered once, as an error, by the SCIM app's error handling."""

import logging
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scim import user_search
from scim.user_search import lone_filter
from tests.conftest import TenantTokens
from tests.scim.support import CORE, ENTERPRISE, ERROR, LIST_RESPONSE, create, patched


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
def test_only_a_lone_filter_is_read_from_the_raw_query(query: bytes, expected: str | None) -> None:
    assert lone_filter(query) == expected


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
def test_the_lookup_answer_is_the_general_paths_answer(
    scim: TestClient, expression: str, prefix: str
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

    lookup = scim.get(_path(prefix, expression, "&aadOptscim062020"))
    general = [
        scim.get(_path(prefix, expression, "&startIndex=1")),  # parsed by scim.listing
        scim.get(_path(prefix, f"({expression})")),  # the full filter compiler
        scim.post(
            f"{prefix}/Users/.search",
            json={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": expression,
            },
        ),
    ]
    for other in general:
        assert lookup.status_code == other.status_code == 200
        assert lookup.content == other.content
        assert lookup.headers["content-type"] == other.headers["content-type"]
        assert lookup.headers["content-length"] == other.headers["content-length"]
    body = lookup.json()
    assert body["schemas"] == [LIST_RESPONSE]
    if "nobody" in expression:
        assert body["totalResults"] == 0
        assert body["Resources"] == []
    else:
        (resource,) = body["Resources"]
        assert resource["id"] == alice["id"]
        assert resource["meta"]["location"].endswith(f"{prefix}/Users/{alice['id']}")
        assert resource[ENTERPRISE]["manager"]["displayName"] == "The Boss"
        assert resource == scim.get(f"{prefix}/Users/{alice['id']}").json()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ('filter=userName eq "a" or userName eq "b"', 200),
        ('filter=userName co "a"', 200),
        ("filter=userName eq", 400),
        ('filter=userName eq "\\ud800"', 400),  # a lone surrogate
        ('filter=roles.value eq "admin"', 400),
        ("", 200),
    ],
)
def test_other_shapes_are_answered_by_the_same_endpoint(
    scim: TestClient, query: str, status: int
) -> None:
    create(scim, "a@contoso.com")
    response = scim.get(f"/scim/Users?{query}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/scim+json"
    if status == 400:
        assert response.json()["scimType"] == "invalidFilter"


def test_a_store_error_is_answered_once_as_an_error(
    app: Starlette,
    tenant: TenantTokens,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(tenant.scim_headers())
        create(client, "alice@contoso.com")
        monkeypatch.setattr(user_search, "list_users", failing)
        with caplog.at_level(logging.WARNING):
            response = client.get(_path("/scim", 'userName eq "alice@contoso.com"'))
    assert calls == [1]  # no second attempt behind the error
    assert response.status_code >= 500
    assert response.headers["content-type"] == "application/scim+json"
    assert response.json()["schemas"] == [ERROR]
    assert any(record.levelno >= logging.WARNING for record in caplog.records)


def test_the_token_is_still_required(client: TestClient) -> None:
    response = client.get(_path("/scim", 'userName eq "alice@contoso.com"'))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
