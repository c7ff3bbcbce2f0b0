"""CPU per request of each frontend operation, in process, without a loaded machine's noise.

    python -m bench.operations [--size 100000] [--runs 300] [--rounds 5] [--only org_chart ...]
    python -m bench.operations --profile org_chart [--runs 300]   # cProfile of one operation

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
"""

import argparse
import asyncio
import cProfile
import io
import pstats
import random
import time
from typing import Any

import orjson

from bench.frontend import operations, path, variables
from bench.in_process import Lifespan
from bench.instructions import WORK, _app, _call, _scope
from bench.store import prepare, sqlite_url

SEED = 42
WARM_UP = 30


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


async def _run(args: argparse.Namespace) -> None:
    data = WORK / "data"
    data.mkdir(parents=True, exist_ok=True)
    name = "large-42.sqlite" if args.size == 100_000 else f"operations-{args.size}.sqlite"
    bench = prepare(sqlite_url(data, name), args.size, SEED, log=print)
    # No rate limit: a round of requests as fast as one process sends them would meet it.
    app = _app(bench.url, rate_limit_per_second=0.0)
    chosen = [op for op in operations() if not args.only or op.name in args.only]
    if args.profile:
        chosen = [op for op in operations() if op.name == args.profile]
    async with Lifespan(app):
        for operation in chosen:
            count = WARM_UP + args.runs
            token = bench.graphql_token
            scopes = _requests(operation.name, operation.document, bench.org, count, token)
            for scope in scopes[:WARM_UP]:  # the org figures derived, statements compiled
                await _one(app, scope)
            measured = scopes[WARM_UP:]
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for scope in measured:
                    await _one(app, scope)
                profiler.disable()
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out)
                stats.sort_stats("cumulative").print_stats(args.lines)
                stats.sort_stats("tottime").print_stats(args.lines)
                print(out.getvalue())
                continue
            best = float("inf")
            for _ in range(args.rounds):
                start = time.process_time()
                for scope in measured:
                    await _one(app, scope)
                best = min(best, (time.process_time() - start) / len(measured))
            print(f"{operation.name:22} {best * 1e6:8.0f} µs CPU/request", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--profile", help="cProfile this operation instead of timing")
    parser.add_argument("--lines", type=int, default=45)
    args = parser.parse_args(argv)
    asyncio.run(_run(args))


if __name__ == "__main__":
    main()
