"""The landing page, the org chart page and the favicon: served by the app, nothing external."""

import re
from html.parser import HTMLParser
from importlib.resources import files

import pytest
from starlette.testclient import TestClient


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.links: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")
        elif tag in ("link", "script", "img") and (found.get("href") or found.get("src")):
            self.assets.append(found.get("href") or found.get("src") or "")
        elif tag == "script":
            self.inline_scripts += 1


def parsed(client: TestClient, path: str) -> tuple[str, Page]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = Page()
    page.feed(response.text)
    return response.text, page


def test_the_landing_page_points_at_graphiql_the_org_chart_and_scim(client: TestClient) -> None:
    html, page = parsed(client, "/")
    assert {"/graphql", "/orgchart"} <= set(page.links)
    assert "http://testserver/scim" in html
    assert "blink-directory demo" in html


@pytest.mark.parametrize("path", ["/", "/orgchart"])
def test_pages_load_only_their_own_assets_and_no_inline_script(
    client: TestClient, path: str
) -> None:
    html, page = parsed(client, path)
    assert page.assets
    assert page.inline_scripts == 0
    own = html.replace("http://testserver/scim", "")  # the landing page shows its SCIM URL
    assert not re.search(r"(https?:)?//[a-z0-9]", own, re.IGNORECASE)
    for asset in page.assets:
        assert asset.startswith("/"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset


def test_the_org_chart_assets_reach_nothing_outside() -> None:
    static = files("app.web") / "static"
    for name in ("orgchart.js", "orgchart.css", "site.css"):
        text = (static / name).read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9]", text, re.IGNORECASE), name
        assert "@import" not in text


def test_the_org_chart_script_asks_graphql_only() -> None:
    script = (files("app.web") / "static" / "orgchart.js").read_text(encoding="utf-8")
    assert re.findall(r'fetch\("([^"]+)"', script) == ["/graphql"]
    assert "sessionStorage" in script
    assert "localStorage" not in script


@pytest.mark.parametrize("path", ["/", "/orgchart"])
def test_pages_forbid_inline_and_foreign_scripts(client: TestClient, path: str) -> None:
    policy = client.get(path).headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "connect-src 'self';" in policy
    assert "unsafe-inline" not in policy


def test_the_favicon_is_an_icon(client: TestClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # the ICO signature


def test_pages_need_no_token(client: TestClient) -> None:
    for path in ("/", "/orgchart", "/favicon.ico", "/static/orgchart.js"):
        assert client.get(path).status_code == 200, path


def test_an_unknown_page_is_still_404(client: TestClient) -> None:
    assert client.get("/nope").status_code == 404
