"""Profile one server under load with py-spy and print where its time goes.

    python -m bench.profile lookup   [--backend sqlite|postgresql] [--seconds 15]
    python -m bench.profile graphql  [--backend ...]
    python -m bench.profile sync

Uses the cached benchmark databases (run ``make bench`` once first). Samples the uvicorn
process with ``py-spy record --format raw`` (collapsed stacks, idle frames dropped) while
wrk or the asyncio client drives it, then prints the functions with the largest inclusive
("total") and exclusive ("self") share of samples. The raw stacks stay in
``.bench/profiles/`` for flame graphs (e.g. speedscope).
"""

import argparse
import asyncio
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from bench import figures, store
from bench.__main__ import OURS, WORK, postgres_url
from bench.client import HttpConnection
from bench.dataset import generate
from bench.figures import REPORTS_QUERY, LoadSettings
from bench.loadgen import ensure_wrk, run_wrk
from bench.scim_load import sync
from bench.servers import HOST, Server, serve


def _py_spy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).with_name("py-spy")),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        str(out),
        "--nonblocking",
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarise(raw: Path, top: int = 30) -> str:
    inclusive: Counter[str] = Counter()
    exclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")]
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        exclusive[frames[-1]] += count
    lines = [f"{total} samples"]
    lines.append("-- total (inclusive) --")
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    lines.append("-- self (exclusive) --")
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in exclusive.most_common(top)]
    return "\n".join(lines)


#: (bucket, substrings of a frame): the leaf-most frame matching a rule decides the bucket.
BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("database: driver execute + step", ("do_execute", "do_executemany")),
    ("database: BEGIN/ROLLBACK/COMMIT per unit of work", ("_on_begin", "rollback", "commit")),
    ("database: fetching rows", ("fetchone", "fetchall", "_fetchiter_impl", "fetchmany")),
    ("SQLAlchemy: statement cache key", ("_generate_cache_key",)),
    ("SQLAlchemy: compile / compiled-cache lookup", ("_compile_w_cache", "compile")),
    ("SQLAlchemy: execute bookkeeping", ("Connection.execute", "_execute_context")),
    ("SQLAlchemy: connection checkout", ("pool", "Engine.connect", "Engine.begin")),
    ("thread hop (anyio worker)", ("run_sync", "WorkerThread", "to_thread")),
    ("filter: parse + compile", ("filters", "compile_user_filter", "scim2_filter_parser")),
    ("SQL statement construction (per request)", ("sqlalchemy/sql/", "(db/")),
    ("GraphQL: parse/validate", ("graphql/language", "graphql/validation", "validate")),
    ("GraphQL: execute (resolvers, dataloaders)", ("graphql/execution", "dataloader")),
    ("strawberry (other)", ("strawberry/",)),
    ("rendering the resource(s)", ("render_user", "projection", "row_to_document")),
    ("JSON encode + Response", ("Response.__init__", "render", "dumps")),
    ("request parsing (query string, URL, body)", ("query_params", "URL.__init__", "body", "json")),
    ("auth (token verify)", ("TokenVerifier", "bearer_token")),
    ("socket write (uvicorn send)", ("RequestResponseCycle.send",)),
)


def buckets(raw: Path) -> str:
    counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        counts[_bucket([_short(frame) for frame in stack.split(";")])] += count
    lines = ["-- where the time goes (leaf-most matching frame) --"]
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in counts.most_common()]
    return "\n".join(lines)


def _bucket(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, needles in BUCKETS:
            if any(needle in frame for needle in needles):
                return name
    return "framework, uvicorn, asyncio (other)"


def _short(frame: str) -> str:
    """``function (path/to/module.py:line)`` -> ``function (module.py)`` with package hints."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    for anchor in ("site-packages", "wt"):
        if anchor in parts:
            parts = parts[parts.index(anchor) + 1 :]
            break
    return f"{name} ({'/'.join(parts[-3:])})"


def _drive_graphql(server: Server, token: str, person_id: str, seconds: float) -> None:
    async def loop() -> None:
        connection = await HttpConnection(HOST, server.port, token).open()
        deadline = time.monotonic() + seconds
        body = {"query": REPORTS_QUERY, "variables": {"id": person_id}}
        while time.monotonic() < deadline:
            await connection.send_json("POST", "/graphql", body, "application/json")

    asyncio.run(loop())


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("what", choices=("lookup", "graphql", "sync", "summary"))
    parser.add_argument("--raw", type=Path, help="with summary: a raw stacks file")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/blink_bench"
    )
    args = parser.parse_args()
    if args.what == "summary":
        print(summarise(args.raw))
        print(buckets(args.raw))
        return 0

    profiles = WORK / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    data = WORK / "data"
    data.mkdir(parents=True, exist_ok=True)
    if args.what == "sync":
        url = (
            store.sqlite_url(data, "sync-profile.sqlite")
            if args.backend == "sqlite"
            else postgres_url(args.postgres, "sync_profile")
        )
        if args.backend == "postgresql":
            store.ensure_postgres_database(url)
        token, _ = store.prepare_empty(url)
        org = generate(3_000, args.seed)
    else:
        url = (
            store.sqlite_url(data, f"large-{args.seed}.sqlite")
            if args.backend == "sqlite"
            else postgres_url(args.postgres, args.size)
        )
        prepared = store.prepare(url, args.size, args.seed)
        org = prepared.org
        token = prepared.scim_token if args.what == "lookup" else prepared.graphql_token
    raw = profiles / f"{args.what}-{args.backend}.txt"
    with serve(f"profile-{args.what}", OURS, {"BLINK_DATABASE_URL": url}, WORK / "logs") as server:
        spy = _py_spy(server.pid, args.seconds, raw)
        time.sleep(1)  # let py-spy attach
        if args.what == "lookup":
            wrk = ensure_wrk()
            settings = LoadSettings(wrk, args.seconds, 16, args.seed, WORK)
            paths = figures.lookup_paths(org, "/scim", settings, "profile")
            assert wrk is not None, "profiling look-ups needs wrk"
            run_wrk(
                wrk,
                server.base_url,
                paths,
                seconds=args.seconds,
                connections=16,
                token=token,
                seed=1,
            )
        elif args.what == "graphql":
            person = figures.reports_target(org)
            _drive_graphql(server, token, person.id, args.seconds)
        else:
            worker = threading.Thread(
                target=sync, args=(HOST, server.port, token, "/scim", org), daemon=True
            )
            worker.start()
            worker.join(args.seconds + 5)
        spy.wait(timeout=args.seconds + 30)
    print(summarise(raw))
    print(buckets(raw))
    print(f"raw stacks: {raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
