/* The annotation form's actor boxes: suggestions from the KB's suggest service (the reconciliation
   service's /reconcile/suggest/entity) as one types; a pick keeps the actor's IRI on the box. */
(function () {
  "use strict";
  var cfg = ckb.readConfig("annotate-config");

  function picker(name, onPick) {
    var wrap = ckb.el("span", { className: "suggest-wrap ann-picker" });
    // a plain list of buttons under the box: each is reachable by Tab and says what it picks
    var input = ckb.el("input", { type: "text", name: name, autocomplete: "off" });
    var list = ckb.el("ul", { className: "suggestions", id: "ann-list-" + name, "aria-label": "matching actors" });
    input.setAttribute("aria-controls", list.id);
    list.hidden = true;
    var timer = null, seq = 0;
    function pick(iri, label) {
      input.value = label; input.setAttribute("data-iri", iri);
      list.hidden = true;
      if (onPick) { onPick(iri, label); }
    }
    input.addEventListener("input", function () {
      input.removeAttribute("data-iri");
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim(), mine = ++seq;
        if (q.length < 2) { list.hidden = true; return; }
        ckb.fetchJSON("/reconcile/suggest/entity?limit=8&prefix=" + encodeURIComponent(q)).then(function (r) {
          if (mine !== seq) { return; }
          list.textContent = "";
          r.result.forEach(function (hit) {
            var li = ckb.el("li", {});
            var b = ckb.el("button", { type: "button", className: "ann-pick", "data-iri": cfg.base + hit.id }, hit.name);
            b.addEventListener("click", function () { pick(cfg.base + hit.id, hit.name); });
            li.appendChild(b);
            var kinds = (hit.notable || []).map(function (t) { return t.name; }).join(", ");
            if (kinds) { li.appendChild(ckb.el("span", { className: "types" }, kinds)); }
            list.appendChild(li);
          });
          list.hidden = r.result.length === 0;
        }).catch(function () { list.hidden = true; });
      }, 150);
    });
    wrap.appendChild(input);
    wrap.appendChild(list);
    wrap.set = function (iri, label) { if (iri) { input.value = label || iri; input.setAttribute("data-iri", iri); } };
    wrap.iri = function () { return input.getAttribute("data-iri") || ""; };
    return wrap;
  }

  window.ckbAnnotatePicker = picker;
})();
