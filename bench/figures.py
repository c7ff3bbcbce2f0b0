"""Each benchmark figure: what it sends, to which server, and how it is turned into a number."""

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from bench import direct_sql
from bench.client import HttpConnection, filter_path
from bench.dataset import Org
from bench.loadgen import Throughput, python_load, run_wrk
from bench.servers import HOST, Server
from db.database import Database
from db.tenants import get_tenant

LOOKUP_PATHS = 5_000

REPORTS_QUERY = """
query Reports($id: ID!) {
  user(id: $id) {
    reports(first: 100, maxDepth: 3) {
      totalCount
      edges { depth node { displayName title manager { displayName } } }
    }
  }
}
"""

PAGE_QUERY = """
query Page($after: String) {
  users(first: 100, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id userName displayName manager { displayName } directReportCount reportCount } }
  }
}
"""


@dataclass(frozen=True, slots=True)
class LoadSettings:
    wrk: str | None
    seconds: float
    connections: int
    seed: int
    work_dir: Path


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def _connect(server: Server, token: str | None) -> HttpConnection:
    return await HttpConnection(HOST, server.port, token).open()


# -- SCIM look-ups --------------------------------------------------------------------------


def lookup_paths(org: Org, prefix: str, settings: LoadSettings, name: str) -> Path:
    """A file of ``GET`` paths matching random existing users by userName."""
    rng = random.Random(settings.seed)
    people = [rng.choice(org.people) for _ in range(LOOKUP_PATHS)]
    path = settings.work_dir / f"paths-{name}.txt"
    path.write_text("".join(filter_path(prefix, p.user_name) + "\n" for p in people))
    return path


async def _probe_lookup(server: Server, token: str | None, paths: list[str]) -> str:
    """Empty when look-ups work; otherwise why they cannot be measured."""
    connection = await _connect(server, token)
    try:
        for path in paths:
            reply = await connection.get(path)
            if reply.status == 404:
                return "n/a (endpoint missing)"
            if reply.status != 200:
                return f"n/a (HTTP {reply.status}: {reply.body[:120]!r})"
            body = reply.json()
            if not isinstance(body, dict) or body.get("totalResults") != 1:
                return f"n/a (wrong answer: {reply.body[:120]!r})"
        return ""
    finally:
        await connection.close()


Probe = Callable[[Server, str | None, list[str]], Awaitable[str]]


def median_pair(pairs: list[tuple[Throughput, Throughput]]) -> int:
    """Which of the (floor, service) pairs holds the median ratio of the service's req/s to
    the floor's just before it (the lower of the middle two for an even count): one pair's
    figures, p50, p99 and CPU together, rather than medians taken from different runs."""
    if not pairs:
        raise ValueError("no pairs")
    order = sorted(range(len(pairs)), key=lambda i: pairs[i][1].rps / pairs[i][0].rps)
    return order[(len(order) - 1) // 2]


def lookup_throughput(
    server: Server, token: str | None, paths_file: Path, settings: LoadSettings
) -> tuple[Throughput | None, str]:
    return throughput(server, token, paths_file, settings, _probe_lookup)


def throughput(
    server: Server, token: str | None, paths_file: Path, settings: LoadSettings, probe: Probe
) -> tuple[Throughput | None, str]:
    """GETs of random paths of ``paths_file`` under load, once ``probe`` (empty when the
    first paths are answered right, else why not) has accepted the server."""
    paths = paths_file.read_text().split()
    problem = _run(probe(server, token, paths[:20]))
    if problem:
        return None, problem
    if settings.wrk:
        # A short warm-up first: caches, the SQLite page cache, PostgreSQL plans.
        run_wrk(
            settings.wrk,
            server.base_url,
            paths_file,
            seconds=1,
            connections=settings.connections,
            token=token,
            seed=settings.seed + 1,
        )
        began_cpu = server.cpu_seconds()
        result = run_wrk(
            settings.wrk,
            server.base_url,
            paths_file,
            seconds=settings.seconds,
            connections=settings.connections,
            token=token,
            seed=settings.seed,
        )
    else:
        python_load(
            HOST, server.port, paths, seconds=1, connections=settings.connections, token=token
        )
        began_cpu = server.cpu_seconds()
        result = python_load(
            HOST,
            server.port,
            paths,
            seconds=settings.seconds,
            connections=settings.connections,
            token=token,
        )
    result = replace(result, server_cpu_s=server.cpu_seconds() - began_cpu)
    note = f"{result.errors} errors" if result.errors else ""
    return result, note


# -- GraphQL --------------------------------------------------------------------------------


async def _graphql(
    connection: HttpConnection, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    reply = await connection.send_json(
        "POST", "/graphql", {"query": query, "variables": variables}, "application/json"
    )
    try:
        body = reply.json()
    except ValueError:
        body = None
    if reply.status != 200 or not isinstance(body, dict) or body.get("errors"):
        raise GraphQLFailure(f"HTTP {reply.status}: {reply.body[:300]!r}")
    return body


class GraphQLFailure(Exception):
    pass


async def _graphql_fields(server: Server, token: str) -> set[str]:
    connection = await _connect(server, token)
    try:
        body = await _graphql(connection, "{ __schema { queryType { fields { name } } } }", {})
        return {f["name"] for f in body["data"]["__schema"]["queryType"]["fields"]}
    finally:
        await connection.close()


def graphql_missing(server: Server, token: str, needed: set[str]) -> str:
    try:
        fields = _run(_graphql_fields(server, token))
    except (GraphQLFailure, KeyError, TypeError) as error:
        return f"n/a (GraphQL unusable: {error})"
    absent = needed - fields
    return f"n/a (endpoint missing: Query.{', Query.'.join(sorted(absent))})" if absent else ""


async def _latency(
    server: Server, token: str, query: str, variables: dict[str, Any], repeat: int
) -> tuple[float, dict[str, Any]]:
    connection = await _connect(server, token)
    try:
        body = await _graphql(connection, query, variables)
        for _ in range(max(10, repeat // 10)):
            await _graphql(connection, query, variables)
        timings = []
        for _ in range(repeat):
            began = time.perf_counter()
            await _graphql(connection, query, variables)
            timings.append(time.perf_counter() - began)
        return statistics.median(timings) * 1000, body
    finally:
        await connection.close()


def graphql_latency(
    server: Server, token: str, query: str, variables: dict[str, Any], repeat: int
) -> tuple[float, float]:
    """One request at a time: the median round trip in ms and the server's CPU per request
    in µs (warm-up included in neither)."""
    _run(_latency(server, token, query, variables, 10))  # warm: token cache, plans
    began_cpu = server.cpu_seconds()
    median_ms, _ = _run(_latency(server, token, query, variables, repeat))
    sent = repeat + max(10, repeat // 10) + 1
    return median_ms, 1e6 * (server.cpu_seconds() - began_cpu) / sent


def graphql_statements(
    server: Server, token: str, query: str, variables: dict[str, Any]
) -> tuple[int, list[str]]:
    """Statements of one warm request (a server started with ``BENCH_COUNT_SQL=1``)."""
    return _run(_statements(server, token, query, variables))  # type: ignore[no-any-return]


def reports_target(org: Org) -> Any:
    """The VP (a CEO's direct report) with the most reports within 3 levels."""
    ceo = org.people[0]
    return max((org.people[i] for i in ceo.reports), key=lambda p: org.reports_within(p, 3))


def graphql_vs_sql(
    server: Server, token: str, database_url: str, org: Org, repeat: int
) -> tuple[float, float, int]:
    """Median ms of the reports query over HTTP, of its SQL run directly, and its totalCount."""
    person = reports_target(org)
    graphql_ms, body = _run(_latency(server, token, REPORTS_QUERY, {"id": person.id}, repeat))
    total = int(body["data"]["user"]["reports"]["totalCount"])
    database = Database(database_url)
    try:
        tenant = database.read_sync(lambda connection: get_tenant(connection, "bench"))
        statements = direct_sql.reports_statements(tenant.id, person.id)
        sql_ms = direct_sql.median_ms(database, statements, repeat)
    finally:
        database.dispose()
    return graphql_ms, sql_ms, total


async def _statements(
    server: Server, token: str, query: str, variables: dict[str, Any]
) -> tuple[int, list[str]]:
    connection = await _connect(server, token)
    try:
        await _graphql(connection, query, variables)  # warm: token cache, parsing
        await connection.get("/__bench/sql")
        await _graphql(connection, query, variables)
        reply = await connection.get("/__bench/sql")
        body = reply.json()
        assert isinstance(body, dict)
        sql = [str(statement) for statement in body["sql"]]
        return sum(1 for statement in sql if not _transaction_control(statement)), sql
    finally:
        await connection.close()


def _transaction_control(statement: str) -> bool:
    """BEGIN/COMMIT/ROLLBACK: SQLite's explicit BEGIN per read is counted apart."""
    return statement.split(" ", 1)[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT")


def statement_counts(server: Server, token: str, org: Org, log_file: Path) -> tuple[int, int]:
    """Statements per request (warm), listed in ``log_file``."""
    person = reports_target(org)
    reports, reports_sql = _run(_statements(server, token, REPORTS_QUERY, {"id": person.id}))
    page, page_sql = _run(_statements(server, token, PAGE_QUERY, {"after": None}))
    lines = ["# reports query", *reports_sql, "", "# users(first: 100) page", *page_sql]
    lines.append("")
    lines.append("# counted: every statement but BEGIN/COMMIT/ROLLBACK (one BEGIN per read)")
    log_file.write_text("\n".join(lines) + "\n")
    return reports, page


# -- paging through everyone (peak RSS) -----------------------------------------------------


async def _page_scim(server: Server, token: str, budget: float) -> tuple[int, str]:
    connection = await _connect(server, token)
    try:
        reply = await connection.get("/scim/ServiceProviderConfig")
        config = reply.json()
        assert isinstance(config, dict)
        count = min(int(config.get("filter", {}).get("maxResults") or 100), 1000)
        seen, start, deadline = 0, 1, time.monotonic() + budget
        while time.monotonic() < deadline:
            reply = await connection.get(f"/scim/Users?startIndex={start}&count={count}")
            if reply.status != 200:
                return seen, f"HTTP {reply.status} at startIndex={start}"
            body = orjson.loads(reply.body)
            page = len(body.get("Resources", []))
            seen += page
            start += page
            if page == 0 or start > int(body["totalResults"]):
                return seen, f"pages of {count}"
        return seen, f"stopped after {budget:.0f} s (pages of {count})"
    finally:
        await connection.close()


async def _page_graphql(server: Server, token: str, budget: float) -> tuple[int, str]:
    connection = await _connect(server, token)
    try:
        seen, after, deadline = 0, None, time.monotonic() + budget
        while time.monotonic() < deadline:
            body = await _graphql(connection, PAGE_QUERY, {"after": after})
            users = body["data"]["users"]
            seen += len(users["edges"])
            if not users["pageInfo"]["hasNextPage"]:
                return seen, "pages of 100"
            after = users["pageInfo"]["endCursor"]
        return seen, f"stopped after {budget:.0f} s (pages of 100)"
    finally:
        await connection.close()


def page_everyone_scim(server: Server, token: str, budget: float) -> tuple[int, str]:
    return _run(_page_scim(server, token, budget))  # type: ignore[no-any-return]


def page_everyone_graphql(server: Server, token: str, budget: float) -> tuple[int, str]:
    return _run(_page_graphql(server, token, budget))  # type: ignore[no-any-return]


def scim_missing(server: Server, token: str) -> str:
    async def probe() -> int:
        connection = await _connect(server, token)
        try:
            return (await connection.get("/scim/Users?count=1")).status
        finally:
            await connection.close()

    status = _run(probe())
    return "" if status == 200 else f"n/a (endpoint missing: GET /scim/Users -> {status})"
