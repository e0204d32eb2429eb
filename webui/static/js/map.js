/* Draw located events with Leaflet over the vendored world outline; no tile layer, labels as text only. */
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box) { return; }
  var map = L.map(box, { worldCopyJump: true, attributionControl: false }).setView([20, 40], 2);
  Promise.all([ckb.fetchJSON(box.getAttribute("data-world")), ckb.fetchJSON(box.getAttribute("data-src"))])
    .then(function (got) {
      var world = got[0], data = got[1];
      L.geoJSON(topojson.feature(world, world.objects.countries), {
        style: { color: "#8a8f98", weight: 0.6, fillColor: "#eef0f3", fillOpacity: 1 }, interactive: false
      }).addTo(map);
      var layers = [];
      data.events.forEach(function (e) {
        var style = e.approximate
          ? { color: "#c0392b", weight: 1, dashArray: "4 3", fillOpacity: 0.08 }
          : { color: "#1f5fa8", weight: 1, fillOpacity: 0.7 };
        var shape = e.approximate && e.radiusKm > 0
          ? L.circle([e.lat, e.lon], Object.assign({ radius: e.radiusKm * 1000 }, style))
          : L.circleMarker([e.lat, e.lon], Object.assign({ radius: 4 }, style));
        // the tooltip is built from text nodes, never from HTML
        var tip = document.createElement("div");
        [e.label, e.kind + ", " + (e.start === e.end ? e.start : e.start + " to " + e.end),
         "location: " + e.precision + (e.approximate ? " (approximate, ~" + e.radiusKm + " km)" : ""),
         e.actors.join(", ")].forEach(function (line) {
          var p = document.createElement("div"); p.textContent = line; tip.appendChild(p);
        });
        shape.bindTooltip(tip);
        shape.on("click", function () { window.location.href = e.url; });
        shape.addTo(map);
        layers.push(shape);
      });
      if (layers.length) { map.fitBounds(L.featureGroup(layers).getBounds().pad(0.3), { maxZoom: 7 }); }
      box.setAttribute("data-events", String(data.events.length));
    })
    .catch(function (err) { box.textContent = "Could not load the map: " + err.message; });
})();
