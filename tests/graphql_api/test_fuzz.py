"""schemathesis against the GraphQL schema, through the ASGI app with a real store.

Queries are generated from the schema the app serves (its SDL), for every root field, with
a fixed budget (``EXAMPLES`` per field, derandomised, no example database). Every answer
must be JSON below 500, and every error carry an ``extensions.code`` and a message other
than "Unexpected error." (which only a fault of the server may produce).
"""

from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from starlette.testclient import TestClient

from app.graphql_api.errors import UNEXPECTED_ERROR
from app.graphql_api.schema import schema_sdl
from tests.conftest import TenantTokens
from tests.scim.support import ENTERPRISE, create

EXAMPLES = 25


def test_the_graphql_api_survives_schemathesis(client: TestClient, tenant: TenantTokens) -> None:
    client.headers.update(tenant.scim_headers())
    boss = create(client, "boss@contoso.com", displayName="Boss", title="CEO")
    for number in range(3):
        create(
            client,
            f"report{number}@contoso.com",
            displayName=f"Report {number}",
            **{ENTERPRISE: {"manager": {"value": boss["id"]}}},
        )
    client.post("/scim/Groups", json={"displayName": "Everyone"})
    schema = schemathesis.graphql.from_file(schema_sdl())
    fields = [result.ok() for result in schema.get_all_operations()]
    assert len(fields) >= 10
    answered: dict[str, int] = {}
    headers = tenant.graphql_headers()
    for field in fields:
        _runner(client, field.as_strategy(), headers, answered)()
    assert set(answered) == {field.label for field in fields}
    assert sum(answered.values()) > 0  # some queries returned data without errors


def _runner(
    client: TestClient, strategy: Any, headers: dict[str, str], answered: dict[str, int]
) -> Callable[[], None]:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver/graphql", headers=headers)
        response = client.post("/graphql", json=kwargs["json"], headers=kwargs["headers"])
        assert response.status_code < 500, response.text
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        for error in body.get("errors", ()):
            assert error["message"] != UNEXPECTED_ERROR, (kwargs["json"], body)
            assert isinstance(error["extensions"]["code"], str), body
        label = case.operation.label
        answered[label] = answered.get(label, 0) + ("errors" not in body)

    return run
