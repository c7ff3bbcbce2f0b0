"""GraphiQL in a real browser: offline, one token for the whole page, every tab uses it."""

import json
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, WebSocket, expect

from app.demo.org import DemoPerson
from tests.app.browser.conftest import DemoSite, Traffic, screenshot

OPERATIONS = Path(__file__).resolve().parents[3] / "graphql" / "operations"
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
VARIABLES_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT = ".result-window .CodeMirror"


def set_editor(page: Page, selector: str, text: str) -> None:
    # CodeMirror 5 exposes its editor on the element (its documented API).
    page.eval_on_selector(selector, "(element, text) => element.CodeMirror.setValue(text)", text)


def editor_text(page: Page, selector: str) -> str:
    text: str = page.eval_on_selector(selector, "element => element.CodeMirror.getValue()")
    return text


def open_graphiql(page: Page, site: DemoSite) -> None:
    page.goto(f"{site.base_url}/graphql")
    expect(page.locator(".graphiql-container")).to_be_visible()


def expected_path(site: DemoSite, a: DemoPerson, b: DemoPerson) -> tuple[str, list[str]]:
    up_a, up_b = [a, *site.chain(a)], [b, *site.chain(b)]
    on_b = [p.external_id for p in up_b]
    meeting = next(p for p in up_a if p.external_id in on_b)
    down = up_b[: on_b.index(meeting.external_id)]
    path = up_a[: up_a.index(meeting) + 1] + list(reversed(down))
    return meeting.display_name, [p.display_name for p in path]


def test_nothing_is_fetched_and_no_error_shown_before_a_token(
    page: Page, demo_site: DemoSite, traffic: Traffic
) -> None:
    open_graphiql(page, demo_site)
    expect(page.locator("#token-status")).to_contain_text("No token yet")
    page.wait_for_timeout(500)  # time for a schema fetch, were one to be sent
    assert traffic.graphql_posts() == []
    assert editor_text(page, RESULT) == ""
    expect(page.locator(".graphiql-container")).not_to_contain_text("UNAUTHENTICATED")
    screenshot(page, "graphiql-no-token")
    traffic.assert_stayed_local()


def test_the_token_entered_once_serves_the_schema_and_a_new_tab(
    page: Page, demo_site: DemoSite, traffic: Traffic
) -> None:
    site = demo_site
    open_graphiql(page, site)
    with page.expect_response(lambda r: r.url.endswith("/graphql") and r.status == 200):
        page.fill("#graphql-token", site.graphql_token)
        page.click("#use-token")  # the schema is fetched with it at once
    expect(page.locator("#token-status")).to_contain_text("Token set")

    page.click("button[aria-label='Add tab']")
    expect(page.locator(".graphiql-tab")).to_have_count(2)
    a = next(p for p in reversed(site.org.people) if p.level >= 3 and p.active)
    b = next(p for p in site.org.people if p.level >= 2 and p.active and p.manager != a.manager)
    set_editor(page, QUERY_EDITOR, (OPERATIONS / "reporting_path.graphql").read_text())
    page.click("text=Variables")
    set_editor(page, VARIABLES_EDITOR, json.dumps({"from": a.user_name, "to": b.user_name}))
    page.click(".graphiql-execute-button")
    manager, path = expected_path(site, a, b)
    expect(page.locator(".result-window")).to_contain_text(f'"displayName": "{manager}"')
    result: dict[str, Any] = json.loads(editor_text(page, RESULT))
    assert result["data"]["commonManager"]["displayName"] == manager
    assert [user["displayName"] for user in result["data"]["reportingPath"]] == path
    screenshot(page, "graphiql-new-tab")

    posts = traffic.graphql_posts()
    assert len(posts) >= 2  # the schema fetch and the operation
    assert all(h["authorization"] == f"Bearer {site.graphql_token}" for h in posts)

    # The token is kept like GraphiQL's headers: a reload uses it without asking.
    before = len(posts)
    with page.expect_response(lambda r: r.url.endswith("/graphql") and r.status == 200):
        page.reload()
    expect(page.locator("#token-status")).to_contain_text("Token set")
    assert len(traffic.graphql_posts()) > before
    traffic.assert_stayed_local()


def test_forgetting_the_token_stops_the_requests(
    page: Page, demo_site: DemoSite, traffic: Traffic
) -> None:
    open_graphiql(page, demo_site)
    page.fill("#graphql-token", "<your graphql token>")
    page.click("#use-token")
    expect(page.locator("#token-status")).to_contain_text("placeholder")
    page.fill("#graphql-token", demo_site.graphql_token)
    page.click("#use-token")
    page.click("#forget-token")
    expect(page.locator("#token-status")).to_contain_text("forgotten")
    sent = len(traffic.graphql_posts())
    page.click(".graphiql-execute-button")
    expect(page.locator("#token-status")).to_contain_text("Enter your GraphQL token")
    assert len(traffic.graphql_posts()) == sent
    traffic.assert_stayed_local()


def set_title(site: DemoSite, user_id: str, title: str) -> None:
    response = httpx.patch(
        f"{site.base_url}/scim/v2/Users/{user_id}",
        headers={"Authorization": f"Bearer {site.scim_token}"},
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": title}],
        },
    )
    assert response.status_code == 200, response.text


def test_a_subscription_shows_scim_changes_as_they_happen(
    page: Page, demo_site: DemoSite, traffic: Traffic
) -> None:
    site = demo_site
    person = next(p for p in site.org.people if p.level >= 2 and p.active)
    user_id = site.id_of(person)
    open_graphiql(page, site)
    with page.expect_response(lambda r: r.url.endswith("/graphql") and r.status == 200):
        page.fill("#graphql-token", site.graphql_token)
        page.click("#use-token")
    set_editor(page, QUERY_EDITOR, (OPERATIONS / "directory_changes.graphql").read_text())
    sent: list[str] = []

    def watch(socket: WebSocket) -> None:
        socket.on("framesent", lambda payload: sent.append(str(payload)))

    page.on("websocket", watch)
    with page.expect_websocket() as opened:
        page.click(".graphiql-execute-button")
    assert opened.value.url == site.base_url.replace("http://", "ws://") + "/graphql"
    # graphql-transport-ws acknowledges no subscription: once the subscribe message is sent,
    # give the server a moment to start it (without `after` it starts "now").
    deadline = time.monotonic() + 10
    while not any('"subscribe"' in frame for frame in sent) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    page.wait_for_timeout(1000)
    set_title(site, user_id, "Chief Live Officer")
    expect(page.locator(".result-window")).to_contain_text('"newValue": "Chief Live Officer"')
    first: dict[str, Any] = json.loads(editor_text(page, RESULT))
    event = first["data"]["directoryChanges"]
    assert (event["operation"], event["resourceId"]) == ("UPDATE", user_id)
    assert event["changes"] == [
        {"attribute": "title", "oldValue": person.title, "newValue": "Chief Live Officer"}
    ]
    assert event["user"]["title"] == "Chief Live Officer"
    # A second change of the same person: the event shows the person as they are now.
    set_title(site, user_id, "Chief Later Officer")
    expect(page.locator(".result-window")).to_contain_text('"newValue": "Chief Later Officer"')
    second = json.loads(editor_text(page, RESULT))["data"]["directoryChanges"]
    assert second["seq"] > event["seq"]
    assert second["user"]["title"] == "Chief Later Officer"
    screenshot(page, "graphiql-subscription")

    init = next(json.loads(frame) for frame in sent if '"connection_init"' in frame)
    assert init["payload"] == {"Authorization": f"Bearer {site.graphql_token}"}
    subscribe = next(json.loads(frame) for frame in sent if '"subscribe"' in frame)
    assert "directoryChanges" in subscribe["payload"]["query"]
    traffic.assert_stayed_local()
