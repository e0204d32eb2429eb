/* The entity page's neighbourhood: the actors, events and places around the entity, each edge
   in words, a few per kind of link and "N more" for the rest (/api/neighbours); a click on a
   node adds its own, a double-click opens its page. */
(function () {
  "use strict";
  var box = document.getElementById("entity-graph");
  if (!box) { return; }
  var count = document.getElementById("graph-count");
  var root = box.getAttribute("data-iri");
  var KIND_NAMES = { actor: "actors", event: "events", place: "places" };

  /* /api/neighbours as graphview's {nodes, edges}: the rest of each kind of link is one
     "N more" node, linked with the same words. */
  function fetchNeighbours(iri) {
    return ckb.fetchJSON("/api/neighbours?iri=" + encodeURIComponent(iri)).then(function (d) {
      var nodes = d.nodes.map(function (n) {
        var kind = n.kind === "focus" ? (iri === root ? "focus" : "entity") : n.kind;
        return { id: n.id, iri: n.id, label: n.label, kind: kind, types: [KIND_NAMES[n.kind] ? n.kind : ""],
                 level: iri === root ? (n.id === root ? 3 : 2) : 1 };
      });
      var edges = d.edges.map(function (e) {
        return { source: e.source, target: e.target, iri: e.label, label: e.label };
      });
      (d.more || []).forEach(function (m, i) {
        var id = "more " + iri + " " + i;
        var words = (m.atLeast ? "at least " : "") + m.count + " more " + (KIND_NAMES[m.kind] || "");
        nodes.push({ id: id, iri: iri, label: words, kind: "more", types: [m.words], level: 1 });
        edges.push(m.outgoing ? { source: iri, target: id, iri: m.words, label: m.words }
                              : { source: id, target: iri, iri: m.words, label: m.words });
      });
      return { nodes: nodes, edges: edges };
    });
  }

  var graph = ckbGraph.create(box, document.getElementById("graph-info"), {
    expand: fetchNeighbours, fanOut: true,
    layout: { name: "concentric", animate: false, fit: true, padding: 24, minNodeSpacing: 80,
              concentric: function (n) { return n.data("level") || 1; }, levelWidth: function () { return 1; } }
  });
  // names wrap rather than end in "…": a dataset's event labels differ only at their end
  graph.cy.style().selector("node").style({ "text-wrap": "wrap", "text-max-width": 150, "font-size": 10 })
    .selector("edge").style({ "font-size": 9, "text-background-opacity": 1 }).update();
  function showCount() { count.textContent = graph.count() + " nodes"; }
  graph.cy.on("add remove", showCount);
  fetchNeighbours(root).then(function (data) {
    graph.add(data);
    graph.cy.getElementById(root).data("expanded", true);
    box.setAttribute("data-ready", "true");
    window.ckbEntityGraph = graph;  // for the browser tests and the console
    window.ckbEntityGraph.fetch = fetchNeighbours;
    showCount();
  }).catch(function (err) {
    box.textContent = "Could not load the neighbourhood: " + err.message;
  });
})();
