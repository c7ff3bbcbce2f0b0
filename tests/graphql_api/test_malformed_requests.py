"""The malformed GraphQL requests of issue 16, kept as regression tests.

GraphQL over HTTP: every answer is JSON, and every error an ``errors`` entry with an
``extensions.code``; never a 5xx, never "Unexpected error." for what a client sent.
"""

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from app.graphql_api.errors import UNEXPECTED_ERROR
from app.graphql_api.limits import MAX_SEARCH_LENGTH
from app.main import create_app
from app.settings import Settings
from tests.conftest import TenantTokens

JSON = {"content-type": "application/json"}
USER_BY_ID = "query($id: ID!) { user(id: $id) { id } }"


@pytest.fixture
def graphql(client: TestClient, tenant: TenantTokens) -> TestClient:
    client.headers.update(tenant.graphql_headers())
    return client


def coded_errors(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    errors: list[dict[str, Any]] = body["errors"]
    assert errors
    for error in errors:
        assert isinstance(error["message"], str)
        assert error["message"] != UNEXPECTED_ERROR
        assert isinstance(error["extensions"]["code"], str), error
    return errors


@pytest.mark.parametrize("body", [b"null", b"123", b'"str"', b"true", b"[]", b"1.5"])
def test_a_body_that_is_not_an_object_is_a_coded_400(graphql: TestClient, body: bytes) -> None:
    errors = coded_errors(graphql.post("/graphql", content=body, headers=JSON), 400)
    assert errors[0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("content", "headers", "message"),
    [
        (b'{"query": "{ tenant { slug } }"}', {"content-type": "text/plain"}, "content type"),
        (b"{}", JSON, "No GraphQL query"),
        (b"{", JSON, "JSON"),
        (b'[{"query": "{ tenant { slug } }"}]', JSON, "Batching"),
        (b'{"query": 5}', JSON, "query"),
        (b'{"query": "{ tenant { slug } }", "variables": [1]}', JSON, "variables"),
    ],
)
def test_strawberrys_own_400s_are_graphql_json(
    graphql: TestClient, content: bytes, headers: dict[str, str], message: str
) -> None:
    errors = coded_errors(graphql.post("/graphql", content=content, headers=headers), 400)
    assert message in errors[0]["message"]


def test_a_get_without_a_query_and_without_html_is_a_coded_400(graphql: TestClient) -> None:
    response = graphql.get(
        "/graphql", params={"variables": "{}"}, headers={"accept": "application/json"}
    )
    coded_errors(response, 400)


def test_a_method_graphql_does_not_take_is_coded(graphql: TestClient) -> None:
    response = graphql.put("/graphql", content=b"{}", headers=JSON)
    assert response.status_code == 405
    assert response.status_code < 500


@pytest.mark.parametrize("surrogate", [b"\\ud800", b"\\udfff", b"a\\udc00b"])
def test_a_lone_surrogate_in_a_variable_is_a_coded_error(
    graphql: TestClient, surrogate: bytes
) -> None:
    for query, name in (
        (USER_BY_ID, b"id"),
        ("query($u: String!) { user(userName: $u) { id } }", b"u"),
        ("query($s: String) { users(filter: {search: $s}) { totalCount } }", b"s"),
        ("query($s: String) { groups(filter: {search: $s}) { totalCount } }", b"s"),
    ):
        body = (
            b'{"query": "'
            + query.encode().replace(b'"', b'\\"')
            + b'", "variables": {"'
            + name
            + b'": "'
            + surrogate
            + b'"}}'
        )
        coded_errors(graphql.post("/graphql", content=body, headers=JSON), 400)
    literal = b'{"query": "{ user(id: \\"\\\\ud800\\") { id } }"}'
    errors = coded_errors(graphql.post("/graphql", content=literal, headers=JSON), 200)
    assert errors[0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


@pytest.mark.parametrize("field", ["users", "groups"])
def test_a_search_string_over_the_limit_is_a_coded_error(graphql: TestClient, field: str) -> None:
    query = f"query($s: String) {{ {field}(filter: {{search: $s}}) {{ totalCount }} }}"
    for length in (MAX_SEARCH_LENGTH + 1, 50_001):
        response = graphql.post("/graphql", json={"query": query, "variables": {"s": "x" * length}})
        errors = coded_errors(response, 200)
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert str(MAX_SEARCH_LENGTH) in errors[0]["message"]
    fits = graphql.post(
        "/graphql", json={"query": query, "variables": {"s": "x" * MAX_SEARCH_LENGTH}}
    )
    assert fits.json() == {"data": {field: {"totalCount": 0}}}


def test_deeply_nested_variables_are_a_coded_400(graphql: TestClient) -> None:
    body = (
        b'{"query": "query($id: ID!) { user(id: $id) { id } }", "variables": {"id": '
        + b"[" * 961
        + b"]" * 961
        + b"}}"
    )
    errors = coded_errors(graphql.post("/graphql", content=body, headers=JSON), 400)
    assert "nested" in errors[0]["message"]
    deep_get = graphql.get(
        "/graphql",
        params={"query": USER_BY_ID, "variables": '{"id": ' + "[" * 200 + "]" * 200 + "}"},
    )
    coded_errors(deep_get, 400)


def test_every_error_of_an_executed_operation_has_a_code(graphql: TestClient) -> None:
    cases = [
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ user", "GRAPHQL_PARSE_FAILED"),
        ("{ users(first: 1000) { totalCount } }", "GRAPHQL_VALIDATION_FAILED"),  # the cost check
        ('{ user(id: "a", userName: "b") { id } }', "BAD_USER_INPUT"),
    ]
    for query, code in cases:
        errors = coded_errors(graphql.post("/graphql", json={"query": query}), 200)
        assert errors[0]["extensions"]["code"] == code


def test_one_body_limit_for_every_front_end(settings: Settings, tenant: TenantTokens) -> None:
    small = settings.model_copy(update={"max_body_bytes": 2048})
    with TestClient(create_app(small)) as client:
        padding = " " * 4096
        graphql = client.post(
            "/graphql",
            content=b'{"query": "{ tenant { slug } }"' + padding.encode() + b"}",
            headers={**JSON, **tenant.graphql_headers()},
        )
        errors = coded_errors(graphql, 413)
        assert errors[0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        scim = client.post(
            "/scim/Users",
            content=b'{"userName": "a@contoso.com"' + padding.encode() + b"}",
            headers=tenant.scim_headers(),
        )
        assert scim.status_code == 413
        assert scim.headers["content-type"] == "application/scim+json"
        fits = client.post(
            "/graphql", json={"query": "{ tenant { slug } }"}, headers=tenant.graphql_headers()
        )
        assert fits.json() == {"data": {"tenant": {"slug": tenant.slug}}}


def test_the_default_graphql_limit_is_the_scim_one(graphql: TestClient) -> None:
    body = b'{"query": "{ tenant { slug } }", "x": "' + b"z" * (1024 * 1024) + b'"}'
    coded_errors(graphql.post("/graphql", content=body, headers=JSON), 413)
