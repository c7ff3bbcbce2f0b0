"""Real-browser tests: Debian's Chromium driven by Playwright, against a real uvicorn server.

The browser is /usr/bin/chromium from Debian's ``chromium`` package (``make install`` installs
it when missing); Playwright never downloads one. Every request the browser makes is routed
through a handler that lets only 127.0.0.1 through and records anything else, and each test
asserts that nothing left. Screenshots go to ``artifacts/browser/`` (git-ignored); the tests
assert on the pages' content, never on pixels.

These tests exercise pages, not the store, so they run on SQLite only; the demo command that
fills their tenant is tested on both backends in tests/app/test_demo.py.
"""

import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright
from sqlalchemy import Connection

from app.demo.command import run_demo
from app.demo.org import DemoOrg, DemoPerson, generate_org
from app.settings import Settings
from db.database import Database
from db.tenants import create_tenant
from db.tokens import TokenScope, issue_token
from tests.live_server import live_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "browser"
DEMO_SIZE = 120
DEMO_SEED = 11
LOOP = ("ann.loop@loops.example", "bob.loop@loops.example", "cy.loop@loops.example")
OUTSIDER = "dee.below@loops.example"


@dataclass
class Traffic:
    """What one browser context asked for."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record(self, request: Request) -> None:
        self.requests.append((request.method, request.url, request.headers))

    def console(self, kind: str, text: str) -> None:
        # A refused token is answered 401, which the browser logs; anything else is an error
        # of the page (a script error, a Content-Security-Policy violation, ...).
        if kind == "error" and "401 (Unauthorized)" not in text:
            self.errors.append(text)

    def graphql_posts(self) -> list[dict[str, str]]:
        return [
            headers
            for method, url, headers in self.requests
            if method == "POST" and urlsplit(url).path == "/graphql"
        ]

    def assert_stayed_local(self) -> None:
        assert self.offsite == []
        assert self.requests, "the page made no request at all"
        for _, url, _ in self.requests:
            parts = urlsplit(url)
            assert parts.scheme in ("data", "blob") or parts.hostname == "127.0.0.1", url
        assert self.errors == []


@dataclass
class DemoSite:
    base_url: str
    graphql_token: str
    org: DemoOrg
    ids: dict[str, str]  # externalId -> SCIM id
    loops_token: str
    loop_ids: dict[str, str]  # userName -> SCIM id
    scim_token: str  # tenant ``default``'s

    def person(self, external_id: str) -> DemoPerson:
        return next(p for p in self.org.people if p.external_id == external_id)

    def id_of(self, person: DemoPerson) -> str:
        return self.ids[person.external_id]

    def chain(self, person: DemoPerson) -> list[DemoPerson]:
        """The managers above ``person``, nearest first."""
        found: list[DemoPerson] = []
        while person.manager is not None:
            person = self.person(person.manager)
            found.append(person)
        return found

    def reports(self, person: DemoPerson) -> list[DemoPerson]:
        return [p for p in self.org.people if p.manager == person.external_id]


# Module scope: Playwright's sync API runs an event loop on the test thread while it is
# started, and later tests (anyio.run, asyncio.run) need that thread free again.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = "Debian's chromium is missing: `make install` installs it (as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # CI runs as root and `make test` installs it: never skip there
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def _loop_tenant(base_url: str, settings: Settings) -> tuple[str, dict[str, str]]:
    """Tenant ``loops``: ann -> bob -> cy -> ann, and dee under ann, written over SCIM."""
    database = Database(settings.database_url)

    def tokens(connection: Connection) -> tuple[str, str]:
        create_tenant(connection, "loops", "Loops Inc")
        scim = issue_token(connection, "loops", TokenScope.SCIM).secret
        return scim, issue_token(connection, "loops", TokenScope.GRAPHQL).secret

    scim, graphql = database.write_sync(tokens)
    database.dispose()
    headers = {"Authorization": f"Bearer {scim}"}
    ids: dict[str, str] = {}
    with httpx.Client(base_url=f"{base_url}/scim/v2", headers=headers) as client:
        for user_name in (*LOOP, OUTSIDER):
            given = user_name.split(".")[0].title()
            body: dict[str, Any] = {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name,
                "displayName": f"{given} Loop",
            }
            response = client.post("/Users", json=body)
            assert response.status_code == 201, response.text
            ids[user_name] = response.json()["id"]
        links = [(LOOP[0], LOOP[1]), (LOOP[1], LOOP[2]), (LOOP[2], LOOP[0]), (OUTSIDER, LOOP[0])]
        for user, manager in links:
            operation = {"op": "add", "path": "manager", "value": ids[manager]}
            response = client.patch(
                f"/Users/{ids[user]}",
                json={
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [operation],
                },
            )
            assert response.status_code == 200, response.text
    return graphql, ids


@pytest.fixture(scope="module")
def demo_site(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[DemoSite]:
    """A server holding ``blink-directory demo``'s tenant ``default`` and a tenant with a loop."""
    path = tmp_path_factory.mktemp("browser") / "directory.db"
    shutil.copyfile(sqlite_template, path)
    settings = Settings(database_url=f"sqlite:///{path}")
    org = generate_org(DEMO_SIZE, DEMO_SEED)
    # Playwright's sync API keeps an event loop on this thread: provision on another one.
    with ThreadPoolExecutor(1) as pool:
        outcome = pool.submit(run_demo, settings, "default", org).result()
    assert outcome.first_run is not None
    # WebSockets on: GraphiQL runs subscriptions over one.
    with live_server(settings, ws="auto") as base_url:
        loops_token, loop_ids = _loop_tenant(base_url, settings)
        yield DemoSite(
            base_url,
            outcome.first_run.graphql_secret,
            org,
            outcome.report.user_ids,
            loops_token,
            loop_ids,
            outcome.first_run.scim_secret,
        )


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def page(browser: Browser, traffic: Traffic) -> Iterator[Page]:
    """A new tab (in a fresh browser context) at 1280x720; only 127.0.0.1 is reachable."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})

    def only_local(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            traffic.offsite.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    context.on("request", traffic.record)
    tab = context.new_page()
    tab.on("pageerror", lambda error: traffic.errors.append(str(error)))
    tab.on("console", lambda message: traffic.console(message.type, message.text))
    yield tab
    context.close()


def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
