/* The map: server-side clusters sized by deaths over the vendored world outline (no tiles), the events
   in view in a table that scrolls inside itself, approximate areas only when asked. Text only, never HTML. */
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box) { return; }
  var el = ckb.el;
  var map = L.map(box, { worldCopyJump: true, attributionControl: false, minZoom: 1 }).setView([20, 40], 2);
  map.createPane("world").style.zIndex = 350;  // under the areas and the clusters, whenever it arrives
  var clusterLayer = L.layerGroup().addTo(map), areaLayer = L.layerGroup().addTo(map);
  var areasBox = document.getElementById("show-areas");
  var table = document.getElementById("located"), count = document.getElementById("in-view-count");
  var more = document.getElementById("in-view-more");
  var shown = [], seq = 0;

  function query(extra) {
    var q = new URLSearchParams(box.getAttribute("data-filters") || "");
    Object.keys(extra).forEach(function (k) { q.set(k, extra[k]); });
    return q.toString();
  }

  function bbox() {
    var b = map.getBounds();
    return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()].map(function (v) { return v.toFixed(4); }).join(",");
  }

  /* Circle area grows with the deaths; a cluster with none is still visible. */
  function radius(dead) { return Math.min(42, 7 + 2.4 * Math.sqrt(dead)); }

  function drawClusters(data) {
    clusterLayer.clearLayers();
    data.clusters.forEach(function (c) {
      var single = c.count === 1;
      var size = 2 * radius(c.fatalities);
      var label = el("span", { className: "cluster-count" }, single ? "" : c.count);
      var marker = L.marker([c.lat, c.lon], { icon: L.divIcon({
        html: label, className: "cluster" + (single ? " single" : "") + (c.fatalities ? "" : " no-deaths"),
        iconSize: [size, size] }), keyboard: false, title: "" });
      var tip = el("div");
      (single && c.label ? [c.label, c.when, c.deathsText] : [c.count + " events", c.deathsText]).forEach(function (line) {
        if (line) { tip.appendChild(el("div", {}, line)); }
      });
      marker.bindTooltip(tip);
      marker.on("click", function () {
        if (single && c.url) { window.location.href = c.url; return; }
        map.setView([c.lat, c.lon], Math.min(map.getZoom() + 2, 16));
      });
      clusterLayer.addLayer(marker);
    });
    box.setAttribute("data-clusters", String(data.clusters.length));
    box.setAttribute("data-events", String(data.total));
  }

  function drawAreas() {
    areaLayer.clearLayers();
    if (!areasBox || !areasBox.checked) { return; }
    shown.forEach(function (e) {
      if (!e.approximate || !e.radiusKm) { return; }
      areaLayer.addLayer(L.circle([e.lat, e.lon], { radius: e.radiusKm * 1000, color: "#c0392b", weight: 1,
        dashArray: "4 3", fillOpacity: 0.05, interactive: false }));
    });
  }

  function fillTable(data) {
    var body = table.tBodies[0];
    body.textContent = "";
    data.events.forEach(function (e) {
      var tr = el("tr"), a = el("a", { href: e.url }, e.label), first = el("td");
      first.appendChild(a);
      tr.appendChild(first);
      [e.when, e.kind, e.place, e.precisionText, e.deathsText, e.actors.join(", ")].forEach(function (v) {
        tr.appendChild(el("td", {}, v || "—"));
      });
      body.appendChild(tr);
    });
    if (!data.events.length) {
      var td = el("td", { colspan: "7", className: "muted" }, "No located events in view.");
      var tr = el("tr"); tr.appendChild(td); body.appendChild(tr);
    }
    count.textContent = data.totalText;
    more.textContent = data.events.length < data.total
      ? "The table lists the latest " + data.events.length + " in view." : "";
    shown = data.events;
    drawAreas();
  }

  function refresh() {
    var mine = ++seq, view = { bbox: bbox(), zoom: String(map.getZoom()) };
    box.setAttribute("aria-busy", "true");
    Promise.all([ckb.fetchJSON(box.getAttribute("data-clusters-src") + "?" + query(view)),
                 ckb.fetchJSON(box.getAttribute("data-events-src") + "?" + query(view))])
      .then(function (got) {
        if (mine !== seq) { return; }  // a later move already asked again
        drawClusters(got[0]);
        fillTable(got[1]);
        box.setAttribute("aria-busy", "false");
        box.setAttribute("data-ready", "true");
      })
      .catch(function (err) { count.textContent = "could not load: " + err.message; });
  }

  ckb.fetchJSON(box.getAttribute("data-world")).then(function (world) {
    L.geoJSON(topojson.feature(world, world.objects.countries), {
      style: { color: "#8a8f98", weight: 0.6, fillColor: "#eef0f3", fillOpacity: 1 }, interactive: false,
      pane: "world"
    }).addTo(map);
    box.setAttribute("data-world-drawn", "true");
  }).catch(function (err) { box.setAttribute("data-world-error", err.message); });

  var bounds = (box.getAttribute("data-bounds") || "").split(",").map(Number);
  if (bounds.length === 4 && bounds.every(isFinite)) {
    map.fitBounds([[bounds[0], bounds[1]], [bounds[2], bounds[3]]], { padding: [20, 20], maxZoom: 9, animate: false });
  }
  map.on("moveend", refresh);
  refresh();
  if (areasBox) { areasBox.addEventListener("change", drawAreas); }
  window.ckbMap = map;
})();
