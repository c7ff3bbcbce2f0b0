"""PostgreSQL out of reach, a pooled connection killed, a runaway query: every answer is a
clear error of the front-end's own format (a 503, never a plain-text 500), and the service
recovers by itself.

PostgreSQL only: SQLite is a file in the process, it has no server to lose, no connections to
kill and no statement timeout.
"""

import asyncio
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import anyio
import psycopg
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

import app.graphql_api.loaders
import scim.users
from app.main import create_app
from app.settings import Settings
from db.database import Database
from db.errors import Unavailable
from tests.conftest import BACKENDS, TenantTokens

pytestmark = pytest.mark.parametrize(
    "database_url", [backend for backend in BACKENDS if backend == "postgresql"], indirect=True
)

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
LOOKUP = '/scim/Users?filter=userName eq "{}"'
QUERY = {"query": "{ tenant { slug } }"}


def _admin(database_url: str) -> psycopg.Connection[Any]:
    uri = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    return psycopg.connect(uri, autocommit=True)


@pytest.fixture
def started(database_url: str) -> datetime:
    """The server's clock before the test's app connected: connections opened since are the
    test's (the suite keeps one of its own for the whole session, which must live on)."""
    with _admin(database_url) as admin:
        row = admin.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    value: datetime = row[0]
    return value


def terminate_backends_since(database_url: str, since: datetime) -> int:
    """What a failover or a restart of PostgreSQL does to the app's connections."""
    with _admin(database_url) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_start >= %s",
            (since,),
        ).fetchall()
    return len(rows)


@pytest.fixture
def uncached(settings: Settings) -> Iterator[TestClient]:
    """A client of an app that checks the token in the store on every request."""
    app = create_app(settings.model_copy(update={"token_cache_seconds": 0}))
    with TestClient(app) as client:
        yield client


def _create(client: TestClient, tenant: TenantTokens, name: str) -> int:
    body = {"schemas": [USER], "userName": name}
    return client.post("/scim/Users", json=body, headers=tenant.scim_headers()).status_code


def test_killed_connections_are_replaced_and_never_answered_500(
    started: datetime, uncached: TestClient, tenant: TenantTokens, database_url: str
) -> None:
    client = uncached
    for index in range(5):  # fills the pool with connections, then kills them all
        assert _create(client, tenant, f"before{index}@example.com") == 201
    for round_ in range(3):
        assert terminate_backends_since(database_url, started) >= 1
        # The first request of each kind meets a dead pooled connection: the token check (a
        # write), a look-up (a read), a create, and GraphQL.
        found = client.get(LOOKUP.format("before1@example.com"), headers=tenant.scim_headers())
        assert found.status_code == 200
        assert found.json()["totalResults"] == 1
        assert _create(client, tenant, f"after{round_}@example.com") == 201
        answer = client.post("/graphql", json=QUERY, headers=tenant.graphql_headers())
        assert answer.status_code == 200
        assert answer.json() == {"data": {"tenant": {"slug": "acme"}}}
        assert client.get("/readyz").status_code == 200
    listed = client.get("/scim/Users?count=100", headers=tenant.scim_headers()).json()
    assert listed["totalResults"] == 8  # every create applied once


def test_connections_killed_mid_traffic_cost_no_500(
    started: datetime, uncached: TestClient, tenant: TenantTokens, database_url: str
) -> None:
    """Requests on four threads while the backends are terminated over and over: an answer
    may be a 503 (a COMMIT cut off before its answer is not run again), never a 500 or plain
    text, and once the killing stops every request succeeds."""
    client = uncached
    statuses: list[int] = []
    bodies: list[Any] = []
    stop = threading.Event()

    def traffic(worker: int) -> None:
        index = 0
        while not stop.is_set():
            index += 1
            if index % 3 == 0:
                response = client.post(
                    "/scim/Users",
                    json={"schemas": [USER], "userName": f"w{worker}-{index}@example.com"},
                    headers=tenant.scim_headers(),
                )
            else:
                response = client.get(
                    LOOKUP.format(f"w{worker}-1@example.com"), headers=tenant.scim_headers()
                )
            statuses.append(response.status_code)
            if response.status_code >= 500:
                bodies.append(response.json())  # JSON, or this raises

    workers = [threading.Thread(target=traffic, args=(worker,)) for worker in range(4)]
    for thread in workers:
        thread.start()
    try:
        for _ in range(6):
            stop.wait(0.3)
            terminate_backends_since(database_url, started)
    finally:
        stop.set()
        for thread in workers:
            thread.join()
    assert len(statuses) >= 20
    assert 500 not in statuses
    assert set(statuses) <= {200, 201, 503}
    assert all(body["schemas"] == [SCIM_ERROR] and body["status"] == "503" for body in bodies)
    after = [_create(client, tenant, f"calm{index}@example.com") for index in range(5)]
    assert after == [201] * 5


def test_a_runaway_query_is_cut_off_by_the_statement_timeout(
    settings: Settings, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_get_user = scim.users.get_user

    def slow_get_user(connection: Connection, *args: Any, **kwargs: Any) -> Any:
        connection.execute(text("SELECT pg_sleep(10)"))
        return real_get_user(connection, *args, **kwargs)

    monkeypatch.setattr(scim.users, "get_user", slow_get_user)
    app = create_app(settings.model_copy(update={"db_statement_timeout_ms": 200}))
    with TestClient(app) as client:
        answer = client.get(
            "/scim/Users/00000000-0000-0000-0000-000000000000", headers=tenant.scim_headers()
        )
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("application/scim+json")
        body = answer.json()
        assert body["schemas"] == [SCIM_ERROR]
        assert "statement timeout" in body["detail"]
        # the connection the statement ran on is still good for the next request
        monkeypatch.setattr(scim.users, "get_user", real_get_user)
        again = client.get(
            "/scim/Users/00000000-0000-0000-0000-000000000000", headers=tenant.scim_headers()
        )
        assert again.status_code == 404


def test_a_database_out_of_reach_is_a_503_of_each_front_end(
    settings: Settings, tenant: TenantTokens
) -> None:
    """The token check is the first to need the store (tokens are not cached yet)."""
    gone = make_url(settings.database_url).set(port=1).render_as_string(False)
    app = create_app(settings.model_copy(update={"database_url": gone}))
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"

        scim_answer = client.get(LOOKUP.format("a@example.com"), headers=tenant.scim_headers())
        assert scim_answer.status_code == 503
        assert scim_answer.headers["content-type"].startswith("application/scim+json")
        assert scim_answer.json()["schemas"] == [SCIM_ERROR]
        assert scim_answer.json()["status"] == "503"

        graphql = client.post("/graphql", json=QUERY, headers=tenant.graphql_headers())
        assert graphql.status_code == 503
        [error] = graphql.json()["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"

        token = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
        )
        assert token.status_code == 503
        assert token.json()["error"] == "temporarily_unavailable"


def test_graphql_resolvers_that_lose_the_store_answer_503_with_a_code(
    client: TestClient, tenant: TenantTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token is cached, so the store is first needed inside the operation: the error
    the store raises there is shown with its code, not masked as an unexpected one."""
    headers = tenant.graphql_headers()
    query = {"query": '{ user(userName: "nobody@example.com") { id } }'}
    assert client.post("/graphql", json=query, headers=headers).status_code == 200

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise Unavailable("the database cannot be reached; try again")

    monkeypatch.setattr(app.graphql_api.loaders, "users_by_user_names", unreachable)
    answer = client.post("/graphql", json=query, headers=headers)
    assert answer.status_code == 503
    [error] = answer.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"] == "the database cannot be reached; try again"


class Relay:
    """A TCP relay to PostgreSQL that can be stopped and started again on the same port: to
    the app, a PostgreSQL server that restarts (every connection dies, new ones are refused
    meanwhile, then accepted again). The shared test server itself is never restarted."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def start(self) -> None:
        async def listen() -> None:
            self.server = await asyncio.start_server(
                self._relay, "127.0.0.1", self.port, reuse_address=True
            )
            self.port = self.server.sockets[0].getsockname()[1]

        self._run(listen())

    def stop(self) -> None:
        async def close() -> None:
            assert self.server is not None
            self.server.close()
            for writer in self.writers:
                writer.transport.abort()
            self.writers.clear()

        self._run(close())

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def test_the_service_recovers_by_itself_when_postgresql_restarts(
    settings: Settings, tenant: TenantTokens
) -> None:
    """While the server is down every answer is a 503 of its front-end; once it is back the
    first requests succeed, on new connections, without restarting the app."""
    url = make_url(settings.database_url)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    relay.start()
    relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(False)
    app = create_app(
        settings.model_copy(update={"database_url": relayed, "token_cache_seconds": 0})
    )
    try:
        with TestClient(app) as client:
            assert client.get("/readyz").status_code == 200
            assert _create(client, tenant, "before@example.com") == 201

            relay.stop()
            assert client.get("/readyz").status_code == 503
            down = client.get(LOOKUP.format("before@example.com"), headers=tenant.scim_headers())
            assert down.status_code == 503
            assert down.json()["schemas"] == [SCIM_ERROR]
            graphql = client.post("/graphql", json=QUERY, headers=tenant.graphql_headers())
            assert graphql.status_code == 503
            assert graphql.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert _create(client, tenant, "during@example.com") == 503

            relay.start()
            assert client.get("/readyz").status_code == 200
            found = client.get(LOOKUP.format("before@example.com"), headers=tenant.scim_headers())
            assert found.status_code == 200
            assert found.json()["totalResults"] == 1
            assert _create(client, tenant, "after@example.com") == 201
            graphql = client.post("/graphql", json=QUERY, headers=tenant.graphql_headers())
            assert graphql.status_code == 200
            assert graphql.json()["data"]["tenant"]["slug"] == tenant.slug
            during = client.get(LOOKUP.format("during@example.com"), headers=tenant.scim_headers())
            assert during.json()["totalResults"] == 0  # the refused create left nothing
    finally:
        relay.close()


def test_a_create_on_a_dead_connection_is_a_503_or_a_201_never_twice(
    started: datetime, uncached: TestClient, tenant: TenantTokens, database_url: str
) -> None:
    """A create is one statement in autocommit (``Database.write(one_statement=True)``): one
    that loses its connection may have committed, so it is answered 503, not run again; the
    next request finds a fresh pool."""
    client = uncached
    for index in range(3):
        assert _create(client, tenant, f"warm{index}@example.com") == 201
    assert terminate_backends_since(database_url, started) >= 1
    # the token check (uncached) meets the dead connection first, and replaces the pool
    assert _create(client, tenant, "after@example.com") in (201, 503)
    assert terminate_backends_since(database_url, started) >= 1
    client.headers.update(tenant.scim_headers())
    statuses = [_create(client, tenant, "again@example.com") for _ in range(3)]
    assert 500 not in statuses
    assert statuses.count(201) == 1  # created once; the others are 409 or a 503 before it
    found = client.get(LOOKUP.format("again@example.com"), headers=tenant.scim_headers())
    assert found.json()["totalResults"] == 1


def test_a_one_statement_write_that_loses_its_connection_is_not_run_again(
    started: datetime, database_url: str
) -> None:
    database = Database(database_url)
    runs: list[int] = []

    def stamp(connection: Connection) -> int:
        runs.append(1)
        return int(connection.execute(text("SELECT 1")).scalar_one())

    async def scenario() -> None:
        assert await database.write(stamp, one_statement=True) == 1  # opens a connection
        assert terminate_backends_since(database_url, started) >= 1
        with pytest.raises(Unavailable):
            await database.write(stamp, one_statement=True)
        assert await database.write(stamp, one_statement=True) == 1  # a fresh pool

    try:
        anyio.run(scenario)
    finally:
        database.dispose()
    assert len(runs) == 3  # the failed one ran once
