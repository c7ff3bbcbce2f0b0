/* The GraphiQL page: one token field for the whole page.
 *
 * The token is kept in localStorage (where GraphiQL keeps its headers). Every request GraphiQL
 * makes - every tab, new ones too, and the schema fetch - goes through one fetcher that adds
 * "Authorization: Bearer <token>", replacing any Authorization header in the Headers pane.
 * Until a token exists GraphiQL gets `schema: null`, so it fetches nothing and shows no error.
 * Subscriptions go over a WebSocket (graphql-ws, vendored, graphql-transport-ws protocol) to the
 * same endpoint, the token in the connection_init payload (browsers cannot set its headers).
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var endpoint = new URL(config.endpoint, window.location.href).href;
  var input = document.getElementById("graphql-token");
  var status = document.getElementById("token-status");
  var OLD_PLACEHOLDER = "<your graphql token>";

  function readToken() {
    try {
      return window.localStorage.getItem(config.tokenStorageKey) || "";
    } catch (error) {
      return "";
    }
  }

  function writeToken(token) {
    try {
      if (token) {
        window.localStorage.setItem(config.tokenStorageKey, token);
      } else {
        window.localStorage.removeItem(config.tokenStorageKey);
      }
    } catch (error) {
      /* storage disabled: the token lasts as long as the page */
    }
  }

  // Earlier versions of this page put the placeholder into GraphiQL's saved headers.
  try {
    var saved = window.localStorage.getItem("graphiql:headers");
    if (saved && saved.indexOf(OLD_PLACEHOLDER) !== -1) {
      window.localStorage.removeItem("graphiql:headers");
    }
  } catch (error) {
    /* nothing saved */
  }

  function say(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  function withoutAuthorization(headers) {
    var result = {};
    Object.keys(headers || {}).forEach(function (name) {
      if (name.toLowerCase() !== "authorization") {
        result[name] = headers[name];
      }
    });
    return result;
  }

  var wsEndpoint = endpoint.replace(/^http/, "ws");
  var wsClient = null;
  var wsToken = null;

  function subscriptionClient(token) {
    if (wsClient === null || wsToken !== token) {
      if (wsClient !== null) {
        wsClient.dispose();
      }
      wsToken = token;
      wsClient = graphqlWs.createClient({
        url: wsEndpoint,
        lazy: true,
        connectionParams: { Authorization: "Bearer " + token },
      });
    }
    return wsClient;
  }

  // Whether the operation to run is a subscription (comments and strings do not count).
  function isSubscription(params) {
    var text = (params.query || "").replace(/"""[\s\S]*?"""|"(?:\\.|[^"\\])*"|#[^\n]*/g, "");
    var pattern = /(?:^|})\s*(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (!params.operationName || match[2] === params.operationName) {
        return match[1] === "subscription";
      }
    }
    return false;
  }

  function tokenFetcher(token) {
    return function (params, options) {
      if (isSubscription(params)) {
        return subscriptionClient(token).iterate({
          query: params.query,
          variables: params.variables,
          operationName: params.operationName,
        });
      }
      var headers = withoutAuthorization(options && options.headers);
      headers["Content-Type"] = "application/json";
      headers.Accept = "application/json";
      headers.Authorization = "Bearer " + token;
      return fetch(endpoint, {
        method: "POST",
        headers: headers,
        body: JSON.stringify(params),
        credentials: "omit",
      }).then(function (response) {
        return response.text().then(function (text) {
          var body;
          try {
            body = JSON.parse(text);
          } catch (error) {
            body = { errors: [{ message: "HTTP " + response.status + ": " + text }] };
          }
          if (response.status === 401 || response.status === 403) {
            var message = body.errors && body.errors[0] ? body.errors[0].message : "rejected";
            say("Token rejected: " + message, "error");
          }
          return body;
        });
      });
    };
  }

  function noTokenFetcher() {
    say("Enter your GraphQL token first.", "error");
    input.focus();
    return Promise.resolve({
      errors: [{ message: "Enter your GraphQL token in the field at the top of the page." }],
    });
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));

  function render() {
    var token = readToken();
    root.render(
      React.createElement(GraphiQL, {
        fetcher: token ? tokenFetcher(token) : noTokenFetcher,
        // null: no schema and no introspection; undefined: GraphiQL introspects.
        schema: token ? undefined : null,
        defaultQuery: config.defaultQuery,
        defaultHeaders: "",
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: true,
      })
    );
  }

  document.getElementById("token-bar").addEventListener("submit", function (event) {
    event.preventDefault();
    var token = input.value.trim();
    if (!token) {
      say("Paste a token into the field.", "error");
      return;
    }
    if (token === OLD_PLACEHOLDER || /^<.*>$/.test(token)) {
      say("That is the placeholder, not a token.", "error");
      return;
    }
    writeToken(token);
    input.value = "";
    input.placeholder = "Token set (kept in this browser). Paste another to replace it.";
    say("Token set: every tab uses it.", "ok");
    render();
  });

  document.getElementById("forget-token").addEventListener("click", function () {
    writeToken("");
    input.placeholder = "Paste a GraphQL token (bdir_…)";
    say("Token forgotten.", "");
    render();
  });

  if (readToken()) {
    input.placeholder = "Token set (kept in this browser). Paste another to replace it.";
    say("Token set: every tab uses it.", "ok");
  } else {
    say("No token yet: nothing is sent until you enter one.", "");
  }
  render();
})();
