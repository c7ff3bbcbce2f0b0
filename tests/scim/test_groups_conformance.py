"""scim2-tester against a live server: the Group resource type, then Users and Groups."""

import os
import subprocess
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from app.settings import Settings
from tests.conftest import TenantTokens
from tests.live_server import live_server


def _run(settings: Settings, tenant: TenantTokens, resource_types: list[str]) -> list[str]:
    with live_server(settings) as url:
        http = httpx2.Client(base_url=f"{url}/scim/v2", headers=tenant.scim_headers())
        with http:
            results = check_server(SyncSCIMClient(http), resource_types=resource_types)
    return [f"{r.status.name} {r.title}: {r.reason}" for r in results]


def test_scim2_tester_group_checks_all_pass(settings: Settings, tenant: TenantTokens) -> None:
    lines = _run(settings, tenant, ["Group"])
    failures = [line for line in lines if not line.startswith(Status.SUCCESS.name)]
    group_checks = [line for line in lines if "Group" in line]
    print(f"scim2-tester Group: {len(lines) - len(failures)}/{len(lines)} checks passed")
    assert failures == []
    assert len(group_checks) >= 5


def _scim2_cli() -> str:
    return os.path.join(os.path.dirname(sys.executable), "scim2")


def test_scim2_cli_over_users_and_groups_exits_0(settings: Settings, tenant: TenantTokens) -> None:
    with live_server(settings) as url:
        completed = subprocess.run(
            [
                _scim2_cli(),
                "--url",
                f"{url}/scim/v2",
                "--header",
                f"Authorization: Bearer {tenant.scim}",
                "test",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    statuses = [line.split(" ", 1)[0] for line in completed.stdout.splitlines()]
    passed = statuses.count("SUCCESS")
    failed = [
        line
        for line in completed.stdout.splitlines()
        if line.startswith(("ERROR", "SKIPPED", "CRITICAL", "DEVIATION"))
    ]
    print(f"scim2 test (Users and Groups): {passed} checks passed, {len(failed)} not")
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert failed == []
    assert passed > 44
