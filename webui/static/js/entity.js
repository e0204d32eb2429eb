/* The entity page's neighbourhood graph: starts at the entity, grows on click. */
(function () {
  "use strict";
  var box = document.getElementById("entity-graph");
  if (!box) { return; }
  var count = document.getElementById("graph-count");
  var graph = ckbGraph.create(box, document.getElementById("graph-info"), { expand: ckbGraph.fetchNeighbourhood });
  function showCount() { count.textContent = graph.count() + " nodes"; }
  graph.cy.on("add remove", showCount);
  ckbGraph.fetchNeighbourhood(box.getAttribute("data-iri")).then(function (data) {
    graph.add(data);
    graph.cy.getElementById(box.getAttribute("data-iri")).data("expanded", true);
    box.setAttribute("data-ready", "true");
    window.ckbEntityGraph = graph;  // for the browser tests and the console
    showCount();
  }).catch(function (err) {
    box.textContent = "Could not load the neighbourhood: " + err.message;
  });
})();
