"""Entra's look-up under load on one server, with the PostgreSQL connections it opened.

    python -m bench.lookup_sessions postgresql+psycopg://postgres@127.0.0.1:5432/NAME_1000 \\
        [--rounds 2] [--seconds 5] [--env BLINK_DB_POOL_SIZE=30]

Serves the tree it is run from (``bench.instrumented_app``, as ``make bench`` does) over the
1,000-user bench database of the URL (built and cached like the bench's), runs wrk's look-ups
``--rounds`` times on the same server and prints, per run, req/s, the server's CPU per request
and how many connections PostgreSQL saw opened to that database meanwhile
(``pg_stat_database.sessions``). To compare two trees back to back, run it from a worktree of
each in turn. A SQLite URL works too (no connection count).
"""

import argparse
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import figures, store
from bench.figures import LoadSettings
from bench.loadgen import ensure_wrk
from bench.servers import serve

WORK = Path(".bench")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lookup_sessions")
    parser.add_argument("url")
    parser.add_argument("--size", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    bench = store.prepare(args.url, args.size, 42, log=print)
    settings = LoadSettings(
        wrk=ensure_wrk(), seconds=args.seconds, connections=args.connections, seed=42, work_dir=WORK
    )
    paths = figures.lookup_paths(bench.org, "/scim", settings, "lookup-sessions")
    url = make_url(args.url)
    admin = None
    if url.get_backend_name() == "postgresql":
        maintenance = url.set(database="postgres").render_as_string(hide_password=False)
        admin = create_engine(maintenance, isolation_level="AUTOCOMMIT")

    def sessions() -> int:
        if admin is None:
            return 0
        with admin.connect() as connection:
            statement = text("SELECT sessions FROM pg_stat_database WHERE datname = :name")
            return int(connection.execute(statement, {"name": url.database}).scalar_one())

    env = {"BLINK_DATABASE_URL": args.url, "BLINK_REQUEST_LOG": "true"}
    env.update(item.split("=", 1) for item in args.env)
    with serve("lookup-sessions", "bench.instrumented_app:create_app", env, WORK) as server:
        for round_ in range(args.rounds):
            before = sessions()
            result, note = figures.lookup_throughput(server, bench.scim_token, paths, settings)
            if result is None:
                raise SystemExit(note)
            print(
                f"run {round_ + 1}: {result.rps:,.0f} req/s, {result.cpu_us_per_request:.0f} µs "
                f"server CPU per request, p50 {result.p50_ms:.2f} ms, {result.errors} errors, "
                f"{sessions() - before} PostgreSQL connections opened for {result.requests:,} "
                "requests"
            )
    if admin is not None:
        admin.dispose()


if __name__ == "__main__":
    main()
