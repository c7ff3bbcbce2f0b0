"""The event loop's longest stall while work that grows with the tenant runs.

One uvicorn worker serves every request of the process on one event loop: whatever runs on
the loop for long delays every other request. A probe asks ``GET /healthz`` (no store call,
so it measures only the loop) every ``PROBE_INTERVAL`` on a connection of its own, while

1. the org metrics are recomputed: a manager changes (the org version moves), then GraphQL
   asks for ``orgHealth``, which scans every user of the tenant;
2. a group of ``GROUP_MEMBERS`` members gets another ``GROUP_MEMBERS`` members through SCIM
   (``PATCH`` ``replace`` on ``members``).

The figure is the longest gap between two probe answers (an idle loop answers every interval).
The server works on a copy of the benchmark's database: both steps write to it.
"""

import asyncio
import gc
import itertools
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.client import HttpConnection
from bench.dataset import Org
from bench.servers import HOST, Server

PROBE_INTERVAL = 0.005
GROUP_MEMBERS = 10_000
#: Probing before and after the work, so that the work's own start and end are covered.
QUIET = 0.5

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MANAGER_PATH = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
ORG_HEALTH_QUERY = "{ orgHealth { userCount activeUserCount rootCount maxDepth } }"


class StallFailure(Exception):
    """The server did not do the work the figure is about."""


@dataclass(slots=True)
class StallResult:
    longest_ms: float
    probes: int
    #: phase -> (its longest gap, how long the phase took), both in ms
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)


def copy_sqlite(source: str, target: Path) -> str:
    """A consistent copy of the SQLite database file at ``source`` (its WAL included)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    original.close()
    copy.close()
    return f"sqlite:///{target.resolve()}"


def _longest_gap(answers: list[float], start: float, end: float) -> float:
    """The longest time between two answers, for gaps that end in [start, end]."""
    gaps = [b - a for a, b in itertools.pairwise(answers) if start <= b <= end]
    return max(gaps, default=0.0)


async def _probe(server: Server, stop: asyncio.Event, answers: list[float]) -> None:
    connection = await HttpConnection(HOST, server.port).open()
    try:
        due = time.perf_counter()
        while not stop.is_set():
            reply = await connection.get("/healthz")
            if reply.status != 200:
                raise StallFailure(f"/healthz answered {reply.status}")
            now = time.perf_counter()
            answers.append(now)
            due = max(due + PROBE_INTERVAL, now)
            await asyncio.sleep(due - now)
    finally:
        await connection.close()


def _check(reply: Any, what: str, expected: int = 200) -> None:
    if reply.status != expected:
        raise StallFailure(f"{what} answered {reply.status}: {reply.body[:200]!r}")


def _replace_members(ids: list[str]) -> dict[str, Any]:
    members = [{"value": user_id} for user_id in ids]
    return {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "members", "value": members}],
    }


async def _measure(server: Server, scim_token: str, graphql_token: str, org: Org) -> StallResult:
    if len(org.people) < 2 * GROUP_MEMBERS + 2:
        raise StallFailure(f"the org has fewer than {2 * GROUP_MEMBERS + 2} people")
    ids = [person.id for person in org.people]
    scim = await HttpConnection(HOST, server.port, scim_token).open()
    graphql = await HttpConnection(HOST, server.port, graphql_token).open()
    try:
        # Set-up, not measured: the metrics as of now, and the group with its first members.
        reply = await graphql.send_json(
            "POST", "/graphql", {"query": ORG_HEALTH_QUERY}, "application/json"
        )
        _check(reply, "GraphQL orgHealth")
        if b'"errors"' in reply.body:
            raise StallFailure(f"GraphQL orgHealth failed: {reply.body[:300]!r}")
        group = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": f"stall bench {time.time_ns()}",
            "members": [{"value": user_id} for user_id in ids[:GROUP_MEMBERS]],
        }
        reply = await scim.send_json("POST", "/scim/Groups?excludedAttributes=members", group)
        _check(reply, "POST /Groups", 201)
        group_id = reply.json()["id"]  # type: ignore[index]
        leaf, new_manager = ids[-1], ids[1]
        manager_patch = {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "replace", "path": MANAGER_PATH, "value": {"value": new_manager}}
            ],
        }
        members_patch = _replace_members(ids[GROUP_MEMBERS : 2 * GROUP_MEMBERS])

        answers: list[float] = []
        stop = asyncio.Event()
        probe = asyncio.create_task(_probe(server, stop, answers))
        phases: dict[str, tuple[float, float]] = {}
        began = time.perf_counter()
        await asyncio.sleep(QUIET)
        # the same probe with nothing to do: what this machine's own noise looks like
        phases["idle"] = (began, time.perf_counter())

        began = time.perf_counter()
        reply = await scim.send_json("PATCH", f"/scim/Users/{leaf}", manager_patch)
        _check(reply, "PATCH manager")
        reply = await graphql.send_json(
            "POST", "/graphql", {"query": ORG_HEALTH_QUERY}, "application/json"
        )
        _check(reply, "GraphQL orgHealth")
        if b'"errors"' in reply.body:
            raise StallFailure(f"GraphQL orgHealth failed: {reply.body[:300]!r}")
        ended = time.perf_counter()
        phases["org metrics recomputed"] = (began, ended)
        await asyncio.sleep(QUIET)

        began = time.perf_counter()
        reply = await scim.send_json("PATCH", f"/scim/Groups/{group_id}", members_patch)
        _check(reply, "PATCH group members")
        ended = time.perf_counter()
        phases[f"{GROUP_MEMBERS:,}-member group replaced"] = (began, ended)
        await asyncio.sleep(QUIET)

        stop.set()
        await probe
    finally:
        await scim.close()
        await graphql.close()
    result = StallResult(_longest_gap(answers, answers[0], answers[-1]) * 1000, len(answers))
    for name, (began, ended) in phases.items():
        longest = _longest_gap(
            answers, began, ended + (0 if name == "idle" else PROBE_INTERVAL * 4)
        )
        result.phases[name] = (longest * 1000, (ended - began) * 1000)
    return result


def measure_stall(server: Server, scim_token: str, graphql_token: str, org: Org) -> StallResult:
    """The figure, measured with this process's garbage collector off: the benchmark holds
    every person of the org, and a full collection here would delay the probe's answers as if
    the server had stalled."""
    gc.collect()
    gc.disable()
    try:
        return asyncio.run(_measure(server, scim_token, graphql_token, org))
    finally:
        gc.enable()


def describe(result: StallResult) -> str:
    phases = "; ".join(
        f"{name}: longest {longest:.1f} ms over {took:,.0f} ms"
        for name, (longest, took) in result.phases.items()
    )
    every = f"probe GET /healthz every {PROBE_INTERVAL * 1000:g} ms"
    return f"{every}, {result.probes:,} answers; {phases}"
