/* The query page: YASQE editor, run against /sparql, paged labelled table, graph view. */
(function () {
  "use strict";
  var cfg = ckb.readConfig("query-config");
  var PAGE = 50, HISTORY_KEY = "ckb.queryHistory", HISTORY_MAX = 25;
  var RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
  var LABEL_PROPS = ["http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#prefLabel"];
  var $ = function (id) { return document.getElementById(id); };
  var state = { result: null, page: 0, labels: {}, graph: null, seq: 0, sort: null };

  /* --- editor: prefixes and terms come from this server only (no prefix.cc, no LOV) --- */
  // prefixes, classes after `a`, a class's properties, entities by label: js/complete.js
  var Yasqe = window.Yasqe;
  ckbComplete.install(Yasqe, cfg);

  var yasqe = new Yasqe($("editor"), {
    value: cfg.query, persistenceId: null, consumeShareLink: null, createShareableLink: null,
    showQueryButton: false, editorHeight: "280px", resizeable: true,
    extraKeys: { "Ctrl-Enter": run, "Cmd-Enter": run,
                 // Tab indents inside the editor; Escape leaves it, so the keyboard can reach Run.
                 "Esc": function () { yasqe.getInputField().blur(); $("run").focus(); } }
  });
  yasqe.setValue(cfg.query);
  yasqe.getInputField().setAttribute("aria-label", "SPARQL query editor (Escape leaves the editor)");
  // The editor's scroll box must be reachable by keyboard to scroll a long query.
  var scroller = document.querySelector("#editor .CodeMirror-scroll");
  if (scroller) { scroller.setAttribute("tabindex", "0"); scroller.setAttribute("aria-label", "query text, scrollable"); }
  window.ckbYasqe = yasqe;  // for tests and the console
  // "Skip to the query editor" (the page's first Tab stop) puts the cursor in the editor itself
  $("skip-editor").addEventListener("click", function (e) { e.preventDefault(); yasqe.focus(); });

  /* --- history (this browser only) --- */
  function loadHistory() {
    try { return JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]"); } catch (e) { return []; }
  }
  function remember(q) {
    var h = loadHistory().filter(function (x) { return x !== q; });
    h.unshift(q);
    try { localStorage.setItem(HISTORY_KEY, JSON.stringify(h.slice(0, HISTORY_MAX))); } catch (e) { /* full */ }
    drawHistory();
  }
  function drawHistory() {
    var sel = $("history");
    while (sel.options.length > 1) { sel.remove(1); }
    loadHistory().forEach(function (q, i) {
      var firstLine = q.split("\n").filter(function (l) { return l.trim() && !/^\s*(PREFIX|#)/i.test(l); })[0] || q;
      sel.appendChild(ckb.el("option", { value: String(i) }, firstLine.trim().slice(0, 80)));
    });
  }
  $("history").addEventListener("change", function (e) {
    var h = loadHistory()[parseInt(e.target.value, 10)];
    if (h) { yasqe.setValue(h); }
    e.target.value = "";
  });

  /* --- permalink: the query travels in the URL --- */
  function permalink() {
    var url = new URL(window.location.href);
    url.search = "";
    url.hash = "";
    url.searchParams.set("query", yasqe.getValue());
    return url.toString();
  }
  $("share").addEventListener("click", function () {
    var link = permalink();
    window.history.replaceState(null, "", link);
    var box = $("permalink");
    box.hidden = false;
    box.value = link;
    box.select();
    if (navigator.clipboard) { navigator.clipboard.writeText(link).catch(function () { /* not allowed */ }); }
  });

  /* --- examples --- */
  document.querySelectorAll("a.example").forEach(function (a) {
    a.addEventListener("click", function (e) {
      var ex = cfg.examples.filter(function (x) { return x.name === a.getAttribute("data-example"); })[0];
      if (!ex) { return; }
      e.preventDefault();
      document.querySelectorAll("a.example.current").forEach(function (c) { c.classList.remove("current"); });
      a.classList.add("current");
      yasqe.setValue(ex.sparql);
      window.history.replaceState(null, "", "/query?example=" + encodeURIComponent(ex.name));
      run();
    });
  });

  /* --- running --- */
  function run() {
    var query = yasqe.getValue();
    var mine = ++state.seq;
    var inferred = $("inferred").checked;
    remember(query);
    $("results").hidden = false;
    $("error").hidden = true;
    $("status").textContent = "Running…";
    $("results").setAttribute("aria-busy", "true");
    var body = new URLSearchParams({ query: query, inferred: inferred ? "true" : "false" });
    var started = performance.now();
    fetch(cfg.endpoint, {
      method: "POST", body: body,
      headers: { "Accept": "application/sparql-results+json, application/n-triples;q=0.9" }
    }).then(function (r) {
      return r.text().then(function (text) {
        if (!r.ok) { throw new Error(text.trim() || (r.status + " " + r.statusText)); }
        var type = (r.headers.get("Content-Type") || "").split(";")[0].trim();
        var result = type === "application/n-triples"
          ? { kind: "graph", triples: ckbNTriples.parse(text) }
          : fromJson(JSON.parse(text));
        result.truncated = r.headers.get("X-CKB-Truncated") === "true";
        result.elapsed = parseFloat(r.headers.get("X-CKB-Elapsed") || "") || (performance.now() - started) / 1000;
        result.query = query;
        result.inferred = inferred;
        return result;
      });
    }).then(function (result) {
      if (mine !== state.seq) { return; }
      state.result = result;
      state.page = 0;
      state.sort = null;
      return showResult(result);
    }).catch(function (err) {
      if (mine !== state.seq) { return; }
      $("status").textContent = "Query failed";
      $("error").hidden = false;
      $("error").textContent = err.message;
      $("result-table").textContent = "";
      $("pager").textContent = "";
      $("downloads").textContent = "";
    }).then(function () { $("results").setAttribute("aria-busy", "false"); });
    return true;  // CodeMirror: key handled
  }
  $("run").addEventListener("click", run);

  function fromJson(json) {
    if (json.boolean !== undefined) { return { kind: "ask", boolean: json.boolean }; }
    return { kind: "select", variables: json.head.vars, rows: json.results.bindings };
  }

  function iriOf(term) { return term && term.type === "uri" ? term.value : null; }

  function showResult(result) {
    drawDownloads(result);
    var iris = [];
    if (result.kind === "select") {
      result.rows.forEach(function (row) { Object.keys(row).forEach(function (v) { var i = iriOf(row[v]); if (i) { iris.push(i); } }); });
    } else if (result.kind === "graph") {
      result.triples.forEach(function (t) { [t.s, t.p, t.o].forEach(function (x) { var i = iriOf(x); if (i) { iris.push(i); } }); });
    }
    iris = Array.from(new Set(iris)).slice(0, 2000);
    return ckb.labels(iris).catch(function () { return {}; }).then(function (labels) {
      state.labels = labels;
      var count = result.kind === "select" ? result.rows.length + " row" + (result.rows.length === 1 ? "" : "s")
        : result.kind === "graph" ? result.triples.length + " triple" + (result.triples.length === 1 ? "" : "s")
        : "answer: " + result.boolean;
      $("status").textContent = count + " in " + result.elapsed.toFixed(3) + " s" +
        (result.truncated ? " — truncated: the server's row limit was reached" : "") +
        (result.inferred ? "" : " (asserted facts only)");
      $("status").classList.toggle("truncated", !!result.truncated);
      drawTable();
      var graphable = result.kind === "graph";
      $("view-graph").disabled = !graphable;
      showView(graphable ? "graph" : "table");
    });
  }

  /* --- downloads: every format the server offers for this kind of result --- */
  // Named after the example whose text was run (however it was loaded); an edited query is "query".
  function downloadStem(query) {
    var ex = cfg.examples.filter(function (x) { return x.sparql.trim() === query.trim(); })[0];
    return ex ? ex.name.replace(/[^A-Za-z0-9._-]+/g, "-") : "query";
  }
  function drawDownloads(result) {
    var box = $("downloads");
    box.textContent = "Download: ";
    (cfg.formats[result.kind] || []).forEach(function (f, i) {
      var params = new URLSearchParams({ query: result.query, format: f.ext, inferred: result.inferred ? "true" : "false" });
      if (i) { box.appendChild(document.createTextNode(" · ")); }
      var stem = downloadStem(result.query);
      box.appendChild(ckb.el("a", { href: cfg.endpoint + "?" + params.toString(), download: stem + "." + f.ext,
                                   title: f.type, "data-format": f.name, className: "download" }, f.label));
    });
  }

  /* --- table view --- */
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var PLAIN = [XSD + "string", XSD + "integer"];  // no badge: a reader sees text and numbers
  function cell(term, label) {
    var td = ckb.el("td");
    if (!term) { return td; }
    if (term.type === "uri") {
      td.appendChild(ckb.el("a", { href: ckb.entityUrl(term.value), title: term.value, className: "iri" },
                            label || state.labels[term.value] || ckb.localName(term.value)));
    } else if (term.type === "bnode") {
      td.appendChild(ckb.el("span", { className: "bnode" }, "_:" + term.value));
    } else {
      td.appendChild(ckb.el("span", { className: "literal" }, term.value));
      var lang = term["xml:lang"] || term.lang || "";
      var note = lang && !/^en(-|$)/i.test(lang) ? "@" + lang
        : !lang && term.datatype && PLAIN.indexOf(term.datatype) < 0 ? ckb.localName(term.datatype) : "";
      if (note) { td.appendChild(ckb.el("span", { className: "dt" }, note)); }
    }
    return td;
  }

  function drawTable() {
    var r = state.result, table = $("result-table");
    table.textContent = "";
    var head = [], rows = [], labelOf = {};
    if (r.kind === "select") {
      // ?x with ?xLabel: show x once, by that label (the IRI in the tooltip); hide the label column.
      r.variables.forEach(function (v) {
        var twin = r.variables.filter(function (w) { return w.toLowerCase() === v.toLowerCase() + "label"; })[0];
        if (twin && r.rows.some(function (b) { return b[v] && b[v].type === "uri"; })) { labelOf[v] = twin; }
      });
      var hidden = Object.keys(labelOf).map(function (v) { return labelOf[v]; });
      head = r.variables.filter(function (v) { return hidden.indexOf(v) < 0; });
      rows = r.rows.map(function (b) {
        return head.map(function (v) {
          var t = b[v];
          return labelOf[v] && t && t.type === "uri" && b[labelOf[v]] ? Object.assign({ shownAs: b[labelOf[v]].value }, t) : t;
        });
      });
    } else if (r.kind === "graph") {
      head = ["subject", "predicate", "object"];
      rows = r.triples.map(function (t) { return [t.s, t.p, t.o]; });
    } else {
      head = ["answer"];
      rows = [[{ type: "literal", value: String(r.boolean) }]];
    }
    if (state.sort && state.sort.col < head.length) {
      var col = state.sort.col, dir = state.sort.dir;
      rows = rows.slice().sort(function (a, b) { return dir * compareTerms(a[col], b[col]); });
    }
    var thead = ckb.el("thead"), tr = ckb.el("tr");
    head.forEach(function (h, i) {
      var sorted = state.sort && state.sort.col === i;
      var th = ckb.el("th", { scope: "col" });
      th.setAttribute("aria-sort", sorted ? (state.sort.dir > 0 ? "ascending" : "descending") : "none");
      var button = ckb.el("button", { type: "button", className: "sort", title: "Sort by " + h },
                          h + (sorted ? (state.sort.dir > 0 ? " ▲" : " ▼") : ""));
      button.addEventListener("click", function () {
        state.sort = { col: i, dir: sorted ? -state.sort.dir : 1 };
        state.page = 0;
        drawTable();
      });
      th.appendChild(button);
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    table.appendChild(thead);
    var tbody = ckb.el("tbody");
    rows.slice(state.page * PAGE, (state.page + 1) * PAGE).forEach(function (row) {
      var line = ckb.el("tr");
      row.forEach(function (term) { line.appendChild(cell(term, term && term.shownAs)); });
      tbody.appendChild(line);
    });
    table.appendChild(tbody);
    drawPager(rows.length);
  }

  // Numbers sort as numbers, IRIs by their shown label, the rest as text; empty cells last.
  function compareTerms(a, b) {
    if (!a || !b) { return a ? -1 : b ? 1 : 0; }
    var x = sortKey(a), y = sortKey(b);
    if (typeof x === "number" && typeof y === "number") { return x - y; }
    return String(x).localeCompare(String(y), undefined, { numeric: true, sensitivity: "base" });
  }
  function sortKey(t) {
    if (t.type === "uri") { return t.shownAs || state.labels[t.value] || ckb.localName(t.value); }
    var n = t.datatype && /#(integer|decimal|double|float|int|long|nonNegativeInteger|positiveInteger)$/.test(t.datatype)
      ? parseFloat(t.value) : NaN;
    return isNaN(n) ? t.value : n;
  }

  function drawPager(total) {
    var pager = $("pager"), pages = Math.max(1, Math.ceil(total / PAGE));
    pager.textContent = "";
    if (pages === 1) { return; }
    var prev = ckb.el("button", { type: "button" }, "‹ Previous"), next = ckb.el("button", { type: "button" }, "Next ›");
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
    prev.addEventListener("click", function () { state.page -= 1; drawTable(); });
    next.addEventListener("click", function () { state.page += 1; drawTable(); });
    pager.appendChild(prev);
    pager.appendChild(ckb.el("span", { className: "page-no" }, "page " + (state.page + 1) + " of " + pages +
      " (rows " + (state.page * PAGE + 1) + "–" + Math.min(total, (state.page + 1) * PAGE) + " of " + total + ")"));
    pager.appendChild(next);
  }

  /* --- graph view of CONSTRUCT / DESCRIBE answers --- */
  function graphData(triples) {
    var nodes = {}, edges = [], literals = {};
    function node(term) {
      var id = term.type === "bnode" ? "_:" + term.value : term.value;
      if (!nodes[id]) {
        nodes[id] = { id: id, iri: term.type === "uri" ? term.value : id,
                      label: term.type === "uri" ? (state.labels[term.value] || ckb.localName(term.value)) : id,
                      kind: term.type === "uri" ? "entity" : "literal" };
      }
      return id;
    }
    triples.forEach(function (t) {
      var s = node(t.s);
      if (t.o.type === "literal") {
        if (LABEL_PROPS.indexOf(t.p.value) >= 0 && !state.labels[t.s.value]) { nodes[s].label = t.o.value; }
        (literals[s] = literals[s] || []).push(ckb.localName(t.p.value) + ": " + t.o.value);
        return;
      }
      var o = node(t.o);
      if (t.p.value === RDF_TYPE) { nodes[o].kind = "class"; }
      edges.push({ source: s, target: o, iri: t.p.value, label: state.labels[t.p.value] || ckb.localName(t.p.value) });
    });
    Object.keys(literals).forEach(function (id) { nodes[id].types = literals[id].slice(0, 6); });
    return { nodes: Object.keys(nodes).map(function (k) { return nodes[k]; }), edges: edges };
  }

  function showView(which) {
    var graph = which === "graph";
    $("table-view").hidden = graph;
    $("graph-view").hidden = !graph;
    $("view-table").setAttribute("aria-selected", String(!graph));
    $("view-graph").setAttribute("aria-selected", String(graph));
    if (graph) {
      $("result-graph").textContent = "";
      $("graph-info").textContent = "Click a node to add its neighbours; double-click to open its page.";
      state.graph = ckbGraph.create($("result-graph"), $("graph-info"), { expand: ckbGraph.fetchNeighbourhood });
      state.graph.add(graphData(state.result.triples));
      window.ckbResultGraph = state.graph;
    }
  }
  $("view-table").addEventListener("click", function () { showView("table"); });
  $("view-graph").addEventListener("click", function () { if (state.result && state.result.kind === "graph") { showView("graph"); } });

  // On a phone the examples fold away above the editor.
  var examples = $("examples-fold");
  if (examples && window.matchMedia && window.matchMedia("(max-width: 900px)").matches) { examples.open = false; }

  drawHistory();
  if (cfg.autorun) { run(); }
})();
