"""Instructions per look-up, counted by valgrind, for look-ups made in process through ASGI.

    python -m bench.instructions lookup [--size 1000] [--runs 100 200] [--tool callgrind]
    python -m bench.instructions lookup --profile [--runs 400]   # cProfile, no valgrind
    python -m bench.instructions lookup --postgres postgresql+psycopg://…/NAME   # on PostgreSQL

Builds the app as shipped (``app.main:create_app``: request log on in JSON with ``serve``'s
logging configuration, into ``.bench/logs/instructions.log``; rate limit and everything else
at their defaults) over the cached 1,000-user SQLite bench database (or, with ``--postgres``,
a PostgreSQL one: what the server process does, not the PostgreSQL server's own work),
starts its lifespan and
sends it Entra's look-up ``GET /scim/v2/Users?filter=userName eq "…"`` with a Bearer token, one
request after the other, for random existing users, as an ASGI call (a scope and two
callables: no HTTP client in the count). valgrind runs this twice, with ``--runs`` look-ups
each; the difference of the two totals divided by the difference of the runs is the cost of one
look-up, without the interpreter's start, the imports and the app's construction.

Valgrind counts instructions, not time, so the figure repeats on a loaded machine (about ±1%
between runs: the garbage collector, the request lines' batches). It does not see the kernel
(the request line's write). One setting differs from the default: the token cache is kept for
an hour, because under valgrind the program runs ~50 times slower and the default 5 seconds would
look the token up in the store every few dozen look-ups instead of every few thousand.

The ``--profile`` mode runs the same look-ups natively under cProfile and prints the functions
with the largest cumulative and own time (the Python-level view of the same work); keep its
``--runs`` under the rate limit's burst (500), or the later look-ups are answered 429.
"""

import argparse
import asyncio
import cProfile
import io
import logging.config
import os
import pstats
import random
import re
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine import make_url

from bench.client import filter_path
from bench.in_process import Lifespan, call, request_scope
from bench.store import prepare, sqlite_url

WORK = Path(".bench")
LOOKUP_USERS = 1_000
SEED = 42
#: Look-ups made before counting starts: statements compiled, caches filled.
WARM_UP = 20
TOKEN_CACHE_SECONDS = 3600.0


#: Settings changed one at a time by ``--breakdown``: what each of these parts costs.
VARIANTS = (
    ("request log off", "request_log", False),
    ("rate limit off", "rate_limit_per_second", 0.0),
    ("activity log off", "activity_log", False),
)


def _app(url: str, **overrides: Any) -> Any:
    """The app as ``serve`` builds it (request lines to this process's stdout)."""
    from app.main import create_app
    from app.settings import Settings

    fields: dict[str, Any] = {"database_url": url}
    known = Settings.model_fields
    for name, value in (
        ("log_format", "json"),
        ("request_log", True),
        ("token_cache_seconds", TOKEN_CACHE_SECONDS),
        # The bench's log is dated (bench.history): never pruned under the bench.
        ("activity_retention_days", 0),
        *overrides.items(),
    ):
        if name in known:  # older trees (fafa724) have no request log
            fields[name] = value
    settings = Settings(**fields)
    try:
        from app.logging_setup import logging_config, resolve_format
    except ImportError:
        pass
    else:
        level = getattr(settings, "log_level", "info")
        logging.config.dictConfig(logging_config(level, resolve_format("json")))
    return create_app(settings)


def _scope(path: str, token: str) -> dict[str, Any]:
    return request_scope("GET", path, token)


async def _call(app: Any, scope: dict[str, Any]) -> tuple[int, bytes]:
    return await call(app, scope)


def _paths(org: Any, count: int) -> list[str]:
    rng = random.Random(SEED)
    return [filter_path("/scim/v2", rng.choice(org.people).user_name) for _ in range(count)]


def _database(size: int, postgres: str | None = None) -> Any:
    """The bench database: SQLite's file, or with ``postgres`` (a server URL) its database
    ``<name>_instructions_<size>`` on that server."""
    if postgres:
        parsed = make_url(postgres)
        url = parsed.set(database=f"{parsed.database}_instructions_{size}")
        return prepare(url.render_as_string(hide_password=False), size, SEED, log=print)
    data = WORK / "data"
    data.mkdir(parents=True, exist_ok=True)
    return prepare(sqlite_url(data, f"instructions-{size}.db"), size, SEED, log=print)


# -- what is counted: phases of look-ups between markers ------------------------------------


def _marker() -> None:
    """A phase boundary: valgrind is run with ``--dump-before=getppid``, so each call writes
    the instructions counted since the last one to a file of their own. Nothing else in the
    process calls getppid."""
    os.getppid()


@dataclass(frozen=True)
class Phase:
    """Look-ups entered at one place: ``make(number)`` builds a look-up's input (outside the
    count: a fresh scope, as a server builds it), ``run(input)`` is what is counted."""

    name: str
    make: Callable[[int], Any]
    run: Callable[[Any], Awaitable[None]]


def _checked(status: int, body: bytes) -> None:
    if status != 200 or b'"totalResults":1' not in body:
        raise SystemExit(f"a look-up answered {status}: {body[:200]!r}")


def _whole_app(name: str, app: Any, paths: list[str], token: str) -> Phase:
    """Entra's look-up through the whole app, as uvicorn would call it."""

    async def run(scope: dict[str, Any]) -> None:
        _checked(*await _call(app, scope))

    return Phase(name, lambda number: _scope(paths[number % len(paths)], token), run)


def _layers(first: Any, last: Any) -> list[Any]:
    """``first`` and the apps it wraps (ASGI middleware keeps the app it wraps as ``.app``,
    as ``app.route_templates`` reads them too), up to and without ``last``."""
    layers = [first]
    while layers[-1] is not last:
        layers.append(layers[-1].app)
    return layers[:-1]


def _breakdown(app: Any, paths: list[str], token: str, grant: Any) -> list[Phase]:
    """The same look-ups entered at each layer in turn, so that differences give each layer's
    cost. Built from what the app's objects offer (``matches`` of the routes, ``.app`` of a
    middleware, the app's state); a tree that lacks a piece (fafa724) skips those phases."""
    from starlette.applications import Starlette
    from starlette.routing import Match, Mount

    scim_app = getattr(app.state, "scim_app", None)
    mount = next((r for r in app.routes if isinstance(r, Mount) and r.path == "/scim/v2"), None)
    if scim_app is None or mount is None:
        return _parts_of_endpoint(app, paths, grant)

    def in_app(number: int) -> dict[str, Any]:
        scope = _scope(paths[number % len(paths)], token)
        scope["app"] = app
        return scope

    def after_mount(number: int, *, granted: bool = True) -> dict[str, Any]:
        scope = in_app(number)
        match, child = mount.matches(scope)
        assert match == Match.FULL
        scope.update(child)
        scope.update(router=app.router, route=mount)
        if granted:
            scope["state"]["grant"] = grant  # as the token check leaves it
        return scope

    def in_scim_app(number: int) -> dict[str, Any]:
        scope = after_mount(number)
        scope["app"] = scim_app
        return scope

    route = next(r for r in scim_app.routes if r.matches(in_scim_app(0))[0] == Match.FULL)

    def after_route(number: int) -> dict[str, Any]:
        scope = in_scim_app(number)
        scope.update(route.matches(scope)[1])
        scope.update(router=scim_app.router, route=route)
        return scope

    def entered(layer: Any, make: Callable[[int], Any], where: str) -> Phase:
        async def run(scope: dict[str, Any]) -> None:
            _checked(*await _call(layer, scope))

        return Phase(f"{where}: {type(layer).__name__}", make, run)

    app.middleware_stack = app.middleware_stack or app.build_middleware_stack()
    scim_app.middleware_stack = scim_app.middleware_stack or scim_app.build_middleware_stack()
    # The token check and the rate limit, around the SCIM app: ASGI middleware, each keeping
    # the app it wraps as ``.app`` (which the ASGIApp type does not know).
    outside: list[Any] = [mount.app]
    while not isinstance(outside[-1].app, Starlette):
        outside.append(outside[-1].app)
    phases = [entered(layer, in_app, "app") for layer in _layers(app.middleware_stack, app.router)]
    phases.append(entered(app.router, in_app, "app"))
    phases.append(entered(outside[0], partial(after_mount, granted=False), "mount"))
    phases += [entered(layer, after_mount, "mount") for layer in outside[1:]]
    phases.append(entered(scim_app, after_mount, "SCIM app"))
    scim_layers = _layers(scim_app.middleware_stack, scim_app.router)
    phases += [entered(layer, in_scim_app, "SCIM app") for layer in scim_layers]
    phases.append(entered(scim_app.router, in_scim_app, "SCIM app"))
    phases.append(entered(route.app, after_route, "GET /Users endpoint"))
    return phases + _parts_of_endpoint(app, paths, grant)


def _parts_of_endpoint(app: Any, paths: list[str], grant: Any) -> list[Phase]:
    """The endpoint's three parts, each on its own: the filter, the store, the rendering."""
    try:
        from db.users import list_users
        from scim.filters import template_user_filter
        from scim.listing import list_response
        from scim.user_cast import render_user
        from scim.user_search import DEFAULT_ORDER, lone_filter
    except ImportError:
        return []
    database = app.state.database
    queries = [path.partition("?")[2].encode() for path in paths]
    bound = [template_user_filter(lone_filter(query) or "") for query in queries]
    found: dict[int, Any] = {}

    async def recognise(query: bytes) -> None:
        text = lone_filter(query)
        assert text is not None
        assert template_user_filter(text) is not None

    async def store(number: int) -> None:
        where = bound[number % len(bound)]
        assert where is not None
        total, rows = await database.read(
            lambda connection: list_users(
                connection, grant.tenant_id, where.where, DEFAULT_ORDER, 0, 100, where.parameters
            )
        )
        assert total == 1
        found[number] = rows

    def list_users_of(store: Any, where: Any) -> Any:
        return store.read_sync(
            lambda connection: list_users(
                connection, grant.tenant_id, where.where, DEFAULT_ORDER, 0, 100, where.parameters
            )
        )

    async def render(number: int) -> None:
        rows = found[number]
        resources = [render_user(row, "http://127.0.0.1:8000/scim/v2") for row in rows]
        orjson.dumps(list_response(resources, len(rows), 1))

    return [
        Phase(
            "filter: recognise the template (lone_filter, template_user_filter)",
            lambda number: queries[number % len(queries)],
            recognise,
        ),
        Phase("store: list_users through Database.read", lambda number: number, store),
        Phase("render: render_user, list_response, orjson", lambda number: number, render),
        *_driver_alone(app.state.settings.database_url, bound, list_users_of),
    ]


def _driver_alone(url: str, bound: list[Any], run: Callable[[Any, Any], Any]) -> list[Phase]:
    """The same SELECT, its SQL text and values as SQLAlchemy sends them (taken from the
    ``before_cursor_execute`` event of an engine of its own: an engine that ever had an
    execution listener pays for dispatching events on every statement), run on a sqlite3
    connection with no SQLAlchemy in between: SQLite's own work and the driver's rows,
    without type conversion. What ``store`` costs above it is SQLAlchemy's and the store's."""
    from sqlalchemy import event

    from db.database import Database

    if make_url(url).get_backend_name() != "sqlite":
        return []  # PostgreSQL's reads go through asyncpg, which has no synchronous driver
    probe = Database(url)
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(probe.read_engine, "before_cursor_execute", capture)
    for where in bound:
        run(probe, where)
    if len(sent) != len(bound):
        return []  # not one statement per look-up: nothing to compare with
    driver = probe.read_engine.raw_connection().driver_connection
    assert isinstance(driver, sqlite3.Connection)

    async def alone(number: int) -> None:
        statement, parameters = sent[number % len(sent)]
        assert len(driver.execute(statement, parameters).fetchall()) == 1

    return [Phase("store: the same SELECT on the sqlite3 driver alone", lambda n: n, alone)]


async def _lookups(
    app: Any, paths: list[str], token: str, runs: int, breakdown: bool, wait: bool
) -> None:
    async with AsyncExitStack() as running:
        await running.enter_async_context(Lifespan(app))
        phases = [
            _whole_app("the whole app", app, paths, token),
            _whole_app("the whole app, again", app, paths, token),
        ]
        if breakdown:
            grant = await app.state.token_verifier.verify(token)
            phases += _breakdown(app, paths, token, grant)
            for name, setting, value in VARIANTS:
                if setting in type(app.state.settings).model_fields:
                    variant = _app(app.state.settings.database_url, **{setting: value})
                    await running.enter_async_context(Lifespan(variant))
                    phases.append(_whole_app(f"the whole app, {name}", variant, paths, token))
        for phase in phases:
            for number in range(WARM_UP):  # every phase's own warm-up, outside the count
                await phase.run(phase.make(number))
        # Every input is built before counting starts, and each phase is one part of the count.
        inputs = [[phase.make(n) for n in range(WARM_UP, WARM_UP + runs)] for phase in phases]
        for phase in phases:
            print(f"phase: {phase.name}", file=sys.stderr)
        if wait:  # valgrind counts from here on: the parent turns its instrumentation on
            print("ready", file=sys.stderr, flush=True)
            sys.stdin.readline()
        for phase, made in zip(phases, inputs, strict=True):
            _marker()
            for one in made:
                await phase.run(one)
        _marker()


def inner(args: argparse.Namespace) -> None:
    """One counted process: the app and its phases of ``args.runs`` look-ups each."""
    bench = _database(args.size, args.postgres)
    app = _app(bench.url)
    paths = _paths(bench.org, 1_000)
    asyncio.run(_lookups(app, paths, bench.scim_token, args.runs, args.breakdown, wait=True))


def _parts(out: Path) -> dict[int, int]:
    """part number -> instructions, from callgrind's dump files (``out``, ``out.1``, ...)."""
    parts: dict[int, int] = {}
    for path in out.parent.glob(out.name + "*"):
        text = path.read_text(errors="replace")
        part = re.search(r"^part:\s+(\d+)", text, re.MULTILINE)
        total = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.MULTILINE)
        if part and total:
            parts[int(part[1])] = int(total[1])
    return parts


def counted_parts(module_args: list[str], name: str, log: Path) -> tuple[dict[int, int], list[str]]:
    """Runs ``python -m <module_args>`` under callgrind, instrumented from the moment it
    prints ``ready`` on stderr (then it is sent a line on stdin to go on): the start
    (imports, the app, the warm-up) runs at valgrind's uninstrumented speed, several times
    faster. Each ``_marker`` call ends a part. Returns part number -> instructions, and the
    names it printed as ``phase: <name>`` lines. ``name`` names the callgrind files, which
    are written anew (under ``.bench/profiles``)."""
    profiles = WORK / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    out = profiles / f"callgrind-{name}.out"
    for old in profiles.glob(out.name + "*"):
        old.unlink()
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--dump-before=getppid",
        f"--callgrind-out-file={out}",
        sys.executable,
        "-m",
        *module_args,
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    names = []
    with log.open("ab") as stdout:
        child = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert child.stdin is not None
        assert child.stderr is not None
        errors = []
        for line in child.stderr:
            errors.append(line)
            if line.strip() == "ready":
                subprocess.run(
                    ["callgrind_control", "--instr=on", str(child.pid)],
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                child.stdin.write("go\n")
                child.stdin.flush()
            elif line.startswith("phase: "):
                names.append(line[7:].strip())
        if child.wait() != 0:
            raise SystemExit("".join(errors[-40:]))
    print(f"(callgrind files: {out}*; annotate one with callgrind_annotate --inclusive=yes)")
    return _parts(out), names


def measure(args: argparse.Namespace) -> None:
    _database(args.size, args.postgres)  # built (and cached) outside the count
    command = ["bench.instructions", "lookup", "--inner", "--size", str(args.size)]
    command += ["--runs", str(args.runs)]
    if args.breakdown:
        command.append("--breakdown")
    if args.postgres:
        command += ["--postgres", args.postgres]
    parts, names = counted_parts(command, "lookup", WORK / "logs" / "instructions.log")
    # part 1: start, imports, the app and the warm-up; then one part per phase; last: the end
    print(f"{args.size:,} users, {args.runs} look-ups per phase; instructions per look-up:")
    counts = [parts[index + 2] / args.runs for index in range(len(names))]
    layered = ("app:", "mount:", "SCIM app:")
    for index, (name, count) in enumerate(zip(names, counts, strict=True)):
        own = ""
        if name.startswith(layered) and index + 1 < len(names):
            own = f"{count - counts[index + 1]:>10,.0f} of its own"
        elif name.startswith("GET /Users endpoint") and index + 3 < len(names):
            own = f"{count - sum(counts[index + 1 : index + 4]):>10,.0f} of its own"
        print(f"{count:>12,.0f} {own:>21}  {name}")


def profile(args: argparse.Namespace) -> None:
    """The whole app's look-ups natively under cProfile: the Python-level view."""
    bench = _database(args.size, args.postgres)
    log = WORK / "logs" / "instructions.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout = log.open("a")  # the request lines
    app = _app(bench.url)
    paths = _paths(bench.org, 1_000)
    profiler = cProfile.Profile()

    async def run() -> None:
        async with Lifespan(app):
            whole = _whole_app("the whole app", app, paths, bench.scim_token)
            for number in range(WARM_UP):
                await whole.run(whole.make(number))
            inputs = [whole.make(number) for number in range(WARM_UP, WARM_UP + args.runs)]
            profiler.enable()
            for one in inputs:
                await whole.run(one)
            profiler.disable()

    asyncio.run(run())
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(40)
    print(text.getvalue(), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions")
    parser.add_argument("what", choices=("lookup",))
    parser.add_argument("--size", type=int, default=LOOKUP_USERS)
    parser.add_argument("--runs", type=int, default=100, help="look-ups per phase")
    parser.add_argument(
        "--breakdown", action="store_true", help="also enter the look-up at each layer"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile, no valgrind")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="count on PostgreSQL: the server and database name of the URL "
        "(<name>_instructions_<size>), instead of SQLite",
    )
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args)
    elif args.profile:
        profile(args)
    else:
        measure(args)


if __name__ == "__main__":
    main()
