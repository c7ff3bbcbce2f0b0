/* The org chart page: one person at a time, read lazily from /graphql.
 *
 * It never loads the whole organisation: a view is one person with their management chain
 * and a page of direct reports; any report's own reports are fetched when expanded. The
 * person is in the URL (?user=ID), so a view can be shared. The GraphQL token is asked for
 * once and kept in this tab's session storage.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "blink-directory:orgchart-token";
  var PAGE = 50;
  var SEARCH_SIZE = 8;
  var CHAIN_DEPTH = 50;

  var PERSON =
    "fragment Person on User { id displayName userName title department location email " +
    "workPhone mobilePhone active directReportCount(includeInactive: true) " +
    "reportCount(includeInactive: true) }";
  var REPORTS_PAGE =
    "directReports(first: $first, after: $after, includeInactive: true) { totalCount " +
    "pageInfo { hasNextPage endCursor } edges { node { ...Person } } }";
  var FOCUS_QUERY =
    "query OrgChartFocus($id: ID!, $first: Int!, $after: String) { user(id: $id) { " +
    "...Person manager { id displayName } " +
    "managementChain(maxDepth: " + CHAIN_DEPTH + ", includeInactive: true) { " +
    "...Person manager { id displayName } } " + REPORTS_PAGE + " } } " + PERSON;
  var REPORTS_QUERY =
    "query OrgChartReports($id: ID!, $first: Int!, $after: String) { user(id: $id) { " +
    REPORTS_PAGE + " } } " + PERSON;
  var ROOTS_QUERY =
    "query OrgChartRoots { roots(first: " + PAGE + ", includeInactive: true) { totalCount " +
    "edges { node { ...Person } } } } " + PERSON;
  var SEARCH_QUERY =
    "query OrgChartSearch($search: String!) { users(first: " + SEARCH_SIZE + ", filter: " +
    "{ search: $search }) { totalCount edges { node { id displayName userName title email " +
    "department active } } } }";
  var TENANT_QUERY = "query OrgChartTenant { tenant { slug name } }";

  function $(id) {
    return document.getElementById(id);
  }

  // ---- talking to /graphql ----------------------------------------------------------------

  function AuthError(message) {
    this.message = message;
  }

  function token() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (error) {
      return "";
    }
  }

  function setToken(value) {
    try {
      if (value) {
        window.sessionStorage.setItem(TOKEN_KEY, value);
      } else {
        window.sessionStorage.removeItem(TOKEN_KEY);
      }
    } catch (error) {
      /* storage disabled */
    }
  }

  function gql(query, variables, withToken) {
    return fetch("/graphql", {
      method: "POST",
      credentials: "omit",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        Authorization: "Bearer " + (withToken || token()),
      },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return { errors: [{ message: "HTTP " + response.status }] };
        })
        .then(function (body) {
          var errors = body.errors || [];
          if (response.status === 401 || response.status === 403) {
            throw new AuthError(errors.length ? errors[0].message : "the token was refused");
          }
          if (errors.length) {
            throw new Error(errors.map(function (e) { return e.message; }).join("; "));
          }
          return body.data;
        });
    });
  }

  // ---- building the page ------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function nameOf(person) {
    return person.displayName || person.userName;
  }

  function initials(person) {
    var words = nameOf(person).replace(/@.*/, "").split(/[\s._-]+/).filter(Boolean);
    var letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : words[0].slice(0, 2);
    return letters.toUpperCase();
  }

  function hue(id) {
    var sum = 0;
    for (var i = 0; i < id.length; i++) sum = (sum * 31 + id.charCodeAt(i)) % 360;
    return sum;
  }

  function avatar(person, big) {
    var node = el("span", "avatar" + (big ? " big" : ""), initials(person));
    node.setAttribute("aria-hidden", "true");
    if (person.active) node.style.backgroundColor = "hsl(" + hue(person.id) + ", 45%, 38%)";
    return node;
  }

  function counts(person) {
    var direct = person.directReportCount;
    if (!direct) return "No reports";
    return (
      direct + " direct report" + (direct === 1 ? "" : "s") + " · " +
      person.reportCount + " in total"
    );
  }

  function personLink(person, className) {
    var link = el("a", className);
    link.href = "/orgchart?user=" + encodeURIComponent(person.id);
    link.dataset.user = person.id;
    link.addEventListener("click", function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      show(person.id, true);
    });
    return link;
  }

  function inactiveBadge(person, holder) {
    if (!person.active) holder.appendChild(el("span", "badge inactive", "Inactive"));
  }

  /* A card: avatar, name, title, and department · location · counts (``brief``: no counts). */
  function card(person, brief) {
    var link = personLink(person, "card" + (brief ? " brief" : "") +
      (person.active ? "" : " is-inactive"));
    link.setAttribute("aria-label", nameOf(person) + (person.title ? ", " + person.title : "") +
      (person.active ? "" : ", inactive") + ". " + counts(person));
    link.appendChild(avatar(person, false));
    var text = el("span", "card-text");
    var name = el("span", "name", nameOf(person));
    inactiveBadge(person, name);
    text.appendChild(name);
    var facts = [person.title, person.department, person.location];
    if (!brief) {
      if (person.title) text.appendChild(el("span", "title", person.title));
      facts = [person.department, person.location];
    }
    var line = facts.filter(Boolean).join(" · ");
    var where = el("span", "where", line);
    if (!brief) {
      where.appendChild(el("span", "counts", (line ? " · " : "") + counts(person)));
    }
    text.appendChild(where);
    link.appendChild(text);
    return link;
  }

  function contact(list, label, value, href) {
    if (!value) return;
    list.appendChild(el("dt", null, label));
    var dd = el("dd");
    if (href) {
      var a = el("a", null, value);
      a.href = href;
      dd.appendChild(a);
    } else {
      dd.textContent = value;
    }
    list.appendChild(dd);
  }

  /* The focused person's full card. */
  function focusCard(person) {
    var box = el("article", "person-card" + (person.active ? "" : " is-inactive"));
    box.setAttribute("aria-label", nameOf(person));
    box.appendChild(avatar(person, true));
    var body = el("div", "person-body");
    var heading = el("h1", "name", nameOf(person));
    heading.id = "focus-name";
    inactiveBadge(person, heading);
    body.appendChild(heading);
    if (person.title) body.appendChild(el("p", "title", person.title));
    var details = el("dl", "details");
    contact(details, "Department", person.department);
    contact(details, "Location", person.location);
    contact(details, "Email", person.email, person.email ? "mailto:" + person.email : null);
    contact(details, "Work phone", person.workPhone,
      person.workPhone ? "tel:" + person.workPhone.replace(/\s/g, "") : null);
    contact(details, "Mobile", person.mobilePhone,
      person.mobilePhone ? "tel:" + person.mobilePhone.replace(/\s/g, "") : null);
    if (person.userName !== person.email) contact(details, "userName", person.userName);
    body.appendChild(details);
    body.appendChild(el("p", "counts", counts(person)));
    box.appendChild(body);
    return box;
  }

  function loopNote(text) {
    var note = el("p", "loop", "↻ " + text);
    note.setAttribute("role", "note");
    return note;
  }

  // ---- the reports tree -------------------------------------------------------------------

  /* One report in the tree; ``above`` holds the ids already shown above it. */
  function treeItem(person, above, level) {
    var item = el("li", "tree-item");
    item.dataset.user = person.id;
    var row = el("div", "tree-row");
    if (above[person.id]) {
      row.appendChild(loopNote(nameOf(person) + " is already shown above: a manager loop."));
      item.appendChild(row);
      return item;
    }
    var children = el("ul", "tree-children");
    children.hidden = true;
    if (person.directReportCount > 0) {
      var toggle = el("button", "toggle");
      toggle.type = "button";
      toggle.setAttribute("aria-expanded", "false");
      toggle.setAttribute("aria-label", "Show the reports of " + nameOf(person));
      toggle.appendChild(el("span", "toggle-icon", "+"));
      var loaded = false;
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") === "true";
        if (open) {
          toggle.setAttribute("aria-expanded", "false");
          toggle.setAttribute("aria-label", "Show the reports of " + nameOf(person));
          toggle.firstChild.textContent = "+";
          children.hidden = true;
          item.classList.remove("open");
          return;
        }
        toggle.setAttribute("aria-expanded", "true");
        toggle.setAttribute("aria-label", "Hide the reports of " + nameOf(person));
        toggle.firstChild.textContent = "−";
        children.hidden = false;
        item.classList.add("open");
        if (!loaded) {
          loaded = true;
          var below = Object.assign({}, above);
          below[person.id] = true;
          loadReports(person.id, null, children, below, level + 1);
        }
      });
      row.appendChild(toggle);
    } else {
      row.appendChild(el("span", "toggle-space"));
    }
    row.appendChild(card(person));
    item.appendChild(row);
    item.appendChild(children);
    return item;
  }

  function appendReports(list, connection, above, level, id) {
    connection.edges.forEach(function (edge) {
      list.appendChild(treeItem(edge.node, above, level));
    });
    var more = list.querySelector(":scope > li.more");
    if (more) more.remove();
    if (connection.pageInfo.hasNextPage) {
      var item = el("li", "more");
      var shown = list.querySelectorAll(":scope > li.tree-item").length;
      var button = el("button", "more-button",
        "Show more (" + shown + " of " + connection.totalCount + " shown)");
      button.type = "button";
      button.addEventListener("click", function () {
        button.disabled = true;
        loadReports(id, connection.pageInfo.endCursor, list, above, level);
      });
      item.appendChild(button);
      list.appendChild(item);
    }
  }

  function loadReports(id, after, list, above, level) {
    var pending = el("li", "pending", "Loading…");
    list.appendChild(pending);
    return gql(REPORTS_QUERY, { id: id, first: PAGE, after: after })
      .then(function (data) {
        pending.remove();
        if (data.user) appendReports(list, data.user.directReports, above, level, id);
      })
      .catch(function (error) {
        pending.remove();
        failed(error);
      });
  }

  // ---- a view: one person, or the top of the organisation ----------------------------------

  var current = { id: null, sequence: 0 };

  function say(text) {
    $("message").textContent = text || "";
  }

  function failed(error) {
    if (error instanceof AuthError) {
      setToken("");
      askForToken("The token was refused: " + error.message);
      return;
    }
    say("Something went wrong: " + error.message);
  }

  function urlFor(id) {
    return id ? "/orgchart?user=" + encodeURIComponent(id) : "/orgchart";
  }

  function renderChain(person) {
    var chainList = $("chain");
    chainList.textContent = "";
    var chain = person.managementChain.slice().reverse(); // the top first
    var shown = {};
    shown[person.id] = true;
    person.managementChain.forEach(function (manager) {
      shown[manager.id] = true;
    });
    var top = person.managementChain.length
      ? person.managementChain[person.managementChain.length - 1]
      : person;
    if (top.manager && shown[top.manager.id]) {
      var loop = el("li", "chain-item");
      loop.appendChild(loopNote("Manager loop: " + nameOf(top) + " reports to " +
        (top.manager.displayName || "someone") + ", who is already shown below."));
      chainList.appendChild(loop);
    } else if (top.manager) {
      chainList.appendChild(el("li", "chain-item cut",
        "More managers above (the chain shows " + CHAIN_DEPTH + ")."));
    }
    chain.forEach(function (manager) {
      var item = el("li", "chain-item");
      item.appendChild(card(manager, true));
      chainList.appendChild(item);
    });
    return shown;
  }

  function renderPerson(person) {
    document.title = nameOf(person) + " · Org chart · Blink directory";
    var shown = renderChain(person);
    var focus = $("focus");
    focus.textContent = "";
    focus.appendChild(focusCard(person));
    var heading = $("reports-heading");
    var total = person.directReports.totalCount;
    heading.textContent = total ? "Direct reports (" + total + ")" : "No direct reports";
    var list = $("reports");
    list.textContent = "";
    appendReports(list, person.directReports, shown, 1, person.id);
    $("chart").hidden = false;
    $("chart").classList.remove("at-top");
  }

  function renderRoots(roots) {
    document.title = "Org chart · Blink directory";
    $("chain").textContent = "";
    var focus = $("focus");
    focus.textContent = "";
    focus.appendChild(el("h1", "top-heading", "The top of the organisation"));
    $("reports-heading").textContent =
      roots.totalCount + " " + (roots.totalCount === 1 ? "person" : "people") + " without a manager";
    var list = $("reports");
    list.textContent = "";
    roots.edges.forEach(function (edge) {
      list.appendChild(treeItem(edge.node, {}, 1));
    });
    $("chart").hidden = false;
    $("chart").classList.add("at-top");
  }

  /* Show a person (or the top when id is null); ``push`` adds a history entry. */
  function show(id, push) {
    var sequence = ++current.sequence;
    current.id = id;
    if (push) window.history.pushState({ user: id }, "", urlFor(id));
    say("Loading…");
    var request = id
      ? gql(FOCUS_QUERY, { id: id, first: PAGE, after: null })
      : gql(ROOTS_QUERY, {});
    return request
      .then(function (data) {
        if (sequence !== current.sequence) return;
        say("");
        if (!id) {
          var roots = data.roots;
          var active = roots.edges.filter(function (edge) { return edge.node.active; });
          if (active.length === 1) {
            // One person at the top: start there (replacing, so Back leaves the page).
            window.history.replaceState({ user: active[0].node.id }, "", urlFor(active[0].node.id));
            return show(active[0].node.id, false);
          }
          renderRoots(roots);
          return;
        }
        if (!data.user) {
          say("No one with that id in this directory. Showing the top of the organisation.");
          window.history.replaceState({ user: null }, "", urlFor(null));
          return gql(ROOTS_QUERY, {}).then(function (more) { renderRoots(more.roots); });
        }
        renderPerson(data.user);
        if (push) $("focus").focus();
      })
      .catch(failed);
  }

  function userInUrl() {
    return new URLSearchParams(window.location.search).get("user");
  }

  // ---- search -------------------------------------------------------------------------------

  var search = { timer: null, sequence: 0, active: -1, results: [] };

  function closeResults() {
    var list = $("search-results");
    list.hidden = true;
    list.textContent = "";
    search.active = -1;
    search.results = [];
    $("search").setAttribute("aria-expanded", "false");
    $("search").removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    var options = $("search-results").querySelectorAll("[role=option]");
    options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    search.active = index;
    if (index >= 0 && options[index]) {
      $("search").setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    }
  }

  function choose(index) {
    var person = search.results[index];
    if (!person) return;
    closeResults();
    $("search").value = "";
    show(person.id, true);
  }

  function renderResults(connection) {
    var list = $("search-results");
    list.textContent = "";
    search.results = connection.edges.map(function (edge) { return edge.node; });
    if (!search.results.length) {
      var none = el("li", "no-results", "No one found");
      none.setAttribute("role", "presentation");
      list.appendChild(none);
    }
    search.results.forEach(function (person, index) {
      var option = el("li", "result" + (person.active ? "" : " is-inactive"));
      option.id = "search-option-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.appendChild(avatar(person, false));
      var text = el("span", "card-text");
      var name = el("span", "name", nameOf(person));
      inactiveBadge(person, name);
      text.appendChild(name);
      text.appendChild(el("span", "title", [person.title, person.department].filter(Boolean).join(" · ")));
      text.appendChild(el("span", "where", person.email || person.userName));
      option.appendChild(text);
      option.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus in the box until the choice is made
        choose(index);
      });
      list.appendChild(option);
    });
    if (connection.totalCount > search.results.length) {
      var more = el("li", "no-results",
        (connection.totalCount - search.results.length) + " more: type more of the name");
      more.setAttribute("role", "presentation");
      list.appendChild(more);
    }
    list.hidden = false;
    $("search").setAttribute("aria-expanded", "true");
  }

  function onSearchInput() {
    var text = $("search").value.trim();
    window.clearTimeout(search.timer);
    if (!text) {
      search.sequence++;
      closeResults();
      return;
    }
    search.timer = window.setTimeout(function () {
      var sequence = ++search.sequence;
      gql(SEARCH_QUERY, { search: text })
        .then(function (data) {
          if (sequence === search.sequence) renderResults(data.users);
        })
        .catch(failed);
    }, 150);
  }

  function onSearchKey(event) {
    var count = search.results.length;
    if (event.key === "ArrowDown" && count) {
      event.preventDefault();
      highlight((search.active + 1) % count);
    } else if (event.key === "ArrowUp" && count) {
      event.preventDefault();
      highlight((search.active - 1 + count) % count);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (count) choose(search.active >= 0 ? search.active : 0);
    } else if (event.key === "Escape") {
      closeResults();
    }
  }

  // ---- the token --------------------------------------------------------------------------

  function askForToken(problem) {
    $("chart").hidden = true;
    $("sign-in").hidden = false;
    $("sign-out").hidden = true;
    $("search").disabled = true;
    $("tenant-name").textContent = "";
    $("token-error").textContent = problem || "";
    say("");
    $("token").focus();
  }

  function signedIn(tenant) {
    $("sign-in").hidden = true;
    $("sign-out").hidden = false;
    $("search").disabled = false;
    $("tenant-name").textContent = tenant.name;
    $("tenant-name").title = "Tenant " + tenant.slug;
    return show(userInUrl(), false);
  }

  function start() {
    $("token-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var value = $("token").value.trim();
      if (/^<.*>$/.test(value)) {
        $("token-error").textContent = "That is the placeholder: paste the token itself.";
        return;
      }
      $("token-error").textContent = "";
      gql(TENANT_QUERY, {}, value)
        .then(function (data) {
          setToken(value);
          $("token").value = "";
          return signedIn(data.tenant);
        })
        .catch(function (error) {
          $("token-error").textContent =
            error instanceof AuthError ? "The token was refused: " + error.message : error.message;
        });
    });
    $("sign-out").addEventListener("click", function () {
      setToken("");
      askForToken("");
    });
    $("search").addEventListener("input", onSearchInput);
    $("search").addEventListener("keydown", onSearchKey);
    $("search").addEventListener("blur", function () {
      window.setTimeout(closeResults, 150);
    });
    window.addEventListener("popstate", function () {
      if (token()) show(userInUrl(), false);
    });
    if (!token()) {
      askForToken("");
      return;
    }
    gql(TENANT_QUERY, {}).then(function (data) { return signedIn(data.tenant); }).catch(failed);
  }

  start();
})();
