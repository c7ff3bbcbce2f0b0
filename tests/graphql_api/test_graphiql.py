"""GraphiQL works offline: the page and everything it loads come from this app."""

import re
from html.parser import HTMLParser
from pathlib import Path

from starlette.testclient import TestClient

STATIC = Path(__file__).resolve().parents[2] / "app" / "graphql_api" / "static"


class References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
        if tag == "a":
            return
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)


def page(client: TestClient) -> str:
    response = client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_the_page_references_no_external_host(client: TestClient) -> None:
    html = page(client)
    parser = References()
    parser.feed(html)
    # graphiql css and js, react, react-dom, graphql-ws, the page's own script and style, the
    # favicon
    assert len(parser.urls) == 8
    for url in parser.urls:
        assert url.startswith("/graphql/static/") or url == "/favicon.ico", url
    assert not re.search(r"(https?:)?//[a-z0-9]", html, re.IGNORECASE)


def test_every_referenced_asset_is_served(client: TestClient) -> None:
    parser = References()
    parser.feed(page(client))
    for url in parser.urls:
        response = client.get(url)
        assert response.status_code == 200, url
        if url == "/favicon.ico":
            assert response.headers["content-type"] == "image/x-icon"
            continue
        expected = "text/css" if url.endswith(".css") else "javascript"
        assert expected in response.headers["content-type"]
        assert len(response.content) > 1_000


def test_the_page_has_one_token_field_and_no_inline_script(client: TestClient) -> None:
    html = page(client)
    assert 'id="graphql-token"' in html
    assert 'type="password"' in html
    assert "<your graphql token>" not in html  # no placeholder header to forget any more
    parser = References()
    parser.feed(html)
    for script in parser.scripts:
        assert script.get("src") or script.get("type") == "application/json", script


def test_vendored_files_carry_their_licences() -> None:
    for package in ("graphiql-3.8.3", "react-18.3.1", "react-dom-18.3.1", "graphql-ws-6.4.2"):
        assert "MIT License" in (STATIC / package / "LICENSE").read_text()


def test_the_stylesheet_loads_nothing_from_outside() -> None:
    css = (STATIC / "graphiql-3.8.3" / "graphiql.min.css").read_text()
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    assert "@import" not in css
