"""Fixtures shared by every test package.

Every test that touches the store takes ``database_url`` (directly or through ``database``,
``app``, ``client`` ...). It is parametrised over SQLite and, when ``TEST_DATABASE_URL`` is set,
PostgreSQL, so each such test runs once per backend:

* SQLite: a copy of a migrated template file, fresh for each test;
* PostgreSQL: the schema is rebuilt and migrated once per session, and every table is
  truncated before each test.

With ``BLINK_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) the session fails if no PostgreSQL
test ran, so CI cannot silently lose half its coverage.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from db.database import Database
from db.engine import create_engine_for
from db.migrate import upgrade
from db.tables import metadata
from db.tenants import create_tenant
from db.tokens import TokenScope, issue_token

# Tests send requests as fast as they can: only the rate limit's own tests turn it on.
os.environ["BLINK_RATE_LIMIT_PER_SECOND"] = "0"

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
_postgres_tests = 0


def reset_postgres_schema(url: str) -> None:
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "directory.db"
    engine = create_engine_for(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    assert POSTGRES_URL is not None
    reset_postgres_schema(POSTGRES_URL)
    engine = create_engine_for(POSTGRES_URL)
    upgrade(engine)
    engine.dispose()
    return POSTGRES_URL


def truncate_all(url: str) -> None:
    engine = create_engine_for(url)
    try:
        names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty directory database of each backend."""
    global _postgres_tests
    if request.param == "sqlite":
        path = tmp_path / "directory.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_migrated")
    truncate_all(url)
    _postgres_tests += 1
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, token_cache_seconds=5.0)


@pytest.fixture
def app(settings: Settings) -> Starlette:
    return create_app(settings)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@dataclass(frozen=True)
class TenantTokens:
    slug: str
    scim: str
    graphql: str

    def scim_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.scim}"}

    def graphql_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.graphql}"}


@pytest.fixture
def make_tenant(database: Database) -> Callable[[str], TenantTokens]:
    """Create a tenant with one token per scope."""

    def make(slug: str) -> TenantTokens:
        def work(connection: Connection) -> TenantTokens:
            create_tenant(connection, slug, slug.title())
            scim = issue_token(connection, slug, TokenScope.SCIM)
            graphql = issue_token(connection, slug, TokenScope.GRAPHQL)
            return TenantTokens(slug, scim.secret, graphql.secret)

        return database.write_sync(work)

    return make


@pytest.fixture
def tenant(make_tenant: Callable[[str], TenantTokens]) -> TenantTokens:
    return make_tenant("acme")


@pytest.fixture
def scim(client: TestClient, tenant: TenantTokens) -> TestClient:
    """The test client authenticated with tenant ``acme``'s SCIM token."""
    client.headers.update(tenant.scim_headers())
    return client


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("BLINK_REQUIRE_POSTGRES") == "1" and _postgres_tests == 0:
        print("\nBLINK_REQUIRE_POSTGRES=1 but no PostgreSQL-backed test ran")
        session.exitstatus = 1
