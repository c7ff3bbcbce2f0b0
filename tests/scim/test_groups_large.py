"""A 100,000-member group through the API: one-member changes cost what they cost when empty."""

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from db.database import Database
from tests.conftest import TenantTokens
from tests.directory_rows import count_statements, is_background
from tests.scim.groups_support import make_users, members, patch

LARGE = 100_000
BATCH = 5_000  # ~250 KB per PATCH body, well under the 1 MiB limit


@pytest.fixture
def scim(database_url: str, tenant: TenantTokens) -> Iterator[TestClient]:
    """A client whose token stays verified for the whole test: no look-up joins the counts."""
    settings = Settings(database_url=database_url, token_cache_seconds=3600, db_analyze_seconds=0)
    with TestClient(create_app(settings), headers=tenant.scim_headers()) as client:
        yield client


@pytest.mark.slow
def test_large_group_changes_cost_what_they_cost_on_an_empty_group(
    scim: TestClient, database: Database, tenant: TenantTokens
) -> None:
    user_ids = make_users(database, tenant.slug, LARGE + 1, display_names=False)
    newcomer = user_ids[-1]
    large = scim.post("/scim/Groups", json={"displayName": "Everyone"}).json()
    empty = scim.post("/scim/Groups", json={"displayName": "Nobody"}).json()
    for start in range(0, LARGE, BATCH):
        response = scim.patch(
            f"/scim/Groups/{large['id']}?excludedAttributes=members",
            json=patch(
                {"op": "Add", "path": "members", "value": members(*user_ids[start : start + BATCH])}
            ),
        )
        assert response.status_code == 200, response.text
        assert "members" not in response.json()

    app_database: Database = scim.app.state.database  # type: ignore[attr-defined]
    engines = app_database.engines

    def measured(request: Any) -> tuple[int, Any]:
        with count_statements(*engines) as log:
            response = request()
        assert not any("api_token" in statement for statement in log.statements)
        # The activity log's numbering passes run on their own, shortly after any write, so
        # they may fall in any request's window: they are not the request's cost.
        return len([s for s in log.statements if not is_background(s)]), response

    plain_members: dict[str, Any] = {}

    def costs(group_id: str) -> list[int]:
        """Add the newcomer (as Entra does, and again without members in the response), check,
        remove them (Entra's legacy form), check, read."""
        url = f"/scim/Groups/{group_id}?excludedAttributes=members"
        add = patch({"op": "Add", "path": "members", "value": members(newcomer)})
        remove = patch({"op": "Remove", "path": "members", "value": members(newcomer)})
        check = (
            f'/scim/Groups?filter=id eq "{group_id}" and members[value eq "{newcomer}"]'
            "&excludedAttributes=members"
        )
        plain_cost, plain = measured(lambda: scim.patch(f"/scim/Groups/{group_id}", json=add))
        assert plain.status_code == 200
        plain_members[group_id] = plain.json().get("members")
        added_cost, added = measured(lambda: scim.patch(url, json=add))
        hit_cost, hit = measured(lambda: scim.get(check))
        removed_cost, removed = measured(lambda: scim.patch(url, json=remove))
        miss_cost, miss = measured(lambda: scim.get(check))
        read_cost, read = measured(lambda: scim.get(url))
        assert (added.status_code, removed.status_code, read.status_code) == (200, 200, 200)
        assert [r["id"] for r in hit.json()["Resources"]] == [group_id]
        assert miss.json()["totalResults"] == 0
        return [plain_cost, added_cost, hit_cost, removed_cost, miss_cost, read_cost]

    large_costs = costs(large["id"])
    empty_costs = costs(empty["id"])
    assert large_costs == empty_costs
    assert all(cost > 0 for cost in large_costs)
    # A PATCH answer shows members only up to max_results (1,000) of them.
    assert plain_members[large["id"]] is None
    assert [m["value"] for m in plain_members[empty["id"]]] == [newcomer]
    hit = scim.get(
        f'/scim/Groups?filter=id eq "{large["id"]}" and members[value eq "{user_ids[7]}"]'
        "&excludedAttributes=members"
    )
    assert hit.json()["totalResults"] == 1

    everyone = scim.get(f'/scim/Groups?filter=id eq "{large["id"]}"&attributes=members.value')
    assert len(everyone.json()["Resources"][0]["members"]) == LARGE
