"""The directory's ``totalCount`` is kept per tenant data version
(``app.graphql_api.search_count_cache``): a search asked again at an unchanged version runs
no count, every kind of write makes the next one count again, another tenant's writes do
not, and the counts are the store's own."""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.graphql_api.search_count_cache import SearchCountCache
from app.main import create_app
from app.settings import Settings
from db.database import Database
from db.directory_lists import UserFilterSpec, directory
from db.tenants import create_tenant, get_tenant
from tests.conftest import TenantTokens
from tests.directory_rows import count_statements, insert_users, is_background

ROOT = Path(__file__).resolve().parents[2]
#: The frontend's people search (issue 17): a page of active users with ``totalCount``.
SEARCH_PEOPLE = (ROOT / "graphql" / "operations" / "search.graphql").read_text()
USERS = """query($filter: UserFilter) { users(first: 5, filter: $filter) { totalCount } }"""
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

#: (userName, displayName, active) of each tenant's people at the start.
PEOPLE = [
    ("ann@example.com", "Ann Lee", True),
    ("anna@example.com", "Anna Berg", True),
    ("joanne@example.com", "Joanne Park", False),
    ("hans@example.com", "Hans Ek", True),
    ("bob@example.com", "Bob Stone", True),
    ("dana@example.com", "Dana Scully", True),
    ("nora@example.com", "Nora Quist", True),
    ("zed@example.com", None, True),
]


class Directory:
    """One tenant over SCIM (the only writer) and GraphQL, with a model of its people."""

    def __init__(self, client: TestClient, tokens: TenantTokens) -> None:
        self.client = client
        self.tokens = tokens
        self.people: dict[str, tuple[str, str | None, bool]] = {}
        for user_name, display_name, active in PEOPLE:
            self.create(user_name, display_name, active)

    def create(self, user_name: str, display_name: str | None, active: bool = True) -> str:
        body: dict[str, Any] = {
            "schemas": [CORE_USER],
            "userName": user_name,
            "active": active,
            "emails": [{"value": user_name, "primary": True, "type": "work"}],
        }
        if display_name is not None:
            body["displayName"] = display_name
        response = self.client.post("/scim/v2/Users", json=body, headers=self.tokens.scim_headers())
        assert response.status_code == 201, response.text
        user_id: str = response.json()["id"]
        self.people[user_id] = (user_name, display_name, active)
        return user_id

    def replace(self, user_id: str, path: str, value: Any) -> None:
        body = {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": path, "value": value}],
        }
        response = self.client.patch(
            f"/scim/v2/Users/{user_id}", json=body, headers=self.tokens.scim_headers()
        )
        assert response.status_code == 200, response.text
        user_name, display_name, active = self.people[user_id]
        if path == "displayName":
            display_name = value
        elif path == "userName":
            user_name = value
        else:
            assert path == "active"
            active = value
        self.people[user_id] = (user_name, display_name, active)

    def delete(self, user_id: str) -> None:
        response = self.client.delete(
            f"/scim/v2/Users/{user_id}", headers=self.tokens.scim_headers()
        )
        assert response.status_code == 204, response.text
        del self.people[user_id]

    def expected(self, term: str) -> int:
        """The model's count of active people whose name, userName or email has ``term``."""
        needle = term.lower()
        return sum(
            active and any(needle in (text or "").lower() for text in (user_name, display_name))
            for user_name, display_name, active in self.people.values()
        )

    def search(self, term: str, after: str | None = None) -> tuple[int, str | None, list[str]]:
        """The people search's totalCount and end cursor, and the count statements it ran."""
        variables = {"search": term, "first": 2, "after": after}
        with count_statements(*self.client.app.state.database.engines) as log:  # type: ignore[attr-defined]
            response = self.client.post(
                "/graphql",
                json={"query": SEARCH_PEOPLE, "variables": variables},
                headers=self.tokens.graphql_headers(),
            )
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body
        users = body["data"]["users"]
        counts = [s for s in log.statements if _is_count(s) and not is_background(s)]
        return users["totalCount"], users["pageInfo"]["endCursor"], counts


def _is_count(statement: str) -> bool:
    return "count(*)" in statement.lower()


@pytest.fixture
def tenants(
    client: TestClient, make_tenant: Callable[[str], TenantTokens]
) -> tuple[Directory, Directory]:
    return Directory(client, make_tenant("acme")), Directory(client, make_tenant("globex"))


TERMS = ["a", "an", "ann", "AN", "e@e", "nobody"]


def test_a_search_asked_again_at_an_unchanged_version_runs_no_count(
    tenants: tuple[Directory, Directory],
) -> None:
    acme, _ = tenants
    for term in ("a", "an", "ann", "e@e", "nobody"):
        total, _, counts = acme.search(term)
        assert total == acme.expected(term), term
        assert len(counts) == 1, (term, counts)
    for term in TERMS:  # "AN" is "an" to the search: the same count
        total, cursor, counts = acme.search(term)
        assert (total, counts) == (acme.expected(term), []), term
        if cursor is not None:  # the next page asks totalCount too
            total, _, counts = acme.search(term, after=cursor)
            assert (total, counts) == (acme.expected(term), []), term


def test_every_kind_of_write_makes_the_next_search_count_again(
    tenants: tuple[Directory, Directory],
) -> None:
    acme, _ = tenants
    term = "an"

    def recounted() -> None:
        total, _, counts = acme.search(term)
        assert len(counts) == 1, counts
        assert total == acme.expected(term)
        # and kept again at the new version
        assert acme.search(term)[::2] == (total, [])

    recounted()
    before = acme.expected(term)
    created = acme.create("ivan@example.com", "Ivan Petrov")  # a user created
    assert acme.expected(term) == before + 1
    recounted()
    bob = next(i for i, person in acme.people.items() if person[0] == "bob@example.com")
    acme.replace(bob, "displayName", "Bob Vance")  # a searched column updated
    assert acme.expected(term) == before + 2
    recounted()
    acme.replace(bob, "userName", "robert@example.com")  # another searched column
    recounted()
    acme.replace(created, "active", False)  # a deactivation
    assert acme.expected(term) == before + 1
    recounted()
    acme.replace(created, "active", True)  # and back
    recounted()
    acme.delete(created)  # a delete
    assert acme.expected(term) == before + 1
    recounted()
    # A write that leaves the count as it was still moves the version: counted again, the same.
    dana = next(i for i, person in acme.people.items() if person[0] == "dana@example.com")
    acme.replace(dana, "displayName", "Dana Katherine Scully")
    recounted()


def test_another_tenants_write_keeps_this_tenants_counts(
    tenants: tuple[Directory, Directory],
) -> None:
    acme, globex = tenants
    for term in ("a", "ann"):
        acme.search(term)
    globex.create("annika@example.com", "Annika Holm")
    globex.replace(next(iter(globex.people)), "active", False)
    for term in ("a", "ann"):
        total, _, counts = acme.search(term)
        assert (total, counts) == (acme.expected(term), []), term
        total, _, counts = globex.search(term)
        assert (total, len(counts)) == (globex.expected(term), 1), term


def test_each_process_keeps_its_own_counts_and_sees_the_others_writes(
    tenants: tuple[Directory, Directory], settings: Settings
) -> None:
    """Two workers on one database: a write through one moves the version the other reads."""
    acme, _ = tenants
    with TestClient(create_app(settings)) as other_client:
        other = Directory.__new__(Directory)
        other.client, other.tokens, other.people = other_client, acme.tokens, acme.people
        total, _, counts = other.search("ann")
        assert (total, len(counts)) == (acme.expected("ann"), 1)
        acme.search("ann")
        total, _, counts = other.search("ann")
        assert (total, counts) == (acme.expected("ann"), [])
        acme.create("annette@example.com", "Annette Roy")  # through the first process
        total, _, counts = other.search("ann")
        assert (total, len(counts)) == (acme.expected("ann"), 1)


FILTERS: list[dict[str, Any]] = [
    {},
    {"search": ""},
    {"search": "AnN"},
    {"search": "ann"},
    {"search": "a", "active": True},
    {"search": "a", "active": False},
    {"active": False},
    {"search": "%"},
    {"search": "_"},
]


def test_counts_are_the_stores_own_with_or_without_the_cache(
    tenants: tuple[Directory, Directory], database: Database
) -> None:
    acme, _ = tenants
    tenant_id = database.read_sync(lambda connection: get_tenant(connection, "acme").id)
    for filter_ in FILTERS:
        spec = UserFilterSpec(search=filter_.get("search"), active=filter_.get("active"))
        # As the store counts it with no cache and no normalising: the statement as it was.
        uncached = database.read_sync(directory(tenant_id, spec).count)
        for _ in range(2):  # counted, then kept
            data = acme.client.post(
                "/graphql",
                json={"query": USERS, "variables": {"filter": filter_}},
                headers=acme.tokens.graphql_headers(),
            ).json()["data"]
            assert data["users"]["totalCount"] == uncached, filter_


@pytest.fixture
def tenant_users(database: Database) -> int:
    def work(connection: Any) -> int:
        tenant = create_tenant(connection, "acme", "Acme")
        insert_users(connection, tenant.id, 30, display_names=True)
        return tenant.id

    return database.write_sync(work)


def test_kept_counts_are_bounded_and_never_older_than_asked(
    database: Database, tenant_users: int
) -> None:
    cache = SearchCountCache(database, max_entries=2)
    sets = [directory(tenant_users, UserFilterSpec(search=term)) for term in ("1", "2", "user")]

    async def run() -> None:
        first = cache.count(sets[0], 5)
        assert not isinstance(first, int)
        assert await first == 12  # user 1, 10..19 and 21
        assert cache.count(sets[0], 5) == 12  # kept: no statement
        assert cache.count(sets[0], 4) == 12  # counted at 5 or later holds for 4 too
        newer = cache.count(sets[0], 6)
        assert not isinstance(newer, int)  # the tenant wrote since: counted again
        # Two counts in flight; the one that read the older version ends last and is not kept.
        older = cache.count(sets[0], 7)
        latest = cache.count(sets[0], 8)
        assert not isinstance(older, int)
        assert not isinstance(latest, int)
        await newer
        await latest
        await older
        assert cache.count(sets[0], 8) == 12
        for users in sets[1:]:
            counted = cache.count(users, 8)
            assert not isinstance(counted, int)
            await counted
        assert len(cache) == 2  # the least recently used went
        evicted = cache.count(sets[0], 8)
        assert not isinstance(evicted, int)
        await evicted

    asyncio.run(run())
