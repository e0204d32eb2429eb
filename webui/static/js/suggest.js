/* Search-as-you-type suggestions for inputs marked data-suggest (JSON from /api/search). */
(function () {
  "use strict";
  function attach(input) {
    var list = document.getElementById(input.getAttribute("data-suggest-list"));
    // every page loads this script once (base.html); a box is never wired twice
    if (!list || input.getAttribute("data-suggest-ready")) { return; }
    input.setAttribute("data-suggest-ready", "true");
    var timer = null, active = -1, seq = 0;

    function clear() { list.textContent = ""; list.hidden = true; active = -1; }

    function render(hits) {
      list.textContent = "";
      hits.forEach(function (h, i) {
        var li = ckb.el("li", { role: "option", id: list.id + "-" + i });
        var a = ckb.el("a", { href: h.url }, h.label);
        li.appendChild(a);
        if (h.types && h.types.length) { li.appendChild(ckb.el("span", { className: "types" }, h.types.join(", "))); }
        if (h.matched && h.matched !== h.label) { li.appendChild(ckb.el("span", { className: "muted" }, "“" + h.matched + "”")); }
        list.appendChild(li);
      });
      list.hidden = hits.length === 0;
    }

    function lookup() {
      var q = input.value.trim();
      if (q.length < 2) { clear(); return; }
      var mine = ++seq;
      ckb.fetchJSON(input.getAttribute("data-suggest") + "?limit=8&q=" + encodeURIComponent(q))
        .then(function (hits) { if (mine === seq) { render(hits); } })
        .catch(function () { clear(); });
    }

    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(lookup, 150); });
    input.addEventListener("keydown", function (e) {
      var items = list.querySelectorAll("li");
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (!items.length) { return; }
        e.preventDefault();
        active = (active + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        items.forEach(function (li, i) { li.classList.toggle("active", i === active); });
        input.setAttribute("aria-activedescendant", items[active].id);
      } else if (e.key === "Enter" && active >= 0 && items[active]) {
        e.preventDefault();
        window.location.href = items[active].querySelector("a").getAttribute("href");
      } else if (e.key === "Escape") { clear(); }
    });
    document.addEventListener("click", function (e) { if (!list.contains(e.target) && e.target !== input) { clear(); } });
  }
  document.querySelectorAll("input[data-suggest]").forEach(attach);
})();
