"""The frontend's workload: each operation of ``graphql/operations`` on random people of the
bench's org, sent as ``GET /graphql?query=…&variables=…`` (what a browser caches), to the
service and to the framework's floor (``bench.floor_app``) alike."""

import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

from bench.client import HttpConnection
from bench.dataset import GIVEN, Org, Person
from bench.history import last_day
from bench.servers import HOST, Server

ROOT = Path(__file__).resolve().parent.parent
#: Variable sets per operation in a paths file: each request picks one at random.
PATHS = 2_000
#: The provisioning health's window: the log's last day (``bench.history``).
SINCE = last_day().isoformat()


@dataclass(frozen=True, slots=True)
class Operation:
    name: str  # the file's stem: profile_card, org_chart, ...
    document: str


def operations() -> list[Operation]:
    """The operations answered over HTTP (a subscription streams over WebSocket)."""
    found = []
    for path in sorted((ROOT / "graphql" / "operations").glob("*.graphql")):
        document = path.read_text()
        if not re.search(r"^subscription\b", document, re.MULTILINE):
            found.append(Operation(path.stem, document))
    return found


def _manager(org: Org, rng: random.Random) -> Person:
    while True:
        person = rng.choice(org.people)
        if person.reports:
            return person


def _skip_level_manager(org: Org, rng: random.Random) -> Person:
    while True:
        person = _manager(org, rng)
        if any(org.people[report].reports for report in person.reports):
            return person


def variables(name: str, org: Org, rng: random.Random) -> dict[str, Any]:
    """Variables of one request of operation ``name`` about random people of ``org``."""
    person = rng.choice(org.people)
    if name in ("profile_card", "org_chart"):
        return {"id": person.id}
    if name == "team_list":
        return {"managerId": _manager(org, rng).id}
    if name == "skip_level":
        return {"id": _skip_level_manager(org, rng).id}
    if name == "search":
        given = rng.choice(GIVEN).lower()
        return {"search": given[: rng.randint(2, len(given))]}
    if name == "reporting_path":
        return {"from": person.user_name, "to": rng.choice(org.people).user_name}
    if name == "user_history":
        return {"userName": person.user_name}
    if name == "provisioning_health":
        return {"since": SINCE}
    raise ValueError(f"no variables known for operation {name!r}")


def path(operation: Operation, variables: dict[str, Any]) -> str:
    query = {"query": operation.document, "variables": orjson.dumps(variables).decode()}
    return "/graphql?" + urlencode(query)


def paths_file(operation: Operation, org: Org, seed: int, directory: Path) -> Path:
    rng = random.Random(f"{seed}:{operation.name}")
    file = directory / f"paths-frontend-{operation.name}.txt"
    lines = (path(operation, variables(operation.name, org, rng)) for _ in range(PATHS))
    file.write_text("".join(line + "\n" for line in lines))
    return file


async def probe(server: Server, token: str | None, paths: list[str]) -> str:
    """Empty when the server answers these GETs with data and no errors; else why not."""
    connection = await HttpConnection(HOST, server.port, token).open()
    try:
        for one in paths:
            reply = await connection.get(one)
            if reply.status != 200:
                return f"n/a (HTTP {reply.status}: {reply.body[:200]!r})"
            body = reply.json()
            if not isinstance(body, dict) or body.get("errors") or body.get("data") is None:
                return f"n/a (wrong answer: {reply.body[:200]!r})"
        return ""
    finally:
        await connection.close()
