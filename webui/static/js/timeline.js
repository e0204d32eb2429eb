/* Draw dated items with vis-timeline; labels are text, never HTML. */
(function () {
  "use strict";
  var box = document.getElementById("timeline");
  if (!box) { return; }
  ckb.fetchJSON(box.getAttribute("data-src")).then(function (data) {
    if (!data.items.length) { box.textContent = "No dated items to draw."; return; }
    var items = new vis.DataSet(data.items.map(function (it) {
      var content = document.createElement("span");  // an element: vis inserts it, no HTML parsing
      content.textContent = it.content;
      return { id: it.id, content: content, start: it.start, end: it.end, type: "range",
               group: it.group, className: it.className, url: it.url, title: ckb.safeHtml(escape(it.title)) };
    }));
    var groups = new vis.DataSet([{ id: "events", content: "Events" }, { id: "relations", content: "Dated relations" }]
      .filter(function (g) { return data.items.some(function (it) { return it.group === g.id; }); }));
    // Open the window on all items with some margin, so short ranges are not zoomed to days.
    var first = Math.min.apply(null, data.items.map(function (it) { return Date.parse(it.start); }));
    var last = Math.max.apply(null, data.items.map(function (it) { return Date.parse(it.end); }));
    var pad = Math.max((last - first) * 0.15, 90 * 864e5);
    var timeline = new vis.Timeline(box, items, groups, {
      stack: true, zoomKey: "ctrlKey", orientation: "top", margin: { item: 6 },
      maxHeight: 560, verticalScroll: true,  // many items scroll inside the box, not down the page
      start: new Date(first - pad), end: new Date(last + pad)
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
