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

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
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
    assert len(parser.urls) == 4  # graphiql css and js, react, react-dom
    for url in parser.urls:
        assert url.startswith("/graphql/static/"), url
    assert not re.search(r"(https?:)?//[a-z0-9]", html, re.IGNORECASE)


def test_every_referenced_asset_is_served(client: TestClient) -> None:
    parser = References()
    parser.feed(page(client))
    for url in parser.urls:
        response = client.get(url)
        assert response.status_code == 200, url
        expected = "text/css" if url.endswith(".css") else "javascript"
        assert expected in response.headers["content-type"]
        assert len(response.content) > 5_000


def test_the_page_offers_an_authorization_header_to_fill_in(client: TestClient) -> None:
    html = page(client)
    assert '\\"Authorization\\": \\"Bearer <your graphql token>\\"' in html
    assert "isHeadersEditorEnabled: true" in html
    assert 'defaultEditorToolsVisibility: "headers"' in html


def test_vendored_files_carry_their_licences() -> None:
    for package in ("graphiql-3.8.3", "react-18.3.1", "react-dom-18.3.1"):
        assert "MIT License" in (STATIC / package / "LICENSE").read_text()


def test_the_stylesheet_loads_nothing_from_outside() -> None:
    css = (STATIC / "graphiql-3.8.3" / "graphiql.min.css").read_text()
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    assert "@import" not in css
