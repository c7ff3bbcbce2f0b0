"""Many one-member operations in one PATCH cost what one operation with the same members costs:
consecutive adds (or removes) become one batch of row writes (``scim.groups_patch``)."""

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from db.database import Database
from scim.groups_patch import plan_group_patch
from scim.patch_request import parse_patch_request
from tests.conftest import TenantTokens
from tests.directory_rows import count_statements, is_background
from tests.scim.groups_support import make_users, member_ids, members, patch

MANY = 10_000


@pytest.fixture
def scim(database_url: str, tenant: TenantTokens) -> Iterator[TestClient]:
    """Tokens stay verified for the whole test: no token look-up joins the counts."""
    settings = Settings(
        database_url=database_url, token_cache_seconds=3600, request_log=False, db_analyze_seconds=0
    )
    with TestClient(create_app(settings), headers=tenant.scim_headers()) as client:
        yield client


def _count(scim: TestClient, request: Any) -> tuple[int, Any]:
    app_database: Database = scim.app.state.database  # type: ignore[attr-defined]
    with count_statements(*app_database.engines) as log:
        response = request()
    # The activity log's numbering passes run on their own, shortly after any write, so they
    # may fall in either window: they are not the request's cost.
    return len([s for s in log.statements if not is_background(s)]), response


def test_ten_thousand_one_member_operations_cost_one_operation(
    scim: TestClient, database: Database, tenant: TenantTokens
) -> None:
    user_ids = make_users(database, tenant.slug, MANY)
    one_by_one = scim.post("/scim/Groups", json={"displayName": "One by one"}).json()
    at_once = scim.post("/scim/Groups", json={"displayName": "At once"}).json()

    def one_operation_each(op: str) -> dict[str, Any]:
        return patch(*({"op": op, "path": "members", "value": members(u)} for u in user_ids))

    def one_operation(op: str) -> dict[str, Any]:
        return patch({"op": op, "path": "members", "value": members(*user_ids)})

    url = "/scim/Groups/{}?excludedAttributes=members"
    for op in ("add", "remove"):
        split_body, whole_body = one_operation_each(op), one_operation(op)
        split, split_response = _count(
            scim, partial(scim.patch, url.format(one_by_one["id"]), json=split_body)
        )
        whole, whole_response = _count(
            scim, partial(scim.patch, url.format(at_once["id"]), json=whole_body)
        )
        assert split_response.status_code == 200, split_response.text
        assert whole_response.status_code == 200, whole_response.text
        assert split == whole
        expected = sorted(user_ids) if op == "add" else []
        for group in (one_by_one, at_once):
            read = scim.get(f"/scim/Groups/{group['id']}", params={"attributes": "members"})
            assert member_ids(read.json()) == expected


def test_only_neighbouring_operations_merge_so_order_is_kept() -> None:
    plan = plan_group_patch(
        "g",
        parse_patch_request(
            patch(
                {"op": "add", "path": "members", "value": members("a")},
                {"op": "add", "path": "members", "value": members("b")},
                {"op": "remove", "path": "members", "value": members("a")},
                {"op": "remove", "path": 'members[value eq "b"]'},
                {"op": "add", "path": "members", "value": members("a")},
            )
        ),
    )
    assert [(write.kind, write.user_ids) for write in plan.member_writes] == [
        ("add", ["a", "b"]),
        ("remove", ["a", "b"]),
        ("add", ["a"]),
    ]


def test_an_add_then_remove_in_one_patch_ends_without_the_member(
    scim: TestClient, database: Database, tenant: TenantTokens
) -> None:
    first, second = make_users(database, tenant.slug, 2)
    group = scim.post("/scim/Groups", json={"displayName": "Order"}).json()
    response = scim.patch(
        f"/scim/Groups/{group['id']}",
        json=patch(
            {"op": "add", "path": "members", "value": members(first)},
            {"op": "add", "path": "members", "value": members(second)},
            {"op": "remove", "path": "members", "value": members(first)},
        ),
    )
    assert member_ids(response.json()) == [second]
