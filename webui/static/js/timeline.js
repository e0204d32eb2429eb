/* Draw dated items with vis-timeline; labels are text, never HTML. */
(function () {
  "use strict";
  var box = document.getElementById("timeline");
  if (!box) { return; }
  ckb.fetchJSON(box.getAttribute("data-src")).then(function (data) {
    if (!data.items.length) { box.textContent = "No dated items to draw."; return; }
    // Open the window on the dates asked for, else on all items with some margin.
    var first = Math.min.apply(null, data.items.map(function (it) { return Date.parse(it.start); }));
    var last = Math.max.apply(null, data.items.map(function (it) { return Date.parse(it.end); }));
    var pad = Math.max((last - first) * 0.15, 90 * 864e5);
    var from = Date.parse(box.getAttribute("data-from") || ""), to = Date.parse(box.getAttribute("data-to") || "");
    var start = isFinite(from) ? from - 2 * 864e5 : first - pad, end = isFinite(to) ? to + 3 * 864e5 : last + pad;
    var items = new vis.DataSet(data.items.map(function (it) {
      var content = document.createElement("span");  // an element: vis inserts it, no HTML parsing
      content.textContent = it.content;
      // an item too short to hold its label is a point with the label beside it, not a sliver
      var short = Date.parse(it.end) - Date.parse(it.start) < (end - start) / 12 && it.className.indexOf("open-") < 0;
      return { id: it.id, content: content, start: it.start, end: short ? undefined : it.end,
               type: short ? "point" : "range", group: it.group, className: it.className, url: it.url,
               title: ckb.safeHtml(escape(it.title)) };
    }));
    var groups = new vis.DataSet([{ id: "events", content: "Events" }, { id: "relations", content: "Dated relations" }]
      .filter(function (g) { return data.items.some(function (it) { return it.group === g.id; }); }));
    var timeline = new vis.Timeline(box, items, groups, {
      stack: true, zoomKey: "ctrlKey", orientation: "top", margin: { item: 6 },
      maxHeight: 560, verticalScroll: true,  // many items scroll inside the box, not down the page
      start: new Date(start), end: new Date(end)
    });
    timeline.on("select", function (props) {
      var it = props.items.length ? items.get(props.items[0]) : null;
      if (it && it.url) { window.location.href = it.url; }
    });
    box.setAttribute("data-items", String(data.items.length));
    window.ckbTimeline = timeline;
  }).catch(function (err) { box.textContent = "Could not load the timeline: " + err.message; });

  function escape(s) {
    var d = document.createElement("div");
    d.textContent = s;
    return d.innerHTML;
  }
})();
