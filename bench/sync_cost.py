"""The Entra-style sync in process, log on and off: CPU per request, no HTTP server.

    python -m bench.sync_cost [--users 2000] [--postgres URL] [--profile on|off] [--rounds 2]
    valgrind --tool=callgrind python -m bench.sync_cost --users N --once on|off

Builds the app as shipped (``app.main:create_app``, request log on in JSON to stdout
(redirect it), rate limit off as in ``make bench``'s sync) over a fresh empty
database, starts its lifespan, and sends it the sync of ``bench.scim_load`` — per user the
match GET, the POST and the manager PATCH — from 8 asyncio tasks as ASGI calls (a scope and two
callables). The process's CPU time (``time.process_time``, which on PostgreSQL leaves the
database server out) divided by the requests is the figure, with the activity log on (as
shipped) and off, rounds interleaved; the lifespan's end (the last numbering passes) is inside
the count. ``--profile on|off`` prints cProfile's view of one run (and keeps it in
``.bench/sync-cost-on|off.pstats``); ``--once`` makes one run, for valgrind: run it at two sizes
and divide the difference of the instructions by the difference of the users (start-up,
imports and migrations cancel out; docs/performance.md, 2026-11-30, the activity log's share).
On PostgreSQL the database of ``--postgres`` is dropped and created again (its name must
contain ``bench``).
"""

import argparse
import asyncio
import cProfile
import io
import logging.config
import pstats
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.client import filter_path
from bench.dataset import generate, scim_document
from bench.in_process import Lifespan, call, request_scope
from bench.scim_load import manager_patch
from bench.store import prepare_empty, sqlite_url

WORK = Path(".bench")
SEED = 42
CONNECTIONS = 8


def _app(url: str, activity_log: bool) -> Any:
    from app.logging_setup import logging_config, resolve_format
    from app.main import create_app
    from app.settings import Settings

    settings = Settings(
        database_url=url,
        log_format="json",
        request_log=True,
        rate_limit_per_second=0.0,
        activity_log=activity_log,
    )
    logging.config.dictConfig(logging_config("info", resolve_format("json")))
    return create_app(settings)


async def _call(
    app: Any, method: str, path: str, token: str, body: bytes = b""
) -> tuple[int, bytes]:
    return await call(app, request_scope(method, path, token, body), body)


async def _sync(app: Any, token: str, users: int) -> int:
    org = generate(users, SEED)
    prefix = "/scim/v2"
    created: dict[int, asyncio.Future[str]] = {
        p.index: asyncio.get_running_loop().create_future() for p in org.people
    }
    queue = iter(org.people)
    requests = 0

    async def worker() -> None:
        nonlocal requests
        for person in queue:
            status, _ = await _call(app, "GET", filter_path(prefix, person.user_name), token)
            assert status == 200, status
            document = orjson.dumps(scim_document(org, person, with_manager=False))
            status, body = await _call(app, "POST", f"{prefix}/Users", token, document)
            assert status == 201, (status, body[:300])
            requests += 2
            user_id = str(orjson.loads(body)["id"])
            created[person.index].set_result(user_id)
            if person.manager_index is None:
                continue
            manager_id = await created[person.manager_index]
            patch = orjson.dumps(manager_patch(manager_id))
            status, body = await _call(app, "PATCH", f"{prefix}/Users/{user_id}", token, patch)
            assert status in (200, 204), (status, body[:300])
            requests += 1

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return requests


def run(url: str, activity_log: bool, users: int, profile: bool = False) -> tuple[float, float]:
    """(CPU µs per request, wall seconds) of one sync into a fresh database."""
    token, _ = prepare_empty(url)
    app = _app(url, activity_log)

    async def main() -> int:
        async with Lifespan(app):
            return await _sync(app, token, users)

    profiler = cProfile.Profile() if profile else None
    began_cpu, began = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    requests = asyncio.run(main())
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(WORK / f"sync-cost-{'on' if activity_log else 'off'}.pstats")
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        print(out.getvalue(), file=sys.stderr)
    cpu = time.process_time() - began_cpu
    return 1e6 * cpu / requests, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", choices=("on", "off"), default=None)
    parser.add_argument("--once", choices=("on", "off"), default=None, help="one run (valgrind)")
    args = parser.parse_args()
    data = WORK / "data"
    data.mkdir(parents=True, exist_ok=True)
    postgres: str | None = args.postgres

    def url(suffix: str) -> str:
        if postgres:
            return postgres
        return sqlite_url(data, f"sync-cost-{suffix}.sqlite")

    if args.once:
        cpu, wall = run(url(args.once), args.once == "on", args.users)
        print(f"log {args.once}: {cpu:.0f} µs CPU/request, {wall:.1f} s", file=sys.stderr)
        return
    if args.profile:
        run(url(args.profile), args.profile == "on", args.users, profile=True)
        return
    figures: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for on in (False, True):
            cpu, wall = run(url("on" if on else "off"), on, args.users)
            figures[on].append(cpu)
            print(
                f"log {'on ' if on else 'off'}: {cpu:6.0f} µs CPU/request, {wall:5.1f} s",
                file=sys.stderr,
            )
    best_on, best_off = min(figures[True]), min(figures[False])
    print(
        f"best: on {best_on:.0f} µs, off {best_off:.0f} µs, log's share "
        f"{best_on - best_off:.0f} µs/request, off/on {best_off / best_on:.2f}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
