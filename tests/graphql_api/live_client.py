"""A graphql-transport-ws client over a real WebSocket (the ``websockets`` library), and SCIM
writes over real HTTP, for the live-changes tests."""

import socket
import time
import uuid
from contextlib import ExitStack
from types import TracebackType
from typing import Any

import httpx
import orjson
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"
WITH_CHANGES = """subscription Changes {
  directoryChanges { seq changes { attribute newValue } }
}"""
CHANGES = """subscription Changes($after: Int, $types: [ResourceType!], $under: ID) {
  directoryChanges(after: $after, resourceTypes: $types, under: $under) {
    seq operation outcome resourceType resourceId
  }
}"""


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/graphql"


class Subscription:
    def __init__(
        self,
        base: str,
        token: str | None,
        variables: dict[str, Any] | None = None,
        *,
        header: bool = False,
        query: str = CHANGES,
        receive_buffer: int | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if header and token else None
        self._stack = ExitStack()
        sock = None
        if receive_buffer is not None:  # a slow reader: a small TCP window, few queued frames
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.connect(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        self.socket: ClientConnection = self._stack.enter_context(
            connect(
                ws_url(base),
                subprotocols=[PROTOCOL],  # type: ignore[list-item]
                additional_headers=headers,
                sock=sock,
                max_queue=1 if receive_buffer is not None else 16,
            )
        )
        payload = {} if header or token is None else {"Authorization": f"Bearer {token}"}
        self.send({"type": "connection_init", "payload": payload})
        self.closed: ConnectionClosed | None = None
        try:
            self.ack = self.receive(10)
        except ConnectionClosed as closed:  # refused
            self.closed, self.ack = closed, {}
        if self.ack.get("type") == "connection_ack":
            self.send(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
            # graphql-transport-ws does not acknowledge a subscription: give it time to start
            # before the test writes, since one without `after` starts "now".
            time.sleep(1.0)

    def send(self, message: dict[str, Any]) -> None:
        self.socket.send(orjson.dumps(message).decode())

    def receive(self, timeout: float) -> dict[str, Any]:
        frame = self.socket.recv(timeout=timeout)
        # graphql-transport-ws messages are text frames (browsers' clients ignore binary ones).
        assert isinstance(frame, str), frame
        message = orjson.loads(frame)
        assert isinstance(message, dict)
        return message

    def events(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """The next ``count`` events (fails on an error or a timeout)."""
        found: list[dict[str, Any]] = []
        while len(found) < count:
            message = self.receive(timeout)
            if message["type"] == "ping":
                self.send({"type": "pong"})
                continue
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            found.append(message["payload"]["data"]["directoryChanges"])
        return found

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def create_user(
    client: httpx.Client,
    name: str | None = None,
    manager: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name or f"{uuid.uuid4().hex[:12]}@example.com",
        **(extra or {}),
    }
    if manager is not None:
        urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        body["schemas"].append(urn)
        body[urn] = {"manager": {"value": manager}}
    response = client.post("/scim/Users", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def set_manager(client: httpx.Client, user_id: str, manager: str | None) -> None:
    path = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
    response = client.patch(
        f"/scim/Users/{user_id}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": path, "value": manager or ""}],
        },
    )
    assert response.status_code == 200, response.text


def scim_client(base: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=base,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
        timeout=30,
    )
