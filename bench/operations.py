"""CPU per request of each frontend operation, in process, without a loaded machine's noise.

    python -m bench.operations [--size 100000] [--runs 300] [--rounds 5] [--only org_chart ...]
    python -m bench.operations --profile org_chart [--runs 300]   # cProfile, in CPU time
    python -m bench.operations --floor [--only org_chart ...]     # and the floor, round for round
    python -m bench.operations --instructions [--floor] [--only org_chart ...] [--runs 50]
    python -m bench.operations --concurrency 16 ...   # 16 requests in flight, as over HTTP
    python -m bench.operations --store-share ...      # the store's CPU and the rest (SQLite)
    python -m bench.operations --postgres postgresql+psycopg://…/NAME   # on PostgreSQL

Builds the app as shipped (``bench.instructions``' settings: request log on, token cache an
hour; the rate limit off, as a round would meet it) over the cached SQLite bench database of
``--size`` users (``.bench/data/large-42.sqlite`` for 100,000, the database ``python -m bench
--only frontend`` uses), starts its lifespan, and sends each operation of
``graphql/operations`` (after a warm-up: org figures derived, statements compiled) as the
frontend bench does (``GET /graphql?query=…&variables=…``, random people, the same
variables) as an ASGI call: no HTTP client, no socket. Each operation runs ``--rounds`` rounds
of ``--runs`` requests; the figure is the best round's CPU time (``time.process_time``) per
request, which a loaded machine moves far less than wall time (it still moves a little:
caches shared with other processes). Every answer must be a 200 with data and no errors.

With ``--floor`` the framework's floor (``bench.floor_app`` over the same org, in the same
process) answers the same requests, its rounds alternating with the service's, and the line
adds its CPU per request and the ratio floor ÷ service: the in-process counterpart of the
frontend bench's ratio, without uvicorn's and the socket's share, which both servers pay alike
over HTTP (so over HTTP the ratio is higher).

Requests are sent one after another unless ``--concurrency`` says how many are in flight at
once (each of as many senders takes the next request when its last is answered). The frontend
bench keeps 16 in flight, and that is where the garbage collector shows: a collection walks the
objects of every request still running, and what one started keeps its younger objects alive
into older generations. One at a time, it hardly runs.

With ``--instructions`` the same requests run under valgrind's callgrind, which counts the
instructions each operation's ``--runs`` requests take (and the floor's, with ``--floor``):
a figure that repeats on a loaded machine (about ±1%), where CPU time moves by ±15%. Counting
starts after the warm-up (``bench.instructions``' markers: one part per operation and server).

With ``--store-share`` the floor answers too, and the line splits the service's CPU per request
into the store's units of work and the rest (``bench.store_share``): the ratio the service
would reach with a store that took nothing, and the CPU per request the SQLite target leaves
the store once the rest is paid.

With ``--postgres`` (a server URL) the app reads the PostgreSQL database
``<name>_operations_<size>`` on that server, built like SQLite's (building 100,000 users takes
minutes; it is kept and reused). The database server's work is then in another process, which
``process_time`` (and callgrind) does not see: the line adds the best round's wall time per
request, which includes it (and whatever else loads the machine). The floor answers from
memory either way.
"""

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import sys
import time
from contextlib import nullcontext
from typing import Any

import orjson
from sqlalchemy.engine import make_url

from bench import floor_app
from bench.frontend import operations, path, variables
from bench.in_process import Lifespan
from bench.instructions import WORK, _app, _call, _marker, _scope, counted_parts
from bench.store import prepare, sqlite_url
from bench.store_share import StoreClock, store_budget, timed_store

SEED = 42
WARM_UP = 30
#: The frontend's ratio target on SQLite (issue 17), for the store's budget.
SQLITE_TARGET = 0.5


def _requests(name: str, document: str, org: Any, count: int, token: str) -> list[Any]:
    rng = random.Random(f"{SEED}:{name}")
    operation = next(op for op in operations() if op.name == name)
    assert operation.document == document
    scopes = []
    for _ in range(count):
        scope = _scope(path(operation, variables(name, org, rng)), token)
        scope["headers"] = [
            (b"host", b"127.0.0.1:8000"),
            (b"accept", b"application/json"),
            (b"authorization", b"Bearer " + token.encode()),
        ]
        scopes.append(scope)
    return scopes


async def _one(app: Any, scope: dict[str, Any]) -> None:
    status, body = await _call(app, dict(scope, state={}))
    answer = orjson.loads(body)
    if status != 200 or answer.get("errors") or answer.get("data") is None:
        raise SystemExit(f"{scope['path']} answered {status}: {body[:300]!r}")


async def _send(server: Any, scopes: list[dict[str, Any]], concurrency: int) -> None:
    """Every request, ``concurrency`` of them in flight at once (each sender takes the next
    one as its last is answered), as the frontend bench's connections keep the server busy."""
    if concurrency <= 1:
        for scope in scopes:
            await _one(server, scope)
        return
    waiting = iter(scopes)

    async def sender() -> None:
        for scope in waiting:
            await _one(server, scope)

    await asyncio.gather(*(sender() for _ in range(concurrency)))


def _database_url(size: int, postgres: str | None) -> str:
    """SQLite's cached file, or with ``postgres`` (a server URL) its database
    ``<name>_operations_<size>`` on that server."""
    if postgres:
        parsed = make_url(postgres)
        url = parsed.set(database=f"{parsed.database}_operations_{size}")
        return url.render_as_string(hide_password=False)
    data = WORK / "data"
    data.mkdir(parents=True, exist_ok=True)
    name = "large-42.sqlite" if size == 100_000 else f"operations-{size}.sqlite"
    return sqlite_url(data, name)


async def _run(args: argparse.Namespace) -> None:
    bench = prepare(_database_url(args.size, args.postgres), args.size, SEED, log=print)
    # No rate limit: a round of requests as fast as one process sends them would meet it.
    app = _app(bench.url, rate_limit_per_second=0.0)
    floor = floor_app.create_app(bench.org) if args.floor or args.store_share else None
    clock = StoreClock()
    with timed_store(clock) if args.store_share else nullcontext():
        await _measure(args, app, floor, clock, bench)


async def _measure(
    args: argparse.Namespace, app: Any, floor: Any, clock: StoreClock, bench: Any
) -> None:
    chosen = [op for op in operations() if not args.only or op.name in args.only]
    if args.profile:
        chosen = [op for op in operations() if op.name == args.profile]
    async with Lifespan(app):
        if args.inner:
            await _counted(app, floor, chosen, bench, args.runs, args.concurrency)
            return
        for operation in chosen:
            count = WARM_UP + args.runs
            token = bench.graphql_token
            scopes = _requests(operation.name, operation.document, bench.org, count, token)
            for scope in scopes[:WARM_UP]:  # the org figures derived, statements compiled
                await _one(app, scope)
            measured = scopes[WARM_UP:]
            if args.profile:
                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                await _send(app, measured, args.concurrency)
                profiler.disable()
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out)
                stats.sort_stats("cumulative").print_stats(args.lines)
                stats.sort_stats("tottime").print_stats(args.lines)
                print(out.getvalue())
                continue
            servers = [app] if floor is None else [app, floor]
            if floor is not None:
                for scope in scopes[:WARM_UP]:
                    await _one(floor, scope)
            best = [float("inf")] * len(servers)
            wall = float("inf")
            # The store's part of the service's best round (--store-share): seconds, units.
            store = (0.0, 0.0)
            for _ in range(args.rounds):
                for index, server in enumerate(servers):
                    clock.reset()
                    start, started = time.process_time(), time.perf_counter()
                    await _send(server, measured, args.concurrency)
                    spent = (time.process_time() - start) / len(measured)
                    if index == 0 and spent < best[0]:
                        store = (clock.seconds / len(measured), clock.units / len(measured))
                    best[index] = min(best[index], spent)
                    if index == 0:
                        wall = min(wall, (time.perf_counter() - started) / len(measured))
            line = f"{operation.name:22} {best[0] * 1e6:8.0f} µs CPU/request"
            if args.postgres:
                line += f" ({wall * 1e6:6.0f} µs wall)"
            if floor is not None:
                line += f"   floor {best[1] * 1e6:6.0f} µs   ratio {best[1] / best[0]:.2f}"
            if args.store_share:
                line += _store_share(best[0], best[1], *store)
            print(line, flush=True)


def _store_share(ours: float, floor: float, store: float, units: float) -> str:
    """The store's part of the service's CPU per request, the rest, the ratio the service
    would reach with a store that took nothing, and what the SQLite target leaves the store."""
    rest = ours - store
    budget = store_budget(floor, rest, SQLITE_TARGET)
    return (
        f"   store {store * 1e6:5.0f} µs in {units:.1f} units of work, the rest {rest * 1e6:5.0f}"
        f"   ratio without the store {floor / rest:.2f}"
        f"   store budget at {SQLITE_TARGET}x {budget * 1e6:5.0f} µs"
    )


async def _counted(
    app: Any, floor: Any, chosen: list[Any], bench: Any, runs: int, concurrency: int
) -> None:
    """Under callgrind: every warm-up first, then one counted part per operation and server."""
    servers = [app] if floor is None else [app, floor]
    planned = []
    for operation in chosen:
        scopes = _requests(
            operation.name, operation.document, bench.org, WARM_UP + runs, bench.graphql_token
        )
        for server in servers:
            for scope in scopes[:WARM_UP]:
                await _one(server, scope)
            planned.append((server, [dict(scope) for scope in scopes[WARM_UP:]]))
    print("ready", file=sys.stderr, flush=True)
    sys.stdin.readline()
    for server, scopes in planned:
        _marker()
        await _send(server, scopes, concurrency)
    _marker()


def _count(args: argparse.Namespace, argv: list[str]) -> None:
    """Runs this module under callgrind (instrumented from the end of the warm-up on) and
    prints the instructions per request of each part."""
    inner = [a for a in argv if a != "--instructions"] + ["--inner"]
    log = WORK / "logs" / "operations.log"
    # The pid in the files' name: two checkouts sharing .bench can count side by side.
    parts, _ = counted_parts(["bench.operations", *inner], f"operations-{os.getpid()}", log)
    chosen = [op.name for op in operations() if not args.only or op.name in args.only]
    per_server = 2 if args.floor else 1
    for index, name in enumerate(chosen):
        ours = parts[2 + index * per_server] / args.runs
        line = f"{name:22} {ours:>12,.0f} instructions/request"
        if args.floor:
            floor = parts[3 + index * per_server] / args.runs
            line += f"   floor {floor:>12,.0f}   ratio {floor / ours:.2f}"
        print(line, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--profile", help="cProfile this operation instead of timing")
    parser.add_argument("--lines", type=int, default=45)
    parser.add_argument("--floor", action="store_true", help="time the floor app beside it")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="requests in flight at once (the frontend bench keeps 16)",
    )
    parser.add_argument("--instructions", action="store_true", help="count with callgrind")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on PostgreSQL: the server and database name of the URL "
        "(<name>_operations_<size>), instead of SQLite",
    )
    parser.add_argument(
        "--store-share",
        action="store_true",
        help="with the floor: the store's CPU per request, the rest, and the store's budget "
        "at the SQLite target (SQLite only)",
    )
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.store_share and (args.postgres or args.instructions or args.profile):
        # PostgreSQL's reads await the server while the loop runs other requests on the
        # same thread; callgrind and cProfile answer other questions.
        parser.error("--store-share runs on SQLite, without --instructions or --profile")
    if args.instructions:
        _count(args, sys.argv[1:] if argv is None else argv)
        return
    asyncio.run(_run(args))


if __name__ == "__main__":
    main()
