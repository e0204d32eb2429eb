/* A Cytoscape graph that grows: click a node to fetch and add its neighbours. */
(function () {
  "use strict";
  var STYLE = [
    { selector: "node", style: {
        "label": "data(label)", "font-size": 10, "text-wrap": "ellipsis", "text-max-width": 120,
        "text-valign": "bottom", "text-margin-y": 3, "background-color": "#2b4f8a",
        "width": 18, "height": 18, "color": "#222" } },
    { selector: "node[kind = 'focus']", style: { "background-color": "#8a2b2b", "width": 28, "height": 28, "font-weight": "bold" } },
    { selector: "node[kind = 'class']", style: { "shape": "round-rectangle", "background-color": "#6b7f3a" } },
    { selector: "node[kind = 'claim']", style: { "shape": "diamond", "background-color": "#b07a1d" } },
    { selector: "node[kind = 'literal']", style: { "shape": "rectangle", "background-color": "#bbbbbb", "width": 10, "height": 10 } },
    // the entity page's neighbourhood (js/entity.js): actors, events, places, and "N more"
    { selector: "node[kind = 'event']", style: { "shape": "round-rectangle", "background-color": "#b0601d" } },
    { selector: "node[kind = 'place']", style: { "shape": "triangle", "background-color": "#3a7f4f" } },
    { selector: "node[?expanded]", style: { "border-width": 2, "border-color": "#111" } },
    { selector: "node[kind = 'more']", style: { "shape": "rectangle", "background-color": "#d6d6d6", "width": 12,
        "height": 12, "color": "#555", "font-style": "italic", "border-width": 0 } },
    { selector: "node:selected", style: { "border-width": 3, "border-color": "#e0a800" } },
    { selector: "edge", style: {
        "label": "data(label)", "font-size": 8, "curve-style": "bezier", "target-arrow-shape": "triangle",
        "width": 1.2, "line-color": "#999", "target-arrow-color": "#999", "color": "#555",
        "text-rotation": "autorotate", "text-background-color": "#fff", "text-background-opacity": 0.8 } },
    { selector: "edge[?inferred]", style: { "line-style": "dashed", "line-color": "#7a5fb0", "target-arrow-color": "#7a5fb0" } }
  ];

  function create(container, info, options) {
    options = options || {};
    var cy = window.cytoscape({ container: container, style: STYLE,
                                minZoom: 0.2, maxZoom: 3 });
    var busy = false;

    function layout() {
      cy.layout(options.layout || { name: "cose", animate: false, randomize: false, nodeRepulsion: 9000,
                                    idealEdgeLength: 90, fit: true, padding: 20 }).run();
    }

    /* New neighbours fan out around the node they were asked for, away from the rest: the
       picture drawn so far stays as it was (options.fanOut; else the whole graph is laid out). */
    function fanOut(parent, added) {
      var p = parent.position(), box = cy.elements().not(added).boundingBox();
      var away = Math.atan2(p.y - (box.y1 + box.y2) / 2, p.x - (box.x1 + box.x2) / 2);
      var n = added.length, spread = Math.min(Math.PI * 1.4, 0.45 * n), r = 130 + 10 * n;
      added.forEach(function (node, i) {
        var a = away + (n === 1 ? 0 : spread * (i / (n - 1) - 0.5));
        node.position({ x: p.x + r * Math.cos(a), y: p.y + r * Math.sin(a) });
      });
      cy.fit(undefined, 20);
    }

    function add(data, around) {
      var before = cy.nodes().length, added = cy.collection();
      (data.nodes || []).forEach(function (n) {
        var existing = cy.getElementById(n.id);
        if (existing.nonempty()) { return; }
        added = added.union(cy.add({ group: "nodes", data: { id: n.id, label: n.label || ckb.localName(n.id),
                                         kind: n.kind || "entity", iri: n.iri || n.id, types: n.types || [],
                                         level: n.level, expanded: n.kind === "more" || undefined } }));
      });
      (data.edges || []).forEach(function (e) {
        var id = e.source + " " + e.iri + " " + e.target;
        if (cy.getElementById(id).nonempty()) { return; }
        if (cy.getElementById(e.source).empty() || cy.getElementById(e.target).empty()) { return; }
        cy.add({ group: "edges", data: { id: id, source: e.source, target: e.target,
                                         label: e.label || ckb.localName(e.iri), iri: e.iri, inferred: !!e.inferred } });
      });
      if (cy.nodes().length !== before) {
        if (around && options.fanOut) { fanOut(around, added); } else { layout(); }
      }
      container.setAttribute("data-node-count", String(cy.nodes().length));
      container.setAttribute("data-edge-count", String(cy.edges().length));
    }

    function showInfo(node) {
      if (!info) { return; }
      var iri = node.data("iri"), kind = node.data("kind");
      var html = "<strong>" + escapeText(node.data("label")) + "</strong>";
      if (kind !== "literal") {
        html += "<div class='iri-small'>" + escapeText(iri) + "</div>" +
                "<a href='" + escapeText(ckb.entityUrl(iri)) + "'>open page</a>";
      }
      var types = node.data("types") || [];
      if (types.length) { html += "<div class='muted'>" + escapeText(types.join(", ")) + "</div>"; }
      info.innerHTML = ckb.safeHtml(html);
    }

    function escapeText(s) {
      var d = document.createElement("div");
      d.textContent = String(s);
      return d.innerHTML.replace(/'/g, "&#39;").replace(/"/g, "&quot;");
    }

    cy.on("tap", "node", function (evt) {
      var node = evt.target;
      showInfo(node);
      if (!options.expand || busy || node.data("expanded") || node.data("kind") === "literal") { return; }
      busy = true;
      container.setAttribute("aria-busy", "true");
      options.expand(node.data("iri")).then(function (data) {
        node.data("expanded", true);
        add(data, node);
      }).catch(function (err) {
        if (info) { info.textContent = "Could not expand: " + err.message; }
      }).then(function () { busy = false; container.setAttribute("aria-busy", "false"); });
    });
    cy.on("dbltap", "node", function (evt) {
      if (evt.target.data("kind") !== "literal") { window.location.href = ckb.entityUrl(evt.target.data("iri")); }
    });

    return { cy: cy, add: add, count: function () { return cy.nodes().length; },
             resize: function () { cy.resize(); cy.fit(undefined, 20); } };
  }

  /* Neighbourhood of an IRI from the server, already in {nodes, edges} form. */
  var CLAIM = "https://w3id.org/conflict-kb/ontology#Claim", OWL_CLASS = "http://www.w3.org/2002/07/owl#Class";
  function fetchNeighbourhood(iri) {
    return ckb.fetchJSON("/api/neighbourhood?depth=1&iri=" + encodeURIComponent(iri)).then(function (d) {
      return {
        nodes: d.nodes.map(function (n) {
          var types = n.types || [];
          var kind = n.root && n.id === iri ? "focus" : types.indexOf(CLAIM) >= 0 ? "claim"
            : types.indexOf(OWL_CLASS) >= 0 ? "class" : "entity";
          return { id: n.id, iri: n.id, label: n.label, kind: kind, types: n.typeLabels || [] };
        }),
        edges: d.edges.map(function (e) {
          return { source: e.source, target: e.target, iri: e.predicate, label: e.label, inferred: e.inferred };
        }),
        truncated: d.truncated
      };
    });
  }

  window.ckbGraph = { create: create, fetchNeighbourhood: fetchNeighbourhood };
})();
