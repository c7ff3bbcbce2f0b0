"""GraphiQL served entirely by this app: works with no internet access.

The JavaScript and CSS are vendored, unmodified, from the npm registry at pinned versions
(graphiql 3.8.3, react and react-dom 18.3.1, each with its licence) under ``static/``.
The page opens the Headers pane with an ``Authorization`` header to fill in.
"""

import json
from html import escape

from starlette.staticfiles import StaticFiles

STATIC_PATH = "/graphql/static"
GRAPHIQL_VERSION = "3.8.3"
REACT_VERSION = "18.3.1"

DEFAULT_HEADERS = '{\n  "Authorization": "Bearer <your graphql token>"\n}'

DEFAULT_QUERY = """# Put your GraphQL token in the Headers pane below, then run this query.
{
  tenant { slug name }
  roots(first: 5) {
    totalCount
    edges {
      node {
        displayName title reportCount
        directReports(first: 5) { edges { node { displayName title } } }
      }
    }
  }
}
"""


def graphiql_assets() -> StaticFiles:
    return StaticFiles(packages=[("app.graphql_api", "static")])


def graphiql_page(endpoint: str = "/graphql") -> str:
    static = STATIC_PATH
    script = f"""
      const fetcher = GraphiQL.createFetcher({{
        url: new URL({_js_string(endpoint)}, window.location.href).href,
      }});
      const root = ReactDOM.createRoot(document.getElementById("graphiql"));
      root.render(React.createElement(GraphiQL, {{
        fetcher,
        defaultQuery: {_js_string(DEFAULT_QUERY)},
        defaultHeaders: {_js_string(DEFAULT_HEADERS)},
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: true,
        defaultEditorToolsVisibility: "headers",
      }}));
    """
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Blink directory · GraphiQL</title>
    <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
    <link rel="stylesheet" href="{escape(static)}/graphiql-{GRAPHIQL_VERSION}/graphiql.min.css">
    <script src="{escape(static)}/react-{REACT_VERSION}/react.production.min.js"></script>
    <script src="{escape(static)}/react-dom-{REACT_VERSION}/react-dom.production.min.js"></script>
    <script src="{escape(static)}/graphiql-{GRAPHIQL_VERSION}/graphiql.min.js"></script>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script>{script}</script>
  </body>
</html>
"""


def _js_string(text: str) -> str:
    """A JavaScript string literal that cannot close the surrounding script element."""
    return json.dumps(text).replace("</", "<\\/")
