/* Annotation in the reader (W3C Web Annotation selectors): with this server's update token, selecting
   words opens a form with the quote, its offsets, prefix and suffix; the claim is saved into the
   document's annotation sheet and the store at once. The token is kept for this tab only
   (sessionStorage) and sent as an Authorization header, which no cross-site form can forge. */
(function () {
  "use strict";
  var panel = document.getElementById("annotate-panel");
  var text = document.getElementById("source-text");
  if (!panel || !text) { return; }
  var cfg = ckb.readConfig("annotate-config");
  var TOKEN = "ckb-update-token", WHO = "ckb-annotator", CONTEXT = 32;
  var form = null;
  var picker = window.ckbAnnotatePicker;

  function token() { return sessionStorage.getItem(TOKEN); }

  function send(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin", body: JSON.stringify(body || {}),
      headers: { "Authorization": "Bearer " + token(), "Content-Type": "application/json",
                 "Accept": "application/json" }
    }).then(function (r) {
      if (r.ok) { return r.status === 204 ? null : r.json(); }
      return r.json().catch(function () { return {}; }).then(function (j) {
        throw new Error(j.error ? j.error.message : r.status + " " + r.statusText);
      });
    });
  }

  function field(labelText, control) {
    var wrap = ckb.el("label", { className: "ann-field" });
    wrap.appendChild(ckb.el("span", {}, labelText));
    wrap.appendChild(control);
    return wrap;
  }

  function select(name, options, value) {
    var s = ckb.el("select", { name: name });
    options.forEach(function (o) {
      var opt = ckb.el("option", { value: o[0] }, o[1]);
      if (o[0] === value) { opt.selected = true; }
      s.appendChild(opt);
    });
    return s;
  }

  /* Code-point offsets of the text nodes of the source (footnote marks and pop-ups are not text). */
  function textNodes() {
    var walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT, { acceptNode: function (n) {
      return n.parentElement.closest("sup, .hl-note") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
    } });
    var out = [], n;
    while ((n = walker.nextNode())) { out.push(n); }
    return out;
  }

  function offsetAt(nodes, container, offset) {
    var pre = document.createRange(), n = 0;
    pre.setStart(text, 0);
    pre.setEnd(container, offset);
    nodes.forEach(function (tn) {
      if (!pre.intersectsNode(tn)) { return; }
      var s = tn === pre.startContainer ? pre.startOffset : 0;
      var e = tn === pre.endContainer ? pre.endOffset : tn.data.length;
      n += Array.from(tn.data.slice(s, e)).length;
    });
    return n;
  }

  /* The selection as a TextQuoteSelector and TextPositionSelector, trimmed of white space. */
  function selected() {
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) { return null; }
    var r = sel.getRangeAt(0);
    if (!text.contains(r.commonAncestorContainer) || (form && form.contains(r.commonAncestorContainer))) { return null; }
    var nodes = textNodes();
    var chars = Array.from(nodes.map(function (t) { return t.data; }).join(""));
    var start = offsetAt(nodes, r.startContainer, r.startOffset), end = offsetAt(nodes, r.endContainer, r.endOffset);
    while (start < end && /\s/.test(chars[start])) { start++; }
    while (end > start && /\s/.test(chars[end - 1])) { end--; }
    if (end <= start) { return null; }
    return { quote: chars.slice(start, end).join(""), start: start, end: end,
             prefix: chars.slice(Math.max(0, start - CONTEXT), start).join(""),
             suffix: chars.slice(end, end + CONTEXT).join("") };
  }

  function readonly(name, value) {
    return ckb.el("input", { type: "text", name: name, value: String(value), readonly: "readonly" });
  }

  /* The claim form: for a new selection (sel) or an annotation being changed (claim). */
  function openForm(sel, claim) {
    closeForm();
    claim = claim || { kind: "report", hedge: "", hedge_text: "", chain: [], states: [], characterises: "", labels: {} };
    var st = claim.states[0] || { relation: "backs", actors: ["", ""], term: "" };
    form = ckb.el("form", { className: "ann-form", "aria-label": claim.id ? "change claim" : "new claim" });
    form.appendChild(ckb.el("h2", {}, claim.id ? "Change the claim" : "New claim"));
    var quote = ckb.el("textarea", { name: "quote", readonly: "readonly", rows: "3" });
    quote.value = sel.quote;
    form.appendChild(field("Quote", quote));
    var where = ckb.el("div", { className: "ann-row" });
    where.appendChild(field("Start", readonly("start", sel.start)));
    where.appendChild(field("End", readonly("end", sel.end)));
    form.appendChild(where);
    form.appendChild(field("Prefix", readonly("prefix", sel.prefix || "")));
    form.appendChild(field("Suffix", readonly("suffix", sel.suffix || "")));
    var kind = select("kind", cfg.kinds.map(function (k) { return [k, k]; }), claim.kind);
    form.appendChild(field("Kind", kind));
    var hedge = select("hedge", [["", "(no hedge)"]].concat(cfg.hedges.map(function (h) { return [h, h]; })), claim.hedge);
    form.appendChild(field("Hedge", hedge));
    var hedgeText = ckb.el("input", { type: "text", name: "hedge_text", value: claim.hedge_text || "" });
    form.appendChild(field("The source's word for it", hedgeText));
    // the chain: who said it first, then each who passed it on to the publisher
    var chain = claim.chain.slice(), chips = ckb.el("ol", { className: "ann-chain" });
    function drawChain() {
      chips.textContent = "";
      chain.forEach(function (iri, i) {
        var li = ckb.el("li", {}, claim.labels[iri] || iri);
        var x = ckb.el("button", { type: "button", "aria-label": "remove " + (claim.labels[iri] || iri) }, "×");
        x.addEventListener("click", function () { chain.splice(i, 1); drawChain(); });
        li.appendChild(x);
        chips.appendChild(li);
      });
    }
    var speaker = picker("speaker", function (iri, label) {
      claim.labels[iri] = label; chain.push(iri); drawChain();
      speaker.querySelector("input").value = "";
    });
    form.appendChild(field("Speaker chain: add who said it (first speaker first)", speaker));
    form.appendChild(chips);
    drawChain();
    var states = ckb.el("fieldset", { className: "ann-states" });
    states.appendChild(ckb.el("legend", {}, "What it states"));
    var relation = select("relation", cfg.relations.map(function (r) { return [r, r]; }), st.relation);
    var one = picker("actor1"), two = picker("actor2");
    one.set(st.actors[0], claim.labels[st.actors[0]]);
    two.set(st.actors[1], claim.labels[st.actors[1]]);
    var term = ckb.el("select", { name: "term" });
    states.appendChild(field("Relation", relation));
    states.appendChild(field("First actor", one));
    states.appendChild(field("Second actor", two));
    var termField = field("Kind of support / status", term);
    states.appendChild(termField);
    function drawTerm() {
      var terms = relation.value === "backs" ? cfg.supports : relation.value === "clash" ? cfg.statuses : [];
      term.textContent = "";
      [""].concat(terms).forEach(function (t) {
        var o = ckb.el("option", { value: t }, t || "(unspecified)");
        if (t === st.term) { o.selected = true; }
        term.appendChild(o);
      });
      termField.hidden = terms.length === 0;
    }
    relation.addEventListener("change", drawTerm);
    drawTerm();
    form.appendChild(states);
    var target = picker("characterises");
    target.set(claim.characterises, claim.labels[claim.characterises]);
    var targetField = field("The actor it characterises", target);
    form.appendChild(targetField);
    function drawKind() {
      var ch = kind.value === "characterisation";
      states.hidden = ch; targetField.hidden = !ch;
    }
    kind.addEventListener("change", drawKind);
    drawKind();
    var status = ckb.el("p", { className: "ann-status", role: "alert" });
    var actions = ckb.el("div", { className: "ann-actions" });
    var save = ckb.el("button", { type: "submit" }, "Save claim");
    var cancel = ckb.el("button", { type: "button" }, "Cancel");
    cancel.addEventListener("click", closeForm);
    actions.appendChild(save); actions.appendChild(cancel);
    form.appendChild(actions);
    form.appendChild(status);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = { doc: cfg.doc, quote: sel.quote, start: sel.start, prefix: sel.prefix || "", suffix: sel.suffix || "",
                   kind: kind.value, hedge: hedge.value, hedge_text: hedgeText.value, chain: chain,
                   states: kind.value === "characterisation" ? [] :
                     [{ relation: relation.value, actors: [one.iri(), two.iri()], term: term.value }],
                   characterises: kind.value === "characterisation" ? target.iri() : "" };
      save.disabled = true;
      status.textContent = "Saving…";
      var done = claim.id ? send("PUT", "/annotate/claims/" + encodeURIComponent(claim.id), body)
        : send("POST", "/annotate/claims", body);
      done.then(function () { window.location.reload(); })
        .catch(function (err) { status.textContent = err.message; save.disabled = false; });
    });
    panel.appendChild(form);
    kind.focus();
  }

  function closeForm() { if (form) { form.remove(); form = null; } }

  function withdrawForm(claim, host) {
    closeForm();
    form = ckb.el("form", { className: "ann-form", "aria-label": "withdraw claim" });
    form.appendChild(ckb.el("h2", {}, "Withdraw the claim"));
    form.appendChild(ckb.el("blockquote", {}, claim.quote));
    var reason = ckb.el("input", { type: "text", name: "reason" });
    form.appendChild(field("Why (optional)", reason));
    var status = ckb.el("p", { className: "ann-status", role: "alert" });
    var go = ckb.el("button", { type: "submit" }, "Withdraw claim");
    var cancel = ckb.el("button", { type: "button" }, "Cancel");
    cancel.addEventListener("click", closeForm);
    var actions = ckb.el("div", { className: "ann-actions" });
    actions.appendChild(go); actions.appendChild(cancel);
    form.appendChild(actions);
    form.appendChild(status);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      go.disabled = true;
      send("POST", "/annotate/claims/" + encodeURIComponent(claim.id) + "/withdraw",
           { doc: cfg.doc, by: sessionStorage.getItem(WHO) || "", reason: reason.value })
        .then(function () { window.location.reload(); })
        .catch(function (err) { status.textContent = err.message; go.disabled = false; });
    });
    (host || panel).appendChild(form);
    reason.focus();
  }

  function claimById(id) { return cfg.claims.filter(function (c) { return c.id === id; })[0]; }

  /* Each note of a claim made here gets its buttons (a click is handled once, for copies too). */
  function addButtons() {
    document.querySelectorAll(".notes li[data-annotation]").forEach(function (li) {
      var box = ckb.el("div", { className: "ann-note-actions" });
      box.appendChild(ckb.el("button", { type: "button", "data-ann": "edit", "data-claim": li.getAttribute("data-annotation") }, "Edit"));
      box.appendChild(ckb.el("button", { type: "button", "data-ann": "withdraw", "data-claim": li.getAttribute("data-annotation") }, "Withdraw"));
      li.appendChild(box);
    });
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-ann]");
    if (!b || !token()) { return; }
    var claim = claimById(b.getAttribute("data-claim"));
    if (!claim) { return; }
    if (b.getAttribute("data-ann") === "edit") {
      var chars = Array.from(textNodes().map(function (t) { return t.data; }).join(""));
      var end = claim.start + Array.from(claim.quote).length;
      openForm({ quote: claim.quote, start: claim.start, end: end,
                 prefix: chars.slice(Math.max(0, claim.start - CONTEXT), claim.start).join(""),
                 suffix: chars.slice(end, end + CONTEXT).join("") }, claim);
    } else {
      withdrawForm(claim);
    }
  });

  function onSelect() {
    if (!token()) { return; }
    var sel = selected();
    if (sel) { openForm(sel, null); }
  }
  text.addEventListener("mouseup", function () { setTimeout(onSelect, 0); });
  text.addEventListener("keyup", function (e) { if (e.shiftKey) { onSelect(); } });

  /* The panel: enter the token (checked by the server) and a name, or say who is annotating. */
  function drawPanel() {
    panel.textContent = "";
    if (token()) {
      var p = ckb.el("p", { className: "ann-on" }, "Annotating as " + (sessionStorage.getItem(WHO) || "?") +
        ": select words in the text to add a claim. ");
      var stop = ckb.el("button", { type: "button" }, "Stop annotating");
      stop.addEventListener("click", function () { sessionStorage.removeItem(TOKEN); closeForm(); drawPanel(); });
      p.appendChild(stop);
      panel.appendChild(p);
      if (!document.querySelector(".ann-note-actions")) { addButtons(); }
      return;
    }
    document.querySelectorAll(".ann-note-actions").forEach(function (n) { n.remove(); });
    var f = ckb.el("form", { className: "ann-unlock", "aria-label": "start annotating" });
    var who = ckb.el("input", { type: "text", name: "annotator", required: "required", autocomplete: "name",
                                value: sessionStorage.getItem(WHO) || "" });
    var tok = ckb.el("input", { type: "password", name: "token", required: "required", autocomplete: "off" });
    f.appendChild(field("Your name", who));
    f.appendChild(field("Update token", tok));
    f.appendChild(ckb.el("button", { type: "submit" }, "Start annotating"));
    var status = ckb.el("p", { className: "ann-status", role: "alert" });
    f.appendChild(status);
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      sessionStorage.setItem(TOKEN, tok.value);
      send("POST", "/annotate/session", {}).then(function () {
        sessionStorage.setItem(WHO, who.value.trim());
        drawPanel();
      }).catch(function (err) { sessionStorage.removeItem(TOKEN); status.textContent = err.message; });
    });
    panel.appendChild(f);
  }
  drawPanel();
})();
