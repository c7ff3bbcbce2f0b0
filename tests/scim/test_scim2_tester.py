"""scim2-tester's conformance checks against the app, for the User resource type.

scim2-tester talks HTTP through a client: here Starlette's TestClient (an httpx client over
the ASGI app) rooted at /scim/v2. It is restricted to User: Groups are another issue.
"""

from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server
from scim2_tester.utils import Status
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.conftest import TenantTokens

PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


def test_every_scim2_tester_check_passes_for_users(app: Starlette, tenant: TenantTokens) -> None:
    with TestClient(
        app, base_url="http://testserver/scim/v2/", headers=tenant.scim_headers()
    ) as http:
        results = check_server(SyncSCIMClient(http), resource_types=["User"])  # type: ignore[arg-type]
    failures = [
        f"{result.status.name} {result.title}: {result.reason}"
        for result in results
        if result.status not in PASSING
    ]
    assert not failures, f"{len(results) - len(failures)}/{len(results)} passed:\n" + "\n".join(
        failures
    )
    assert len(results) >= 100
    assert {result.resource_type for result in results if result.resource_type} == {"User"}
