"""A SIGKILL of the server in the middle of an Entra-style sync loses nothing it answered.

The real ``blink-directory serve`` process provisions a few hundred users and their groups
the way Entra does (match by userName, create, link the manager, add the user to a group with
a one-member PATCH), from several connections at once. Halfway through it is killed with
SIGKILL, restarted on the same database, and the sync runs again from the start, as Entra's
next cycle would. Then:

* every user and group answered 201/200 before the kill is stored exactly as answered;
* nothing is half-written: every stored user is complete (as sent), every stored membership
  one that was asked for;
* no answer after the restart is a 5xx, and the sync finishes with the whole organisation.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.app.test_serve_operations import free_port, wait_for
from tests.conftest import TenantTokens
from tests.scim.support import CORE, ENTERPRISE, PATCH_OP

USERS = 160
GROUPS = 6
CONNECTIONS = 4
KILL_AFTER = USERS // 2  # users created before the SIGKILL


def document(number: int) -> dict[str, Any]:
    """What Entra sends to create user ``number`` (its manager is linked afterwards)."""
    return {
        "schemas": [CORE, ENTERPRISE],
        "externalId": f"ext-{number}",
        "userName": f"user{number}@contoso.com",
        "active": True,
        "displayName": f"User {number}",
        "title": f"Title {number % 7}",
        "name": {"givenName": f"Given{number}", "familyName": f"Family{number}"},
        "emails": [{"primary": True, "type": "work", "value": f"user{number}@contoso.com"}],
        ENTERPRISE: {"department": f"Department {number % 5}"},
    }


def manager_of(number: int) -> int | None:
    return None if number == 0 else (number - 1) // 3


def group_of(number: int) -> int:
    return number % GROUPS


def stored_fields(resource: dict[str, Any]) -> dict[str, Any]:
    """The parts of a stored user a create decides (the manager is a later PATCH)."""
    return {
        "externalId": resource.get("externalId"),
        "userName": resource.get("userName"),
        "active": resource.get("active"),
        "displayName": resource.get("displayName"),
        "title": resource.get("title"),
        "name": resource.get("name"),
        "emails": resource.get("emails"),
        "department": resource.get(ENTERPRISE, {}).get("department"),
    }


def without_volatile(resource: dict[str, Any]) -> dict[str, Any]:
    """A user as answered, without ``groups`` (later group PATCHes change it legitimately)."""
    return {key: value for key, value in resource.items() if key != "groups"}


def without_manager(resource: dict[str, Any]) -> dict[str, Any]:
    """A user without what a manager PATCH changes: the manager and the meta it moves."""
    kept = {k: v for k, v in without_volatile(resource).items() if k not in ("meta", ENTERPRISE)}
    enterprise = {k: v for k, v in resource.get(ENTERPRISE, {}).items() if k != "manager"}
    return {**kept, ENTERPRISE: enterprise}


class ServerGone(Exception):
    pass


@dataclass
class Sync:
    base: str
    token: str
    #: the latest body answered 201/200 for each user, by user number
    answered_users: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: (group number, user id) memberships answered 200
    answered_members: set[tuple[int, str]] = field(default_factory=set)
    #: the manager last sent in a PATCH for each user, answered or not: a PATCH in flight
    #: when the server was killed may have committed without its answer reaching us
    sent_managers: dict[int, str] = field(default_factory=dict)
    group_ids: dict[int, str] = field(default_factory=dict)
    user_ids: dict[int, str] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.base}/scim",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )

    def call(self, client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as error:
            raise ServerGone from error
        with self.lock:
            self.statuses.append(response.status_code)
        return response

    def ensure_groups(self) -> None:
        with self.client() as client:
            for number in range(GROUPS):
                name = f"Team {number}"
                found = self.call(
                    client, "GET", "/Groups", params={"filter": f'displayName eq "{name}"'}
                ).json()
                if found["totalResults"]:
                    self.group_ids[number] = found["Resources"][0]["id"]
                    continue
                created = self.call(client, "POST", "/Groups", json={"displayName": name})
                assert created.status_code == 201, created.text
                self.group_ids[number] = created.json()["id"]

    def provision(self, client: httpx.Client, number: int) -> None:
        sent = document(number)
        found = self.call(
            client, "GET", "/Users", params={"filter": f'userName eq "{sent["userName"]}"'}
        )
        assert found.status_code == 200, found.text
        if found.json()["totalResults"]:
            current = found.json()["Resources"][0]
        else:
            created = self.call(client, "POST", "/Users", json=sent)
            assert created.status_code == 201, created.text
            current = created.json()
            with self.lock:
                self.answered_users[number] = current
        user_id = current["id"]
        with self.lock:
            self.user_ids[number] = user_id
        boss = manager_of(number)
        boss_id = self.wait_for_user(boss) if boss is not None else None
        linked = current.get(ENTERPRISE, {}).get("manager", {}).get("value")
        if boss_id is not None and linked != boss_id:
            operation = {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": boss_id}
            with self.lock:
                self.sent_managers[number] = boss_id
            patched = self.call(
                client,
                "PATCH",
                f"/Users/{user_id}",
                json={"schemas": [PATCH_OP], "Operations": [operation]},
            )
            assert patched.status_code == 200, patched.text
            with self.lock:
                self.answered_users[number] = patched.json()
        group = group_of(number)
        member = {"op": "Add", "path": "members", "value": [{"value": user_id}]}
        added = self.call(
            client,
            "PATCH",
            f"/Groups/{self.group_ids[group]}?excludedAttributes=members",
            json={"schemas": [PATCH_OP], "Operations": [member]},
        )
        assert added.status_code == 200, added.text
        with self.lock:
            self.answered_members.add((group, user_id))

    def wait_for_user(self, number: int) -> str | None:
        """The id of user ``number``, once another connection has matched or created it
        (users go out breadth-first, so a manager is at most a few requests ahead)."""
        deadline = time.monotonic() + 30
        while number not in self.user_ids:
            if self.stop.is_set() or time.monotonic() > deadline:
                return None
            time.sleep(0.002)
        return self.user_ids[number]

    def run(self, numbers: list[int]) -> None:
        """Provision ``numbers`` over ``CONNECTIONS`` connections; a worker stops quietly when
        the server goes away (the kill)."""
        queue = iter(numbers)
        queue_lock = threading.Lock()

        def worker() -> None:
            with self.client() as client:
                while not self.stop.is_set():
                    with queue_lock:
                        number = next(queue, None)
                    if number is None:
                        return
                    try:
                        self.provision(client, number)
                    except ServerGone:
                        return

        with ThreadPoolExecutor(CONNECTIONS) as pool:
            for future in [pool.submit(worker) for _ in range(CONNECTIONS)]:
                future.result()


@contextmanager
def serve(database_url: str, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    environment = {
        **os.environ,
        "BLINK_DATABASE_URL": database_url,
        "BLINK_PORT": str(port),
        "BLINK_REQUEST_LOG": "false",
        "BLINK_LOG_LEVEL": "warning",
        # one public URL for both runs: locations and $refs do not depend on the port
        "BLINK_BASE_URL": "https://directory.example.com",
    }
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("blink-directory")), "serve", "--no-migrate"],
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", process)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def test_a_sigkill_mid_sync_loses_nothing_answered(
    database_url: str, tenant: TenantTokens, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    numbers = list(range(USERS))  # breadth-first: a manager comes before their reports

    with serve(database_url, log) as (base, process):
        before = Sync(base, tenant.scim)
        before.ensure_groups()
        runner = threading.Thread(target=before.run, args=(numbers,))
        runner.start()
        while len(before.answered_users) < KILL_AFTER and runner.is_alive():
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)  # mid-flight: other connections are sending
        process.wait(timeout=30)
        before.stop.set()
        runner.join(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert KILL_AFTER <= len(before.answered_users) < USERS  # killed in the middle
    assert all(status < 500 for status in before.statuses)

    with serve(database_url, log) as (base, _):
        after = Sync(base, tenant.scim)
        with after.client() as client:
            # 1. everything answered is stored exactly as answered
            for number, answered in before.answered_users.items():
                stored = client.get(f"/Users/{answered['id']}")
                assert stored.status_code == 200, stored.text
                if without_volatile(stored.json()) != without_volatile(answered):
                    # Only a manager PATCH sent but never answered may have changed it since.
                    manager = stored.json().get(ENTERPRISE, {}).get("manager", {})
                    assert manager.get("value") == before.sent_managers.get(number), stored.text
                    assert without_manager(stored.json()) == without_manager(answered)
            for group, user_id in before.answered_members:
                group_id = before.group_ids[group]
                check = client.get(
                    "/Groups",
                    params={"filter": f'id eq "{group_id}" and members[value eq "{user_id}"]'},
                )
                assert check.json()["totalResults"] == 1
            # 2. nothing half-written
            listed = client.get("/Users", params={"count": 1000}).json()["Resources"]
            by_name = {document(n)["userName"]: n for n in numbers}
            for user in listed:
                sent = document(by_name[user["userName"]])
                assert stored_fields(user) == stored_fields({**sent, "id": user["id"]})
            user_numbers = {user["id"]: by_name[user["userName"]] for user in listed}
            groups = client.get("/Groups", params={"count": 100}).json()["Resources"]
            assert sorted(group["displayName"] for group in groups) == [
                f"Team {n}" for n in range(GROUPS)
            ]
            for group in groups:
                number = int(group["displayName"].removeprefix("Team "))
                for member in group.get("members", []):
                    assert group_of(user_numbers[member["value"]]) == number
        # 3. the next cycle finishes, without a 5xx
        after.ensure_groups()
        after.run(numbers)
        assert after.statuses
        assert all(status < 500 for status in after.statuses)
        with after.client() as client:
            listed = client.get("/Users", params={"count": 1000}).json()["Resources"]
            assert len(listed) == USERS
            ids = {by_name[user["userName"]]: user["id"] for user in listed}
            for user in listed:
                number = by_name[user["userName"]]
                assert stored_fields(user) == stored_fields({**document(number), "id": user["id"]})
                boss = manager_of(number)
                linked = user.get(ENTERPRISE, {}).get("manager", {}).get("value")
                assert linked == (ids[boss] if boss is not None else None)
            for number, group_id in after.group_ids.items():
                group = client.get(f"/Groups/{group_id}", params={"attributes": "members"})
                expected = sorted(ids[n] for n in numbers if group_of(n) == number)
                assert sorted(m["value"] for m in group.json()["members"]) == expected
