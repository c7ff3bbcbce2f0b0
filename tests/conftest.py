"""Fixtures shared by every test package.

Every test that touches the store takes ``database_url`` (directly or through ``database``,
``app``, ``client`` ...). It is parametrised over SQLite and, when ``TEST_DATABASE_URL`` is set,
PostgreSQL, so each such test runs once per backend:

* SQLite: a copy of a migrated template file, fresh for each test;
* PostgreSQL: the schema is rebuilt and migrated once per session, and every table is
  emptied before each test (see ``empty_postgres``).

Under pytest-xdist (``make test`` runs ``-n 2``) each worker has a database of its own, the
name of ``TEST_DATABASE_URL``'s with the worker's id appended (``test_gw0`` ...), created
when missing, and a SQLite template of its own (its own temporary directory).

With ``BLINK_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) the session fails if no PostgreSQL
test ran, so CI cannot silently lose half its coverage; under xdist the workers' counts are
added up on the controller.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from db.database import Database
from db.engine import create_engine_for, is_sqlite
from db.migrate import upgrade
from db.tables import metadata
from db.tenants import create_tenant
from db.tokens import TokenScope, issue_token

# Tests send requests as fast as they can: only the rate limit's own tests turn it on.
os.environ["BLINK_RATE_LIMIT_PER_SECOND"] = "0"
# A served process collects once at startup and freezes what exists (BLINK_GC_FREEZE). The
# suite starts an app per test in one process, where that collection walks everything every
# earlier test left: only tests/app/test_startup_gc.py turns it on.
os.environ["BLINK_GC_FREEZE"] = "false"


def _worker_url(url: str | None) -> str | None:
    """This xdist worker's own database (``<name>_gw0`` ...), so workers never share tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url is None or worker is None:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(False)


POSTGRES_URL = _worker_url(os.environ.get("TEST_DATABASE_URL"))
if POSTGRES_URL is not None:
    # Tests and the servers they start read the variable too: they get the worker's database.
    os.environ["TEST_DATABASE_URL"] = POSTGRES_URL
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


def create_database_if_missing(url: str) -> None:
    """Create the database ``url`` names, through the server's ``postgres`` database."""
    parsed = make_url(url)
    name = parsed.database
    assert name is not None
    engine = create_engine_for(parsed.set(database="postgres"))
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            query = text("SELECT 1 FROM pg_database WHERE datname = :name")
            if connection.execute(query, {"name": name}).first() is None:
                quoted = connection.dialect.identifier_preparer.quote(name)
                connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    assert POSTGRES_URL is not None
    if os.environ.get("PYTEST_XDIST_WORKER"):
        create_database_if_missing(POSTGRES_URL)
    reset_postgres_schema(POSTGRES_URL)
    engine = create_engine_for(POSTGRES_URL)
    upgrade(engine)
    engine.dispose()
    return POSTGRES_URL


#: A table past this many pages, or with statistics, is truncated rather than emptied with
#: DELETE: PostgreSQL's planner assumes 10 pages for a table it has no statistics of and that
#: holds fewer (what TRUNCATE leaves), so the query-plan tests see the table TRUNCATE leaves.
_TRUNCATE_PAGES = 10

_EMPTY_STATE = text(
    "SELECT c.relname, c.reltuples >= 0 OR pg_relation_size(c.oid)"
    " >= :pages * current_setting('block_size')::int"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND c.relname = ANY(:names) AND c.relkind = 'r'"
)


def empty_postgres(connection: Connection) -> None:
    """Leave every table empty and every identity sequence at its start, as ``TRUNCATE ...
    RESTART IDENTITY`` would. TRUNCATE replaces each table's files and flushes its commit
    (about 25 ms a table here); a DELETE of the few rows a test leaves costs next to nothing,
    so only the tables that grew or gathered statistics are truncated."""
    names = [table.name for table in metadata.sorted_tables]
    rows = connection.execute(_EMPTY_STATE, {"names": names, "pages": _TRUNCATE_PAGES}).all()
    large = {name for name, is_large in rows if is_large}
    if large:
        listed = ", ".join(f'"{name}"' for name in sorted(large))
        connection.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))
    for table in reversed(metadata.sorted_tables):  # referencing tables first
        if table.name not in large:
            connection.execute(text(f'DELETE FROM "{table.name}"'))
    # The identity sequences of the tables, wherever a test left them.
    connection.execute(
        text(
            "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s"
            " JOIN pg_depend d ON d.objid = s.seqrelid AND d.deptype IN ('a', 'i')"
            " JOIN pg_class t ON t.oid = d.refobjid"
            " JOIN pg_namespace n ON n.oid = t.relnamespace"
            " WHERE n.nspname = current_schema() AND t.relname = ANY(:names)"
        ),
        {"names": names},
    )


@pytest.fixture(scope="session")
def postgres_reset(postgres_migrated: str) -> Iterator[Callable[[], None]]:
    """Empties the session's PostgreSQL database, on one connection kept for the session."""
    engine = create_engine_for(postgres_migrated)
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def reset() -> None:
        empty_postgres(connection)

    try:
        yield reset
    finally:
        connection.close()
        engine.dispose()


def empty_database_url(
    request: pytest.FixtureRequest, directory: Path, sqlite_template: Path
) -> str:
    """A migrated, empty directory database of the backend ``request.param``: a copy of the
    template in ``directory``, or the session's PostgreSQL database emptied. For
    ``database_url`` and for module-scoped fixtures whose tests share one database."""
    global _postgres_tests
    if request.param == "sqlite":
        path = directory / "directory.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_migrated")
    request.getfixturevalue("postgres_reset")()
    _postgres_tests += 1
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty directory database of each backend."""
    return empty_database_url(request, tmp_path, sqlite_template)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


def _drop_database(url: str) -> None:
    parsed = make_url(url)
    engine = create_engine_for(parsed.set(database="postgres"))
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            quoted = connection.dialect.identifier_preparer.quote(parsed.database or "")
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    finally:
        engine.dispose()


@pytest.fixture
def isolated_database(database_url: str) -> Iterator[Database]:
    """``database``, but on PostgreSQL a database of its own, dropped afterwards: for tests
    that leave behind what the shared one must not keep (planner statistics, which TRUNCATE
    does not remove and which change later tests' plans)."""
    if is_sqlite(database_url):
        db = Database(database_url)
        try:
            yield db
        finally:
            db.dispose()
        return
    with postgres_database_of_its_own(database_url, "isolated") as url:
        db = Database(url)
        try:
            yield db
        finally:
            db.dispose()


@contextmanager
def postgres_database_of_its_own(url: str, suffix: str) -> Iterator[str]:
    """A migrated PostgreSQL database beside ``url``'s (its name with ``_<suffix>``), dropped
    afterwards."""
    parsed = make_url(url)
    own = parsed.set(database=f"{parsed.database}_{suffix}").render_as_string(False)
    _drop_database(own)
    create_database_if_missing(own)
    engine = create_engine_for(own)
    upgrade(engine)
    engine.dispose()
    try:
        yield own
    finally:
        _drop_database(own)


@pytest.fixture
def settings(database_url: str) -> Settings:
    # No ANALYZE by the app (app.statistics): the statistics it would leave behind in the
    # shared test database would change later tests' plans (tests/app/test_statistics.py).
    return Settings(database_url=database_url, token_cache_seconds=5.0, db_analyze_seconds=0)


@pytest.fixture
def app(settings: Settings) -> Iterator[Starlette]:
    built = create_app(settings)
    yield built
    # Its lifespan disposes the store when a test client ran it; a test that sent requests
    # another way (httpx's ASGITransport) leaves that to here, or its pooled connections
    # would be left to the garbage collector.
    built.state.database.dispose()


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


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """xdist's controller: add up the PostgreSQL-backed tests each worker ran."""
    global _postgres_tests
    output = getattr(node, "workeroutput", {})
    _postgres_tests += int(output.get("postgres_tests", 0))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller decides
        workeroutput["postgres_tests"] = _postgres_tests
        return
    if os.environ.get("BLINK_REQUIRE_POSTGRES") == "1" and _postgres_tests == 0:
        print("\nBLINK_REQUIRE_POSTGRES=1 but no PostgreSQL-backed test ran")
        session.exitstatus = 1
