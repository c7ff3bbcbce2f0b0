"""The pages run under their Content-Security-Policy in Chromium, and nothing violates it.

Every browser test already fails on a console error, CSP violations included; these tests
check that the policy is really in force on each page (so that silence means something), and
that Chromium reports a violation when one happens.
"""

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from app.security_headers import PAGE_POLICY
from tests.app.browser.conftest import DemoSite, Traffic


def violations(messages: list[ConsoleMessage]) -> list[str]:
    return [m.text for m in messages if "Content Security Policy" in m.text]


@pytest.mark.parametrize(
    ("path", "ready"), [("/", "h1"), ("/orgchart", "#sign-in"), ("/graphql", ".graphiql-container")]
)
def test_each_page_runs_under_the_policy_without_a_violation(
    page: Page, demo_site: DemoSite, traffic: Traffic, path: str, ready: str
) -> None:
    messages: list[ConsoleMessage] = []
    page.on("console", lambda message: messages.append(message))
    response = page.goto(demo_site.base_url + path)
    assert response is not None
    assert response.headers["content-security-policy"] == PAGE_POLICY
    expect(page.locator(ready).first).to_be_visible()
    assert violations(messages) == []
    traffic.assert_stayed_local()


def test_an_inline_script_is_refused_and_reported(page: Page, demo_site: DemoSite) -> None:
    messages: list[ConsoleMessage] = []
    page.on("console", lambda message: messages.append(message))
    page.goto(demo_site.base_url + "/orgchart")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.head.appendChild(script);
        }"""
    )
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.injected === true") is False
    assert violations(messages)
