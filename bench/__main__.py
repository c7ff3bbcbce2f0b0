"""``make bench``: start the servers, measure every figure of issue 6, print one table.

Each throughput figure is also given as a ratio to a baseline measured in the same run (this
machine is shared and absolute numbers drift). Figures whose endpoints are not built yet are
reported as ``n/a (endpoint missing)``.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

from rich.console import Console
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import activity_cost, figures, frontend, live, stall, store
from bench.checks import check_bulk_rows
from bench.dataset import generate
from bench.figures import LoadSettings
from bench.loadgen import Throughput, ensure_wrk
from bench.report import Figure, Report, machine, markdown, render, write_json
from bench.scim_load import SyncResult, sync
from bench.servers import HOST, SERVE_HTTP, Server, serve

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".bench"
BRANCHES = ("issue-users", "issue-filters", "issue-graphql", "issue-groups")
OURS = "bench.instrumented_app:create_app"
# The issues' targets per backend: SQLite's from issue 6, PostgreSQL's from issue 12 item 4.
LOOKUP_VS_BARE = {"sqlite": 0.5, "postgresql": 0.2}
LOOKUP_VS_PEER = {"sqlite": 12, "postgresql": 10}
GRAPHQL_VS_SQL = {"sqlite": 4, "postgresql": 3}

console = Console(highlight=False, width=max(160, Console().width))


def log(message: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {message}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--small", type=int, default=1_000, help="users in the small org")
    parser.add_argument("--large", type=int, default=100_000, help="users in the large org")
    parser.add_argument("--sync-users", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=8, help="per throughput run")
    parser.add_argument("--connections", type=int, default=16, help="for throughput runs")
    parser.add_argument("--repeat", type=int, default=200, help="latency samples")
    parser.add_argument(
        "--rounds", type=int, default=2, help="look-up runs per size (the best is kept)"
    )
    parser.add_argument(
        "--log-rounds", type=int, default=4, help="on/off pairs for the request-log figure"
    )
    parser.add_argument(
        "--frontend-rounds",
        type=int,
        default=1,
        help="floor/service pairs per frontend operation (the median pair's ratio is kept)",
    )
    parser.add_argument("--page-budget", type=float, default=60, help="s per paging run")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/blink_bench"
        ),
        help="server and bench database; sized databases are named <name>_<size>",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--pg-drivers",
        default=os.environ.get("BLINK_DB_ASYNC_DRIVER", "asyncpg"),
        help="comma-separated drivers of the server's event-loop PostgreSQL engine "
        "(asyncpg, psycopg): the PostgreSQL figures are measured once per driver, in turn",
    )
    parser.add_argument(
        "--no-sqlite", action="store_true", help="skip the SQLite look-up and sync figures"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated parts: lookup,sync,graphql,frontend,rss,stall,postgres,log,live",
    )
    parser.add_argument("--live-subscribers", type=int, default=100)
    parser.add_argument("--live-writes", type=int, default=200, help="measured SCIM writes")
    parser.add_argument("--live-rate", type=float, default=10, help="SCIM writes a second")
    args = parser.parse_args()
    if args.frontend_rounds < 1:
        parser.error("--frontend-rounds must be at least 1")
    return args


def postgres_url(base: str, size: int | str) -> str:
    parsed = make_url(base)
    return parsed.set(database=f"{parsed.database}_{size}").render_as_string(hide_password=False)


def postgres_reachable(base: str) -> str:
    from bench.store import ensure_postgres_database
    from db.database import Database

    try:
        ensure_postgres_database(base)
        database = Database(base)
        try:
            database.read_sync(lambda connection: connection.execute(text("SELECT 1")))
        finally:
            database.dispose()
    except Exception as error:
        return str(error).splitlines()[0]
    return ""


def branches() -> str:
    parts = []
    for branch in BRANCHES:
        head = subprocess.run(
            ["git", "rev-parse", "--short", branch], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        if not head:
            continue
        merged = (
            subprocess.run(
                ["git", "merge-base", "--is-ancestor", branch, "HEAD"], cwd=ROOT
            ).returncode
            == 0
        )
        state = "" if merged else " (not merged)"
        parts.append(f"{branch}@{head}{state}")
    own = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return f"HEAD {own}; " + ", ".join(parts)


def main() -> int:
    args = parse_args()
    only = set(filter(None, args.only.split(",")))

    def wanted(part: str) -> bool:
        return not only or part in only

    WORK.mkdir(exist_ok=True)
    data = WORK / "data"
    data.mkdir(exist_ok=True)
    logs = WORK / "logs"
    logs.mkdir(exist_ok=True)
    report = Report(info={**machine(), "code": branches()})
    started = time.monotonic()

    wrk = ensure_wrk(log)
    if wrk is None:
        log("[yellow]wrk unavailable: throughput is measured with the asyncio client[/]")
    settings = LoadSettings(wrk, args.seconds, args.connections, args.seed, WORK)
    report.info["load"] = (
        f"{'wrk (1 thread)' if wrk else 'python asyncio client'}, {args.connections} connections, "
        f"{args.seconds:g} s per run after 1 s warm-up; uvicorn 1 worker for every server but "
        "the two-worker sync"
    )

    log("checking bulk-loaded rows against rows written through the SCIM API")
    report.info["bulk rows vs SCIM-written rows"] = check_bulk_rows(data, logs, OURS)
    log(f"preparing SQLite databases ({args.small:,} and {args.large:,} users, seed {args.seed})")
    small = store.prepare(
        store.sqlite_url(data, f"small-{args.seed}.sqlite"), args.small, args.seed, log=log
    )
    # Only the look-up, GraphQL, frontend, RSS, stall and PostgreSQL parts use the large org
    # (each asserts it is there).
    needs_large = not only or bool(
        only & {"lookup", "graphql", "frontend", "rss", "stall", "postgres"}
    )
    large = (
        store.prepare(
            store.sqlite_url(data, f"large-{args.seed}.sqlite"), args.large, args.seed, log=log
        )
        if needs_large
        else None
    )
    use_postgres = not args.no_postgres and (
        wanted("postgres") or bool(only & {"log", "sync", "live", "frontend"})
    )
    if use_postgres:
        problem = postgres_reachable(args.postgres)
        if problem:
            log(f"[yellow]PostgreSQL unreachable, its figures are skipped: {problem}[/]")
            use_postgres = False

    def ours(
        name: str,
        url: str,
        count_sql: bool = False,
        request_log: bool = True,
        activity_log: bool = True,
        workers: int = 1,
        driver: str | None = None,
    ) -> AbstractContextManager[Server]:
        env = {
            "BLINK_DATABASE_URL": url,
            "BLINK_REQUEST_LOG": str(request_log).lower(),
            "BLINK_ACTIVITY_LOG": str(activity_log).lower(),
        }
        if count_sql:
            env["BENCH_COUNT_SQL"] = "1"
        if driver is not None:
            env["BLINK_DB_ASYNC_DRIVER"] = driver
        return serve(name, OURS, env, logs, workers, http=SERVE_HTTP)

    # 1. the framework's ceiling, which also shows the load generator is not the bottleneck.
    # It keeps running: every throughput figure is divided by a bare run measured right
    # before it, so both see the same load from whatever else this shared machine runs.
    stack = ExitStack()
    bare_server = stack.enter_context(serve("bare", "bench.baseline_app:create_app", log_dir=logs))
    bare_paths = WORK / "paths-bare.txt"
    bare_paths.write_text("/scim/Users?filter=userName%20eq%20%22x%22\n")

    bare_runs: list[Throughput] = []

    def measure_bare() -> Throughput:
        result, _ = figures.lookup_throughput(bare_server, None, bare_paths, settings)
        assert result is not None
        bare_runs.append(result)
        return result

    measure_bare()
    generator = Figure("load generator vs bare Starlette", "-", None, "req/s", target=8000)
    report.add(generator)  # filled in at the end, from every bare run of this benchmark

    def adjacent(result: Throughput, bare: Throughput) -> str:
        """Note comparing a run with the bare run measured just before it."""
        return (
            f"bare {bare.rps:,.0f} req/s just before; server CPU "
            f"{result.cpu_us_per_request:.0f} µs/req vs bare {bare.cpu_us_per_request:.0f}"
        )

    lookup_name = 'GET /Users?filter=userName eq "…"'
    # The peer and the two sizes are compared by their ratios to the bare run made just before
    # each: that cancels the drift of this shared machine between the runs.
    peer_vs_bare: float | None = None
    if wanted("lookup"):
        # 2. the peer, loaded with the same 1,000 people over its SCIM API
        with serve("scim2-server", "bench.peer_app:create_app", log_dir=logs) as peer_server:
            log(f"loading {args.small:,} users into scim2-server over SCIM")
            loaded = sync(HOST, peer_server.port, None, "/v2", small.org)
            paths = figures.lookup_paths(small.org, "/v2", settings, "peer")
            bare = measure_bare()
            peer, note = figures.lookup_throughput(peer_server, None, paths, settings)
        if loaded.errors:
            note = f"{note}; load errors {loaded.errors}: {loaded.first_error}"
        if peer is None:
            report.missing(f"{lookup_name} scim2-server {args.small:,}", "memory", "req/s", note)
        else:
            peer_vs_bare = peer.rps / bare.rps
            report.add(
                Figure.against_bare(
                    f"{lookup_name} scim2-server {args.small:,}",
                    "memory",
                    peer.rps,
                    bare.rps,
                    note=f"{note}; {adjacent(peer, bare)}" if note else adjacent(peer, bare),
                )
            )

    def lookups(backend: str, small_url: str, large_url: str, driver: str | None = None) -> None:
        results: dict[int, float] = {}  # req/s as a ratio to the adjacent bare run
        rps_of: dict[int, float] = {}
        best: dict[int, tuple[Throughput, Throughput, str]] = {}
        why = ""
        assert large is not None
        # The sizes take turns, ``--rounds`` times, and each keeps its best run (by its ratio
        # to the bare run just before it): one run can land on a busy spell of this machine.
        for _ in range(args.rounds):
            for size, url in ((args.small, small_url), (args.large, large_url)):
                org = small.org if size == args.small else large.org
                token = (small if size == args.small else large).scim_token
                token = tokens.get(size, token) if backend.startswith("postgresql") else token
                with ours(f"ours-{backend}-{size}", url, driver=driver) as server:
                    paths = figures.lookup_paths(org, "/scim", settings, f"{backend}-{size}")
                    bare = measure_bare()
                    result, note = figures.lookup_throughput(server, token, paths, settings)
                if result is None:
                    why = note
                    continue
                kept = best.get(size)
                if kept is None or result.rps / bare.rps > kept[0].rps / kept[1].rps:
                    best[size] = (result, bare, note)
        for size in (args.small, args.large):
            name = f"{lookup_name} {size:,} users"
            if size not in best:
                report.missing(name, backend, "req/s", why)
                continue
            result, bare, note = best[size]
            results[size] = result.rps / bare.rps
            rps_of[size] = result.rps
            note = f"{note}; " if note else ""
            report.add(
                Figure.against_bare(
                    name,
                    backend,
                    result.rps,
                    bare.rps,
                    LOOKUP_VS_BARE[backend],
                    note=f"{note}best of {args.rounds}; p50 {result.p50_ms:.2f} ms; "
                    f"{adjacent(result, bare)}",
                )
            )
        vs_peer = f"{lookup_name} {args.small:,} users vs scim2-server"
        if args.small in results and peer_vs_bare:
            report.add(
                Figure(
                    vs_peer,
                    backend,
                    rps_of[args.small],
                    "req/s",
                    results[args.small] / peer_vs_bare,
                    "scim2-server",
                    LOOKUP_VS_PEER[backend],
                    note="each as a ratio to its adjacent bare run",
                )
            )
        else:
            report.missing(vs_peer, backend, "req/s", why or "n/a (scim2-server not measured)")
        flat = f"{lookup_name} {args.large:,} vs {args.small:,} users"
        if len(results) == 2:
            report.add(
                Figure(
                    flat,
                    backend,
                    rps_of[args.large],
                    "req/s",
                    results[args.large] / results[args.small],
                    f"{args.small:,} users",
                    0.9,
                    note="each as a ratio to its adjacent bare run",
                )
            )
        else:
            report.missing(flat, backend, "req/s", why)

    tokens: dict[int, str] = {}
    if wanted("lookup") and not args.no_sqlite:
        assert large is not None
        lookups("sqlite", small.url, large.url)

    def request_log_cost(backend: str, url: str, token: str) -> None:
        """The look-up as shipped (request log on) against the same server with no log.

        Both servers run side by side and take turns under load (on, off, then off, on, ...),
        so each pair of runs sees the same machine; the figure is the median of the pairs'
        ratios. Two runs of the same service need no bare run between them.
        """
        name = f"{lookup_name} {args.small:,} users, request log on vs off"
        paths = figures.lookup_paths(small.org, "/scim", settings, f"{backend}-log")
        ratios: list[float] = []
        cpu_ratios: list[float] = []
        runs: dict[bool, list[Throughput]] = {True: [], False: []}
        with (
            ours(f"ours-{backend}-log-on", url) as logged,
            ours(f"ours-{backend}-log-off", url, request_log=False) as silent,
        ):
            servers = {True: logged, False: silent}
            for turn in range(args.log_rounds):
                order = (True, False) if turn % 2 == 0 else (False, True)
                pair: dict[bool, Throughput] = {}
                for on in order:
                    result, why = figures.lookup_throughput(servers[on], token, paths, settings)
                    if result is None:
                        report.missing(name, backend, "req/s", why)
                        return
                    pair[on] = result
                    runs[on].append(result)
                ratios.append(pair[True].rps / pair[False].rps)
                cpu_ratios.append(pair[False].cpu_us_per_request / pair[True].cpu_us_per_request)
        best_on = max(runs[True], key=lambda run: run.rps)
        best_off = max(runs[False], key=lambda run: run.rps)
        report.add(
            Figure(
                name,
                backend,
                best_on.rps,
                "req/s",
                statistics.median(ratios),
                "no log",
                0.85,
                note=f"median of {len(ratios)} adjacent on/off pairs "
                f"({', '.join(f'{ratio:.2f}' for ratio in ratios)}); best no-log run "
                f"{best_off.rps:,.0f} req/s; server CPU per request, off/on: median "
                f"{statistics.median(cpu_ratios):.2f}",
            )
        )

    if wanted("log"):
        request_log_cost("sqlite", small.url, small.scim_token)

    def graphql_figure(backend: str, url: str, token: str) -> None:
        name = "GraphQL user.reports(first:100, maxDepth:3) latency"
        assert large is not None
        with ours(f"ours-{backend}-graphql", url) as server:
            missing = figures.graphql_missing(server, token, {"user", "users"})
            if missing:
                report.missing(name, backend, "ms", missing)
                return
            try:
                graphql_ms, sql_ms, total = figures.graphql_vs_sql(
                    server, token, url, large.org, args.repeat
                )
            except figures.GraphQLFailure as error:
                report.missing(name, backend, "ms", f"n/a ({error})")
                return
        report.add(
            Figure(
                name,
                backend,
                graphql_ms,
                "ms",
                graphql_ms / sql_ms,
                "direct SQL",
                GRAPHQL_VS_SQL[backend],
                "<=",
                note=f"direct SQL {sql_ms:.2f} ms; totalCount {total:,}",
            )
        )

    if wanted("graphql"):
        assert large is not None
        graphql_figure("sqlite", large.url, large.graphql_token)

    def frontend_figures(
        backend: str, url: str, token: str, worker_counts: tuple[int, ...], alone: bool
    ) -> None:
        """Each operation of graphql/operations on random people of the large org: its
        statements (a counting server), then per worker count the floor (``bench.floor_app``,
        as many workers) and the service as shipped take turns, operation by operation, each
        operation's floor run just before the service's; ``alone``: ProfileCard one request
        at a time."""
        assert large is not None
        org = large.org
        operations = frontend.operations()
        paths = {op.name: frontend.paths_file(op, org, args.seed, WORK) for op in operations}
        rng = random.Random(args.seed)
        statements: dict[str, int] = {}
        with ours(f"ours-{backend}-frontend-sql", url, count_sql=True) as server:
            for op in operations:
                variables = frontend.variables(op.name, org, rng)
                try:
                    count, _ = figures.graphql_statements(server, token, op.document, variables)
                except figures.GraphQLFailure as error:
                    report.missing(f"SQL statements: {op.name}", backend, "statements", str(error))
                    continue
                statements[op.name] = count
                report.add(
                    Figure(
                        f"SQL statements (excl. BEGIN): {op.name}",
                        backend,
                        count,
                        "statements",
                        target=4,
                        compare="<=",
                        note="one warm request; the tenant's versions (the ETag) included",
                    )
                )
        floor_env = {"BENCH_FLOOR_SIZE": str(args.large), "BENCH_FLOOR_SEED": str(args.seed)}
        target = 0.5 if backend == "sqlite" else 0.3
        for workers in worker_counts:
            label = f"{workers} worker{'s' if workers > 1 else ''}"
            with (
                serve(
                    f"floor-{workers}w", "bench.floor_app:create_app", floor_env, logs, workers
                ) as floor,
                ours(f"ours-{backend}-frontend-{workers}w", url, workers=workers) as server,
            ):
                if alone and workers == 1:
                    # On the server as shipped (no statement counter), before any load.
                    card = next(op for op in operations if op.name == "profile_card")
                    person = org.people[len(org.people) // 2]
                    median_ms, cpu_us = figures.graphql_latency(
                        server, token, card.document, {"id": person.id}, args.repeat
                    )
                    report.add(
                        Figure(
                            "GraphQL ProfileCard alone, median round trip",
                            backend,
                            median_ms,
                            "ms",
                            target=1.5,
                            compare="<=",
                            note=f"POST, one request at a time, {args.repeat} samples; server "
                            f"CPU {cpu_us:.0f} µs/request",
                        )
                    )
                for op in operations:
                    name = f"GraphQL {op.name}, {label}"
                    log(f"frontend: {op.name}, {backend}, {label}")
                    # Each pair: the floor, then the service just after it. Several pairs
                    # (--frontend-rounds) keep one slow spell of a shared machine from
                    # deciding a line: the median pair is reported.
                    pairs: list[tuple[Throughput, Throughput]] = []
                    problems: list[str] = []
                    for _ in range(args.frontend_rounds):
                        base, why = figures.throughput(
                            floor, None, paths[op.name], settings, frontend.probe
                        )
                        if base is None or not base.requests:
                            report.missing(
                                name, backend, "req/s", f"floor {why or 'answered none'}"
                            )
                            break
                        result, why = figures.throughput(
                            server, token, paths[op.name], settings, frontend.probe
                        )
                        if result is None:
                            report.missing(name, backend, "req/s", why)
                            break
                        if why:
                            problems.append(why)
                        pairs.append((base, result))
                    if len(pairs) < args.frontend_rounds:
                        continue
                    base, result = pairs[figures.median_pair(pairs)]
                    errors = f"; {'; '.join(problems)}" if problems else ""
                    rounds = (
                        f"; median of {len(pairs)} floor/service pairs ("
                        + ", ".join(f"{r.rps / b.rps:.2f}" for b, r in pairs)
                        + ")"
                        if len(pairs) > 1
                        else ""
                    )
                    report.add(
                        Figure(
                            name,
                            backend,
                            result.rps,
                            "req/s",
                            result.rps / base.rps,
                            "floor",
                            target,
                            note=f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms; "
                            f"server CPU {result.cpu_us_per_request:.0f} µs/req; "
                            f"{statements.get(op.name, '?')} statements; floor just before "
                            f"{base.rps:,.0f} req/s, p50 {base.p50_ms:.1f} ms, p99 "
                            f"{base.p99_ms:.1f} ms, CPU {base.cpu_us_per_request:.0f} µs/req"
                            f"{rounds}{errors}",
                        )
                    )

    if wanted("frontend"):
        assert large is not None
        frontend_figures("sqlite", large.url, large.graphql_token, (1,), alone=True)

    if wanted("rss"):
        assert large is not None
        with ours("ours-sqlite-rss", large.url, count_sql=True) as server:
            missing = figures.graphql_missing(server, large.graphql_token, {"user", "users"})
            for label in ("reports query", "users(first:100) page with manager and counts"):
                if missing:
                    report.missing(f"SQL statements: {label}", "sqlite", "statements", missing)
            if not missing:
                try:
                    reports, page = figures.statement_counts(
                        server, large.graphql_token, large.org, WORK / "sql-statements.txt"
                    )
                    report.add(
                        Figure(
                            "SQL statements (excl. BEGIN): reports query",
                            "sqlite",
                            reports,
                            "statements",
                            target=5,
                            compare="<=",
                        )
                    )
                    report.add(
                        Figure(
                            "SQL statements (excl. BEGIN): users(first:100) page, manager, counts",
                            "sqlite",
                            page,
                            "statements",
                            target=5,
                            compare="<=",
                        )
                    )
                except figures.GraphQLFailure as error:
                    report.missing("SQL statements", "sqlite", "statements", f"n/a ({error})")
            idle = server.rss_mb()
            name = f"peak RSS paging all {args.large:,} users"
            scim_missing = figures.scim_missing(server, large.scim_token)
            if scim_missing:
                report.missing(f"{name} (SCIM)", "sqlite", "MB", scim_missing)
            else:
                log(f"paging through {args.large:,} users over SCIM")
                seen, note = figures.page_everyone_scim(server, large.scim_token, args.page_budget)
                report.add(
                    Figure(
                        f"{name} (SCIM)",
                        "sqlite",
                        server.peak_rss_mb(),
                        "MB",
                        target=300,
                        compare="<=",
                        note=f"{seen:,} users, {note}; idle {idle:.0f} MB",
                    )
                )
            if missing:
                report.missing(f"{name} (SCIM then GraphQL)", "sqlite", "MB", missing)
            else:
                log(f"paging through {args.large:,} users over GraphQL")
                try:
                    seen, note = figures.page_everyone_graphql(
                        server, large.graphql_token, args.page_budget
                    )
                    report.add(
                        Figure(
                            f"{name} (SCIM then GraphQL)",
                            "sqlite",
                            server.peak_rss_mb(),
                            "MB",
                            target=300,
                            compare="<=",
                            note=f"{seen:,} users, {note}",
                        )
                    )
                except figures.GraphQLFailure as error:
                    report.missing(f"{name} (GraphQL)", "sqlite", "MB", f"n/a ({error})")

    def sync_run(
        backend: str, url: str, activity_log: bool, workers: int, driver: str | None = None
    ) -> tuple[SyncResult, Throughput, float] | None:
        """One Entra-style initial sync into a fresh empty database, a bare run just before
        it: (result, that bare run, server CPU µs per request), or None if it could not run."""
        name = f"Entra-style initial sync, {args.sync_users:,} users, 8 connections"
        scim_token, _ = store.prepare_empty(url)
        label = f"ours-{backend}-sync-log-{'on' if activity_log else 'off'}-{workers}w"
        with ours(label, url, activity_log=activity_log, workers=workers, driver=driver) as server:
            missing = figures.scim_missing(server, scim_token)
            if missing:
                report.missing(name, backend, "req/s", missing)
                return None
            log(
                f"Entra-style initial sync of {args.sync_users:,} users, {backend}, {workers} "
                f"worker(s), activity log {'on' if activity_log else 'off'}"
            )
            bare = measure_bare()
            began_cpu = server.cpu_seconds()
            result = sync(
                HOST, server.port, scim_token, "/scim", generate(args.sync_users, args.seed)
            )
            cpu_us = 1e6 * (server.cpu_seconds() - began_cpu) / max(1, result.requests)
        return result, bare, cpu_us

    def sync_figure(
        name: str, backend: str, run: tuple[SyncResult, Throughput, float], target: float
    ) -> None:
        result, bare, cpu_us = run
        note = (
            f"{result.requests:,} requests in {result.seconds:.1f} s; bare "
            f"{bare.rps:,.0f} req/s just before; server CPU {cpu_us:.0f} µs/req"
        )
        if result.errors:
            note += f"; {result.errors} errors, first: {result.first_error}"
        report.add(
            Figure.against_bare(
                name, backend, result.rps, bare.rps, target, judge_value=True, note=note
            )
        )

    def sync_figures(
        backend: str,
        url_of: Callable[[str], str],
        more_workers: tuple[int, ...] = (),
        driver: str | None = None,
    ) -> None:
        """The Entra-style initial sync as shipped (activity log on) and with the activity log
        off, one worker each; then the log's bytes per event (measured once the server has
        stopped and numbered every event); then as shipped with ``more_workers`` workers
        (PostgreSQL: SQLite serves one worker, ``serve`` refuses more)."""
        name = f"Entra-style initial sync, {args.sync_users:,} users, 8 connections"
        off_run = sync_run(backend, url_of("off"), False, 1, driver)
        on_run = sync_run(backend, url_of("on"), True, 1, driver)
        if off_run is None or on_run is None:
            return
        sync_figure(name, backend, on_run, 1000)
        result, bare, cpu_us = on_run
        off, off_bare, off_cpu = off_run
        off_note = f"; {off.errors} errors without the log" if off.errors else ""
        report.add(
            Figure(
                f"{name}, activity log on vs off",
                backend,
                result.rps,
                "req/s",
                (result.rps / bare.rps) / (off.rps / off_bare.rps),
                "no log",
                0.8,
                note=f"each as a ratio to its adjacent bare run; no log {off.rps:,.0f} req/s "
                f"(bare {off_bare.rps:,.0f} just before); server CPU per request on/off "
                f"{cpu_us:.0f}/{off_cpu:.0f} µs{off_note}",
            )
        )
        per_event, events = activity_cost.bytes_per_event(url_of("on"))
        report.add(
            Figure(
                f"activity log size after a {args.sync_users:,}-user initial sync",
                backend,
                per_event,
                "bytes/event",
                note=f"{events:,} events; table and indexes",
            )
        )
        for workers in more_workers:
            run = sync_run(backend, url_of(f"{workers}w"), True, workers, driver)
            if run is not None:
                sync_figure(f"{name}, {workers} workers", backend, run, 1500)

    if wanted("sync") and not args.no_sqlite:
        sync_figures("sqlite", lambda suffix: store.sqlite_url(data, f"sync-log-{suffix}.sqlite"))

    def live_figures(backend: str, database: store.BenchDatabase, workers: int) -> None:
        """Commit-to-subscriber latency and server CPU per delivered event (bench/live.py)."""
        name = (
            f"directoryChanges, {args.live_subscribers} subscribers, {workers} worker(s), "
            f"SCIM writes {args.live_rate:g}/s"
        )
        label = f"ours-{backend}-live-{workers}w"
        with ours(label, database.url, workers=workers) as server:
            log(
                f"live changes: {args.live_subscribers} subscribers, {backend}, {workers} "
                f"worker(s), {args.live_writes} SCIM writes at {args.live_rate:g}/s"
            )
            try:
                result = live.run(
                    HOST,
                    server.port,
                    database.scim_token,
                    database.graphql_token,
                    [person.id for person in database.org.people[1:]],
                    subscribers=args.live_subscribers,
                    writes=args.live_writes,
                    rate=args.live_rate,
                    cpu_seconds=server.cpu_seconds,
                    connections=server.connections,
                )
            except Exception as error:  # the figure is missing, the rest of the bench goes on
                for unit in ("ms", "µs/event"):
                    report.missing(name, backend, unit, f"n/a ({error})")
                return
        note = live.describe(result)
        if not result.latencies:
            report.missing(f"{name}: latency", backend, "ms", f"n/a (nothing delivered); {note}")
            return
        report.add(
            Figure(
                f"{name}: commit-to-subscriber latency p50",
                backend,
                result.p50_ms,
                "ms",
                note=f"p99 {result.p99_ms:.0f} ms; {note}",
            )
        )
        report.add(Figure(f"{name}: latency p99", backend, result.p99_ms, "ms"))
        report.add(
            Figure(
                f"{name}: server CPU per delivered event",
                backend,
                result.cpu_us_per_event,
                "µs/event",
                note=f"above the writes' own cost ({1e6 * result.cpu_without / result.writes:.0f}"
                f" µs/write without subscribers); {result.gross_cpu_us_per_event:.0f} µs/event "
                "with it",
            )
        )

    if wanted("live"):
        live_db = store.BenchDatabase(
            stall.copy_sqlite(make_url(small.url).database or "", data / "live.sqlite"),
            small.org,
            small.scim_token,
            small.graphql_token,
        )
        live_figures("sqlite", live_db, 1)

    if wanted("stall"):
        assert large is not None
        name = (
            f"event-loop longest stall: org metrics of {args.large:,} users recomputed, "
            f"{stall.GROUP_MEMBERS:,}-member group replaced"
        )
        # a copy: the figure changes a manager and adds a group
        url = stall.copy_sqlite(make_url(large.url).database or "", data / "stall.sqlite")
        with ours("ours-sqlite-stall", url) as server:
            log(f"event-loop stall while {args.large:,}-user work runs")
            try:
                result = stall.measure_stall(
                    server, large.scim_token, large.graphql_token, large.org
                )
                report.add(
                    Figure(
                        name,
                        "sqlite",
                        result.longest_ms,
                        "ms",
                        target=20,
                        compare="<=",
                        note=stall.describe(result),
                    )
                )
            except stall.StallFailure as error:
                report.missing(name, "sqlite", "ms", f"n/a ({error})")

    if use_postgres:
        log("preparing PostgreSQL databases")
        pg_small = store.prepare(
            postgres_url(args.postgres, args.small), args.small, args.seed, log=log
        )
        if wanted("log"):
            request_log_cost("postgresql", pg_small.url, pg_small.scim_token)
        if wanted("live"):
            pg_live = store.prepare(
                postgres_url(args.postgres, "live"), args.small, args.seed, log=log
            )
            live_figures("postgresql", pg_live, 2)
        drivers = [name.strip() for name in args.pg_drivers.split(",") if name.strip()]

        def pg_label(driver: str) -> str:
            return "postgresql" if len(drivers) == 1 else f"postgresql+{driver}"

        if wanted("sync"):
            for driver in drivers:
                sync_figures(
                    pg_label(driver),
                    lambda suffix: postgres_url(args.postgres, f"sync_{suffix}"),
                    more_workers=(2,),
                    driver=driver,
                )
        pg_large = (
            store.prepare(postgres_url(args.postgres, args.large), args.large, args.seed, log=log)
            if needs_large
            else None
        )
        if pg_large is not None:
            tokens.update({args.small: pg_small.scim_token, args.large: pg_large.scim_token})
        if pg_large is not None and (wanted("lookup") or "postgres" in only):
            # One driver after the other, each with its rounds (the sync's runs likewise).
            for driver in drivers:
                lookups(pg_label(driver), pg_small.url, pg_large.url, driver)
        if pg_large is not None and (wanted("graphql") or "postgres" in only):
            graphql_figure("postgresql", pg_large.url, pg_large.graphql_token)
        if wanted("frontend") and pg_large is not None:
            # SQLite serves one worker (``serve`` refuses more); PostgreSQL one and two.
            frontend_figures(
                "postgresql", pg_large.url, pg_large.graphql_token, (1, 2), alone=False
            )

    stack.close()
    best = max(bare_runs, key=lambda run: run.rps)
    rates = sorted(run.rps for run in bare_runs)
    generator.value = best.rps
    generator.note = (
        f"{best.tool}; best of {len(rates)} bare runs (min {rates[0]:,.0f}, median "
        f"{rates[len(rates) // 2]:,.0f}); server CPU {best.cpu_us_per_request:.0f} µs/request"
    )
    report.info["elapsed"] = f"{time.monotonic() - started:.0f} s"
    render(report, console)
    path = write_json(report, WORK)
    (WORK / "results-latest.md").write_text(markdown(report))
    console.print(f"  results: {path.relative_to(ROOT)} (and .bench/results-latest.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
