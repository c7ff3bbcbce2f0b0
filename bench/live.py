"""Live changes (issue 14): commit-to-subscriber latency and server CPU per delivered event.

``subscribers`` WebSocket clients (one connection each, graphql-transport-ws) run the
``directoryChanges`` subscription of ``graphql/operations/directory_changes.graphql``, the
operation the frontend and GraphiQL run, while one writer changes a different user's title
over SCIM (``PATCH /scim/Users/<id>``) at a steady rate. The latency of a delivery is the time
from the writer reading the PATCH's answer (the write has committed) to a subscriber reading
the event; both clocks are this process's ``time.perf_counter``. The server's CPU comes from
``/proc/<pid>/stat`` of every server process, measured over the writes with the subscribers
connected, and over the same number of writes at the same rate before any subscriber
connected: the difference, per delivered event, is what delivering costs.
"""

import asyncio
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.client import HttpConnection

OPERATION = (
    Path(__file__).resolve().parent.parent / "graphql" / "operations" / "directory_changes.graphql"
)
PROTOCOL = "graphql-transport-ws"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#: Seconds to wait for the last deliveries once the writer has stopped.
DRAIN_SECONDS = 15.0


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``values`` (not empty)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(slots=True)
class Deliveries:
    """What the writer committed and what each subscriber received, by the user changed."""

    subscribers: int
    #: resource id -> when the writer read the answer of the PATCH that changed it
    committed: dict[str, float] = field(default_factory=dict)
    #: (subscriber, resource id) -> when that subscriber read the event
    received: dict[tuple[int, str], float] = field(default_factory=dict)
    duplicates: int = 0
    unexpected: int = 0  # events about users the measured writes did not change (probes)

    def answered(self, resource_id: str, at: float) -> None:
        self.committed[resource_id] = at

    def receive(self, subscriber: int, resource_id: str, at: float) -> None:
        key = (subscriber, resource_id)
        if key in self.received:
            self.duplicates += 1
        else:
            self.received[key] = at

    @property
    def expected(self) -> int:
        return len(self.committed) * self.subscribers

    @property
    def delivered(self) -> int:
        return sum(1 for _, resource_id in self.received if resource_id in self.committed)

    @property
    def complete(self) -> bool:
        return self.delivered >= self.expected

    def latencies(self) -> list[float]:
        """Seconds from each write's answer to each subscriber reading its event."""
        return [
            at - self.committed[resource_id]
            for (_, resource_id), at in self.received.items()
            if resource_id in self.committed
        ]


@dataclass(frozen=True, slots=True)
class LiveResult:
    subscribers: int
    writes: int
    expected: int
    delivered: int
    duplicates: int
    write_errors: int
    first_error: str
    latencies: list[float]
    cpu_with_subscribers: float  # server CPU seconds over the measured writes
    cpu_without: float  # over as many writes at the same rate, no subscriber connected
    connections: dict[int, int]  # server process id -> TCP connections it holds
    #: The bench client's own CPU over the measured writes, as a share of their wall time: near
    #: 1, the client (one process reading every subscriber's socket) adds to the latency.
    client_cpu_share: float

    @property
    def missing(self) -> int:
        """Deliveries not made by the end of the run (late or lost)."""
        return self.expected - self.delivered

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000

    @property
    def cpu_us_per_event(self) -> float:
        """Server CPU per delivered event, the writes' own cost left out."""
        extra = self.cpu_with_subscribers - self.cpu_without
        return 1e6 * extra / max(1, self.delivered)

    @property
    def gross_cpu_us_per_event(self) -> float:
        return 1e6 * self.cpu_with_subscribers / max(1, self.delivered)


class Subscriber:
    def __init__(self, index: int, url: str, token: str, deliveries: Deliveries) -> None:
        self.index = index
        self.url = url
        self.token = token
        self.deliveries = deliveries
        self.errors: list[str] = []
        self.socket: ClientConnection | None = None

    async def start(self, query: str) -> None:
        self.socket = await connect(
            self.url,
            subprotocols=[Subprotocol(PROTOCOL)],
            max_size=None,
            ping_interval=None,
        )
        await self._send({"type": "connection_init", "payload": {"Authorization": self.token}})
        ack = orjson.loads(await self.socket.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"subscriber {self.index} refused: {ack}")
        await self._send({"id": "1", "type": "subscribe", "payload": {"query": query}})

    async def _send(self, message: dict[str, object]) -> None:
        assert self.socket is not None
        await self.socket.send(orjson.dumps(message).decode())

    async def run(self) -> None:
        assert self.socket is not None
        async for raw in self.socket:
            at = time.perf_counter()
            message = orjson.loads(raw)
            kind = message.get("type")
            if kind == "next":
                payload = message["payload"]
                if payload.get("errors"):
                    self.errors.append(str(payload["errors"])[:300])
                    continue
                event = payload["data"]["directoryChanges"]
                self.deliveries.receive(self.index, str(event["resourceId"]), at)
            elif kind == "ping":
                await self._send({"type": "pong"})
            elif kind in ("error", "complete"):
                self.errors.append(str(message)[:300])
                return

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


def title_patch(title: str) -> dict[str, object]:
    return {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "title", "value": title}],
    }


@dataclass(slots=True)
class Writer:
    connection: HttpConnection
    errors: int = 0
    first_error: str = ""

    async def patch(self, user_id: str, title: str) -> bool:
        reply = await self.connection.send_json(
            "PATCH", f"/scim/Users/{user_id}", title_patch(title)
        )
        if reply.status == 200:
            return True
        self.errors += 1
        if not self.first_error:
            self.first_error = f"PATCH -> {reply.status}: {reply.body[:200]!r}"
        return False

    async def steady(
        self, user_ids: Sequence[str], rate: float, label: str, on_answer: Callable[[str], None]
    ) -> None:
        """One PATCH per user, ``rate`` a second, on a fixed schedule (a slow answer is not
        made up for by sending the next ones faster than the schedule allows)."""
        began = time.perf_counter()
        for number, user_id in enumerate(user_ids):
            delay = began + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if await self.patch(user_id, f"{label} {number}"):
                on_answer(user_id)


async def _wait_for(done: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def measure(
    host: str,
    port: int,
    scim_token: str,
    graphql_token: str,
    user_ids: Sequence[str],
    *,
    subscribers: int,
    writes: int,
    rate: float,
    cpu_seconds: Callable[[], float] = lambda: 0.0,
    connections: Callable[[], dict[int, int]] = dict,
    query: str | None = None,
) -> LiveResult:
    """Writes without subscribers, then ``subscribers`` connect and the same number of writes
    (to other users) are measured. ``user_ids`` needs ``2 * writes + 20`` distinct users."""
    if len(user_ids) < 2 * writes + 20:
        raise ValueError(f"{2 * writes + 20} users are needed, {len(user_ids)} given")
    query = query if query is not None else OPERATION.read_text()
    unmeasured, probes, measured = (
        user_ids[:writes],
        user_ids[writes : writes + 20],
        user_ids[-writes:],
    )
    # Titles no earlier run set: a PATCH that changes nothing records no event.
    run = uuid.uuid4().hex[:8]
    writer = Writer(await HttpConnection(host, port, scim_token).open())
    deliveries = Deliveries(subscribers)
    clients = [
        Subscriber(i, f"ws://{host}:{port}/graphql", f"Bearer {graphql_token}", deliveries)
        for i in range(subscribers)
    ]
    tasks: list[asyncio.Task[None]] = []
    try:
        began = cpu_seconds()
        await writer.steady(unmeasured, rate, f"before {run}", lambda _: None)
        cpu_without = cpu_seconds() - began
        for client in clients:  # one at a time: each lands on whichever worker accepts it
            await client.start(query)
        tasks = [asyncio.create_task(client.run()) for client in clients]
        # A subscription without `after` starts "now", which the protocol does not acknowledge:
        # write probes until every subscriber has received one, then measure.
        for number, probe in enumerate(probes):
            await writer.patch(probe, f"probe {run} {number}")
            seen = lambda probe=probe: all(  # noqa: E731
                (i, probe) in deliveries.received for i in range(subscribers)
            )
            if await _wait_for(seen, 3):
                break
        else:
            raise RuntimeError("the subscribers did not all receive a probe write")
        held = connections()
        began = cpu_seconds()
        client_began, wall_began = time.process_time(), time.perf_counter()

        def answered(user_id: str) -> None:
            deliveries.answered(user_id, time.perf_counter())

        await writer.steady(measured, rate, f"measured {run}", answered)
        await _wait_for(lambda: deliveries.complete, DRAIN_SECONDS)
        cpu_with = cpu_seconds() - began
        client_share = (time.process_time() - client_began) / (time.perf_counter() - wall_began)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
        await writer.connection.close()
    errors = [error for client in clients for error in client.errors]
    return LiveResult(
        subscribers=subscribers,
        writes=len(deliveries.committed),
        expected=deliveries.expected,
        delivered=deliveries.delivered,
        duplicates=deliveries.duplicates,
        write_errors=writer.errors + len(errors),
        first_error=writer.first_error or (errors[0] if errors else ""),
        latencies=deliveries.latencies(),
        cpu_with_subscribers=cpu_with,
        cpu_without=cpu_without,
        connections=held,
        client_cpu_share=client_share,
    )


def run(
    host: str,
    port: int,
    scim_token: str,
    graphql_token: str,
    user_ids: Sequence[str],
    **options: object,
) -> LiveResult:
    return asyncio.run(measure(host, port, scim_token, graphql_token, user_ids, **options))  # type: ignore[arg-type]


def describe(result: LiveResult) -> str:
    spread = "/".join(str(count) for count in sorted(result.connections.values(), reverse=True))
    note = (
        f"{result.subscribers} subscribers, {result.writes} writes; delivered "
        f"{result.delivered:,} of {result.expected:,} within {DRAIN_SECONDS:g} s of the last "
        f"write (missing {result.missing}, duplicates {result.duplicates})"
    )
    if spread:
        note += f"; TCP connections per server process {spread} (the writer's included)"
    note += f"; bench client CPU {100 * result.client_cpu_share:.0f}% of a core"
    if result.write_errors:
        note += f"; {result.write_errors} errors, first: {result.first_error}"
    return note
