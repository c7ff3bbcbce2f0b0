"""Liveness and readiness probes."""

from starlette.testclient import TestClient

from app.main import create_app
from app.settings import Settings


def test_healthz_and_readyz_answer_ok(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/nothing")
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
