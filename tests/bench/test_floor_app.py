"""The framework's floor (``bench.floor_app``) answers the frontend's operations as the
service does: the same data for the same people, so the bench compares like with like."""

import random
from typing import Any

from sqlalchemy import Connection
from starlette.testclient import TestClient

from bench import floor_app, frontend, store
from bench.dataset import generate
from db.database import Database
from db.tokens import TokenScope, issue_token

#: Cursors are opaque and each server has its own; everything else must be equal.
CURSORS = {"cursor", "endCursor"}


def comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items() if key not in CURSORS}
    if isinstance(value, list):
        return [comparable(item) for item in value]
    return value


def test_the_floor_answers_the_frontend_operations_as_the_service_does(
    client: TestClient, database: Database
) -> None:
    org = generate(80, 5)

    def load(connection: Connection) -> str:
        store._load(connection, org, "floor test")
        return issue_token(connection, store.TENANT, TokenScope.GRAPHQL, "floor").secret

    token = database.write_sync(load)
    floor = TestClient(floor_app.create_app(org))
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(7)
    compared = 0
    answers: dict[str, list[Any]] = {}
    for operation in frontend.operations():
        for _ in range(4):
            path = frontend.path(operation, frontend.variables(operation.name, org, rng))
            ours = client.get(path, headers=headers)
            theirs = floor.get(path)
            assert ours.status_code == theirs.status_code == 200, (ours.text, theirs.text)
            assert "errors" not in ours.json()
            assert "errors" not in theirs.json()
            assert comparable(theirs.json()) == comparable(ours.json()), operation.name
            answers.setdefault(operation.name, []).append(ours.json()["data"])
            compared += 1
    assert compared == 4 * len(frontend.operations()) >= 32
    # The answers compared hold the org's groups and log (bench.history), not empty lists.
    assert all(card["user"]["groups"]["totalCount"] >= 3 for card in answers["profile_card"])
    histories = [page["user"]["activity"]["edges"] for page in answers["user_history"]]
    assert all(len(edges) >= 2 for edges in histories)
    assert any(
        edge["node"]["changes"][0]["attribute"] == "title" for edges in histories for edge in edges
    )
    health = answers["provisioning_health"][0]
    assert health["provisioningSummary"]["total"] > health["provisioningSummary"]["failures"] > 0
    assert health["provisioningSummary"]["topFailureReasons"]
    assert health["activity"]["edges"]
