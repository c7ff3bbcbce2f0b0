"""GraphiQL served entirely by this app: works with no internet access.

The JavaScript and CSS of GraphiQL are vendored, unmodified, from the npm registry at pinned
versions (graphiql 3.8.3, react and react-dom 18.3.1, and graphql-ws 6.4.2's browser (UMD)
build for subscriptions, each with its licence) under ``static/``. The page's own script and
style (``static/graphiql-page/``) add one GraphQL token field for the whole page: its fetcher
sends that token with every request of every tab, the schema fetch included (subscriptions in
the WebSocket's connection_init), and nothing is fetched before a token exists. The page holds
no inline script, so it works under a strict Content-Security-Policy.
"""

import json
from html import escape

from starlette.staticfiles import StaticFiles

STATIC_PATH = "/graphql/static"
GRAPHIQL_VERSION = "3.8.3"
REACT_VERSION = "18.3.1"
GRAPHQL_WS_VERSION = "6.4.2"
TOKEN_STORAGE_KEY = "blink-directory:graphql-token"  # noqa: S105 - a storage key

DEFAULT_QUERY = """# Enter your GraphQL token above, then run
# this query (Ctrl-Enter or the play button).
# People can be given by userName as well:
# user(userName: "..."), reportingPath(...).
{
  tenant { slug name }
  roots(first: 5) {
    totalCount
    edges {
      node {
        displayName userName title reportCount
        directReports(first: 5) { edges { node { displayName title } } }
      }
    }
  }
}
"""


def graphiql_assets() -> StaticFiles:
    return StaticFiles(packages=[("app.graphql_api", "static")])


def graphiql_page(endpoint: str = "/graphql") -> str:
    static = escape(STATIC_PATH)
    config = {
        "endpoint": endpoint,
        "defaultQuery": DEFAULT_QUERY,
        "tokenStorageKey": TOKEN_STORAGE_KEY,
    }
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Blink directory · GraphiQL</title>
    <link rel="icon" href="/favicon.ico">
    <link rel="stylesheet" href="{static}/graphiql-{GRAPHIQL_VERSION}/graphiql.min.css">
    <link rel="stylesheet" href="{static}/graphiql-page/page.css">
    <script src="{static}/react-{REACT_VERSION}/react.production.min.js"></script>
    <script src="{static}/react-dom-{REACT_VERSION}/react-dom.production.min.js"></script>
    <script src="{static}/graphiql-{GRAPHIQL_VERSION}/graphiql.min.js"></script>
    <script src="{static}/graphql-ws-{GRAPHQL_WS_VERSION}/graphql-ws.min.js"></script>
  </head>
  <body>
    <form id="token-bar" class="token-bar" autocomplete="off">
      <a class="home" href="/" title="Blink directory">Blink directory</a>
      <label for="graphql-token">GraphQL token</label>
      <input id="graphql-token" name="token" type="password" spellcheck="false"
             placeholder="bdir_…  (blink-directory token create --scope graphql)">
      <button type="submit" id="use-token">Use token</button>
      <button type="button" id="forget-token">Forget</button>
      <span id="token-status" role="status" aria-live="polite"></span>
      <a class="orgchart" href="/orgchart">Org chart</a>
    </form>
    <div id="graphiql">Loading GraphiQL…</div>
    <script id="graphiql-config" type="application/json">{_json_in_html(config)}</script>
    <script src="{static}/graphiql-page/page.js"></script>
  </body>
</html>
"""


def _json_in_html(value: object) -> str:
    """JSON that cannot close the surrounding script element."""
    return json.dumps(value).replace("</", "<\\/")
