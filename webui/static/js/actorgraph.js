/* The actor graph: relations as labelled, directed, typed arrows; click an arrow for its evidence. */
(function () {
  "use strict";
  var box = document.getElementById("actor-graph");
  var dataEl = document.getElementById("actor-graph-data");
  if (!box || !dataEl || !window.cytoscape) { return; }
  var data = JSON.parse(dataEl.textContent);
  // One colour per relation type; the legend swatches in app.css use the same colours.
  var COLOURS = { "backs": "#1f6f43", "allied": "#2b4f8a", "rival": "#a3302b", "fought": "#b35c00", "attacked": "#8a1c1c",
                  "member-of": "#6a4fa3", "unit-of": "#4d5560", "leads": "#7a5a00", "loyal-to": "#00737a" };
  var UNDIRECTED = { "allied": true, "rival": true, "fought": true };
  var small = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
  // On a phone the filters fold away so that the graph starts on the first screen.
  var fold = document.getElementById("actor-filters-fold");
  if (fold && small) { fold.open = false; }
  var elements = data.nodes.map(function (n) {
    return { group: "nodes", data: { id: n.id, label: n.label, url: n.url } };
  }).concat(data.edges.map(function (e) {
    return { group: "edges", data: Object.assign({}, e, { colour: COLOURS[e.group] || "#555",
      arrow: UNDIRECTED[e.group] ? "none" : "triangle" }) };
  }));
  var cy = window.cytoscape({
    container: box, elements: elements, minZoom: 0.3, maxZoom: 2.5, wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: { "label": "data(label)", "font-size": small ? 13 : 11, "text-wrap": "wrap",
          "text-max-width": small ? 110 : 140, "text-valign": "bottom", "text-margin-y": 4, "width": 16, "height": 16,
          "background-color": "#20242c", "color": "#1d1f23", "text-background-color": "#fff",
          "text-background-opacity": 0.85, "text-background-padding": 1 } },
      { selector: "edge", style: { "label": "data(label)", "font-size": small ? 11 : 9, "curve-style": "bezier",
          "width": 2, "line-color": "data(colour)", "target-arrow-color": "data(colour)",
          "target-arrow-shape": "data(arrow)", "color": "data(colour)", "text-rotation": "autorotate",
          "text-background-color": "#fff", "text-background-opacity": 0.9, "text-background-padding": 1 } },
      { selector: "edge[?anonymousOnly]", style: { "line-style": "dashed" } },
      { selector: "edge:selected", style: { "width": 4 } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#e0a800" } }
    ]
  });
  // The vendored fcose layout keeps labels apart; cose (built in) is the fallback.
  if (window.cytoscapeFcose) {
    try { window.cytoscape.use(window.cytoscapeFcose); } catch (e) { /* already registered */ }
  }
  var hasFcose = false;
  try { hasFcose = !!window.cytoscape("layout", "fcose"); } catch (e) { hasFcose = false; }
  cy.layout(hasFcose
    ? { name: "fcose", animate: false, randomize: true, quality: "proof", nodeRepulsion: small ? 25000 : 60000,
        idealEdgeLength: small ? 95 : 190, nodeSeparation: small ? 110 : 160, edgeElasticity: 0.3, fit: false }
    : { name: "cose", animate: false, randomize: false, nodeRepulsion: 14000, idealEdgeLength: 120,
        fit: false }).run();
  fitToBox();
  box.setAttribute("data-layout", hasFcose ? "fcose" : "cose");

  // The layout has no notion of the box's shape: turn a wide drawing upright in a tall box (a phone)
  // and a tall one flat in a wide box, then stretch what is left of the difference (at most 1.4
  // times each way), so that fitting it shrinks the labels less. A few nodes are not blown up to
  // giant labels: the fitted zoom stops at 1.25.
  function fitToBox() {
    var bb = cy.nodes().boundingBox();
    var cx = bb.x1 + bb.w / 2, cy0 = bb.y1 + bb.h / 2;
    var box = cy.width() / cy.height(), drawing = Math.max(bb.w, 1) / Math.max(bb.h, 1);
    var turn = (box > 1) !== (drawing > 1);
    if (turn) { drawing = 1 / drawing; }
    var s = Math.min(1.4, Math.max(1 / 1.4, Math.sqrt(box / drawing)));
    cy.nodes().positions(function (n) {
      var p = n.position(), dx = p.x - cx, dy = p.y - cy0;
      return turn ? { x: cx + dy * s, y: cy0 - dx / s } : { x: cx + dx * s, y: cy0 + dy / s };
    });
    cy.fit(undefined, small ? 12 : 24);
    if (cy.zoom() > 1.25) { cy.zoom(1.25); cy.center(); }
  }

  var info = document.getElementById("edge-info");
  function line(parent, label, text) {
    if (!text) { return; }
    var p = document.createElement("p");
    var k = document.createElement("span"); k.className = "k"; k.textContent = label + " ";
    p.appendChild(k); p.appendChild(document.createTextNode(text)); parent.appendChild(p);
  }
  function link(parent, href, text) {
    var a = document.createElement("a"); a.href = href; a.textContent = text; parent.appendChild(a);
    return a;
  }
  cy.on("tap", "edge", function (evt) {
    var d = evt.target.data();
    info.textContent = "";
    var h = document.createElement("h3");
    h.textContent = cy.getElementById(d.source).data("label") + " " + d.label + " " +
                    cy.getElementById(d.target).data("label");
    info.appendChild(h);
    line(info, "relation", d.relation + (d.detail ? " (" + d.detail + ")" : ""));
    line(info, "when", d.time);
    line(info, "hedge", (d.hedges || []).join(", "));
    line(info, "according to", (d.according || []).join(", ") || (d.ownVoiceOnly ? "the article itself" : ""));
    if (d.anonymousOnly) { line(info, "note", "rests only on anonymous or unnamed sources"); }
    var p = document.createElement("p");
    link(p, d.claimsUrl, d.claims + (d.claims === 1 ? " claim" : " claims"));
    p.appendChild(document.createTextNode(" · "));
    link(p, d.relationUrl, "the relation's page");
    info.appendChild(p);
  });
  cy.on("dbltap", "node", function (evt) { window.location.href = evt.target.data("url"); });
  cy.on("tap", "node", function (evt) {
    info.textContent = "";
    var h = document.createElement("h3"); h.textContent = evt.target.data("label"); info.appendChild(h);
    link(info, evt.target.data("url"), "open its page (or double-click the node)");
  });
  box.setAttribute("data-ready", "true");
  window.ckbActorGraph = cy;  // for the browser tests and the console
})();
