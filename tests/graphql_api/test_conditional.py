"""ETags and 304s on GraphQL answers, and automatic persisted queries (issue 17)."""

import json
import sys
import urllib.parse
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.graphql_api.persisted import sha256_hex
from db.activity_retention import prune_sync
from db.database import Database
from db.tables import activity_events, tenants
from db.tokens import revoke_token
from db.types import utcnow
from tests.conftest import TenantTokens

ROOT = Path(__file__).resolve().parents[2]
PROFILE_CARD = (ROOT / "graphql" / "operations" / "profile_card.graphql").read_text()
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CARD = """query($id: ID!) {
  user(id: $id) { displayName manager { id } groups(first: 5) { totalCount } }
}"""


class Tenant:
    def __init__(self, client: TestClient, tokens: TenantTokens) -> None:
        self.client = client
        self.tokens = tokens

    def scim(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.client.request(
            method, f"/scim/v2{path}", json=body, headers=self.tokens.scim_headers()
        )
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def user(self, name: str) -> str:
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}
        return str(self.scim("POST", "/Users", body)["id"])

    def patch(self, path: str, *operations: dict[str, Any]) -> None:
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": list(operations),
        }
        self.scim("PATCH", path, body)

    def post(self, body: dict[str, Any], etag: str | None = None) -> Any:
        headers = self.tokens.graphql_headers()
        if etag is not None:
            headers["If-None-Match"] = etag
        return self.client.post("/graphql", json=body, headers=headers)

    def get(self, params: dict[str, str], etag: str | None = None) -> Any:
        headers = self.tokens.graphql_headers()
        if etag is not None:
            headers["If-None-Match"] = etag
        return self.client.get("/graphql", params=params, headers=headers)

    def etag(self, user_id: str) -> str:
        response = self.post({"query": CARD, "variables": {"id": user_id}})
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "private, no-cache"
        return str(response.headers["etag"])


@pytest.fixture
def acme(client: TestClient, make_tenant: Callable[[str], TenantTokens]) -> Tenant:
    return Tenant(client, make_tenant("acme"))


@pytest.fixture
def globex(client: TestClient, make_tenant: Callable[[str], TenantTokens]) -> Tenant:
    return Tenant(client, make_tenant("globex"))


def test_an_unchanged_answer_is_a_304_without_a_body(acme: Tenant) -> None:
    ada = acme.user("ada@acme.test")
    body = {"query": CARD, "variables": {"id": ada}}
    first = acme.post(body)
    etag = first.headers["etag"]
    assert first.json()["data"]["user"]["displayName"] is None
    again = acme.post(body, etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "private, no-cache"
    # other variables, another document, or another ETag: a full answer
    other = acme.user("bob@acme.test")
    assert acme.post({"query": CARD, "variables": {"id": other}}, etag).status_code == 200
    assert acme.post({"query": "{ tenant { slug } }"}, etag).status_code == 200
    assert acme.post(body, '"stale"').status_code == 200


def test_get_answers_carry_the_same_etag_and_answer_304(acme: Tenant) -> None:
    ada = acme.user("ada@acme.test")
    etag = acme.etag(ada)
    params = {"query": CARD, "variables": json.dumps({"id": ada})}
    response = acme.get(params)
    assert response.status_code == 200
    assert response.headers["etag"] == etag
    assert acme.get(params, f'W/{etag}, "other"').status_code == 304


def test_a_get_query_string_is_parsed_once(acme: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ETag layer and the view read one parse of a GET's query string (the whole
    document, percent-encoded); a persisted query's rewritten one is parsed anew."""
    parses: list[str] = []
    decode = urllib.parse.parse_qsl

    def counted(text: str, *args: Any, **kwargs: Any) -> Any:
        parses.append(text)
        return decode(text, *args, **kwargs)

    # Every module that decodes query strings with it (Starlette's, and ours if any).
    for module in list(sys.modules.values()):
        if getattr(module, "parse_qsl", None) is decode:
            monkeypatch.setattr(module, "parse_qsl", counted)
    ada = acme.user("ada@acme.test")
    variables = json.dumps({"id": ada})
    response = acme.get({"query": PROFILE_CARD, "variables": variables})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["user"]["id"] == ada
    assert len(parses) == 1
    parses.clear()
    # a frontend operation by its hash alone
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(PROFILE_CARD)}}
    by_hash = acme.get({"variables": variables, "extensions": json.dumps(extensions)})
    assert by_hash.json() == response.json()
    assert len(parses) == 2  # the hash's, then the query string with the document filled in


def test_every_kind_of_write_changes_the_etag_of_its_tenant_only(
    acme: Tenant, globex: Tenant
) -> None:
    ada, bob = acme.user("ada@acme.test"), acme.user("bob@acme.test")
    stranger = globex.user("eve@globex.test")
    seen = {acme.etag(ada)}
    their = globex.etag(stranger)

    def changed() -> None:
        etag = acme.etag(ada)
        assert etag not in seen
        seen.add(etag)
        assert globex.etag(stranger) == their

    acme.patch(f"/Users/{ada}", {"op": "replace", "path": "title", "value": "Engineer"})
    changed()
    acme.patch(f"/Users/{ada}", {"op": "add", "path": f"{ENTERPRISE}:manager", "value": bob})
    changed()
    group = acme.scim(
        "POST",
        "/Groups",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng"},
    )["id"]
    changed()
    acme.patch(f"/Groups/{group}", {"op": "add", "path": "members", "value": [{"value": ada}]})
    changed()
    acme.patch(f"/Groups/{group}", {"op": "replace", "path": "displayName", "value": "R&D"})
    changed()
    acme.scim("DELETE", f"/Users/{bob}")
    changed()
    acme.scim("DELETE", f"/Groups/{group}")
    changed()
    # a refused write is recorded in the activity log, which GraphQL reads too
    refused = acme.client.post(
        "/scim/v2/Users",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada@acme.test",
        },
        headers=acme.tokens.scim_headers(),
    )
    assert refused.status_code == 409
    changed()
    # and the other way round: acme's ETag stays while globex writes
    etag = acme.etag(ada)
    globex.user("mallory@globex.test")
    assert acme.etag(ada) == etag


def test_a_revoked_token_gets_401_never_a_304(
    app: Starlette, acme: Tenant, database: Database
) -> None:
    ada = acme.user("ada@acme.test")
    body = {"query": CARD, "variables": {"id": ada}}
    etag = acme.etag(ada)
    assert acme.post(body, etag).status_code == 304
    [token_id] = database.read_sync(
        lambda connection: (
            connection.exec_driver_sql("SELECT id FROM api_token WHERE scope = 'graphql'")
            .scalars()
            .all()
        )
    )
    database.write_sync(lambda connection: revoke_token(connection, token_id))
    app.state.token_verifier.forget(token_id)  # what the cache TTL does in other processes
    response = acme.post(body, etag)
    assert response.status_code == 401
    assert "etag" not in response.headers


HISTORY = "{ activity(first: 10) { edges { node { resourceName } } } }"


def test_pruning_the_activity_log_changes_the_etag_of_the_tenants_it_pruned(
    acme: Tenant, globex: Tenant, database: Database
) -> None:
    for name in ("ada", "bob", "cy"):
        acme.user(f"{name}@acme.test")
    globex.user("eve@globex.test")
    globex.user("mallory@globex.test")

    def answer(tenant: Tenant) -> tuple[str, list[str]]:
        response = tenant.post({"query": HISTORY})
        assert response.status_code == 200, response.text
        edges = response.json()["data"]["activity"]["edges"]
        return response.headers["etag"], [edge["node"]["resourceName"] for edge in edges]

    etag, names = answer(acme)  # numbers the events of both tenants' logs read so far
    their_etag, _ = answer(globex)
    assert len(names) == 3
    # acme's events become old without a write of the tenant's (the ETag stays)...
    acme_id = database.read_sync(
        lambda connection: connection.execute(select(tenants.c.id).where(tenants.c.slug == "acme"))
    ).scalar_one()
    database.write_sync(
        lambda connection: connection.execute(
            update(activity_events)
            .where(activity_events.c.tenant_id == acme_id)
            .values(occurred_at=utcnow() - timedelta(days=100))
        )
    )
    assert acme.post({"query": HISTORY}, etag).status_code == 304
    # ...and the pruning that deletes them answers the old ETag with the new log
    assert prune_sync(database, 90) == 2
    new_etag, remaining = answer(acme)
    assert new_etag != etag
    assert remaining == names[:1]
    assert acme.post({"query": HISTORY}, etag).status_code == 200
    assert answer(globex)[0] == their_etag  # nothing of globex's was old


def test_persisted_queries_answer_as_the_documents_they_stand_for(acme: Tenant) -> None:
    ada = acme.user("ada@acme.test")
    variables = {"id": ada}
    digest = sha256_hex(CARD)
    by_hash = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    unknown = acme.post({"variables": variables, "extensions": by_hash})
    assert unknown.status_code == 200
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    plain = acme.post({"query": CARD, "variables": variables})
    registered = acme.post({"query": CARD, "variables": variables, "extensions": by_hash})
    hashed = acme.post({"variables": variables, "extensions": by_hash})
    over_get = acme.get({"variables": json.dumps(variables), "extensions": json.dumps(by_hash)})
    assert plain.json()["data"]["user"] is not None
    for response in (registered, hashed, over_get):
        assert response.status_code == 200
        assert response.content == plain.content
        assert response.headers["etag"] == plain.headers["etag"]
    assert (
        acme.post(
            {"variables": variables, "extensions": by_hash}, plain.headers["etag"]
        ).status_code
        == 304
    )


def test_the_frontend_operations_are_known_by_hash_from_the_start(acme: Tenant) -> None:
    ada = acme.user("ada@acme.test")
    by_hash = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(PROFILE_CARD)}}
    hashed = acme.get({"variables": json.dumps({"id": ada}), "extensions": json.dumps(by_hash)})
    plain = acme.post({"query": PROFILE_CARD, "variables": {"id": ada}})
    assert hashed.status_code == 200
    assert hashed.json() == plain.json()
    assert hashed.json()["data"]["user"]["id"] == ada


@pytest.mark.parametrize(
    "persisted",
    [
        {"version": 1, "sha256Hash": sha256_hex("{ tenant { slug } }")},  # not this query's
        {"version": 2, "sha256Hash": sha256_hex(CARD)},
        {"version": 1, "sha256Hash": "abc"},
        "not an object",
    ],
)
def test_a_bad_persisted_query_is_a_400_with_a_code(acme: Tenant, persisted: object) -> None:
    response = acme.post({"query": CARD, "extensions": {"persistedQuery": persisted}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_PERSISTED_QUERY"
