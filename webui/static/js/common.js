/* Shared helpers for every page. No inline scripts anywhere: CSP forbids them. */
(function () {
  "use strict";
  var ID_BASE = "https://w3id.org/conflict-kb/id/";

  /* The page URL of an entity: /id/<local> for our own individuals, /entity?iri= otherwise. */
  function entityUrl(iri) {
    if (iri.indexOf(ID_BASE) === 0 && /^[A-Za-z0-9._~\-\/]+$/.test(iri.slice(ID_BASE.length))) {
      return "/id/" + iri.slice(ID_BASE.length);
    }
    return "/entity?iri=" + encodeURIComponent(iri);
  }

  /* A short form of an IRI: its local name. */
  function localName(iri) {
    var m = /[#\/]([^#\/]+)[#\/]?$/.exec(iri);
    return m ? m[1] : iri;
  }

  /* Any HTML built from data goes through DOMPurify before it reaches the page. */
  function safeHtml(html) {
    if (!window.DOMPurify) { throw new Error("DOMPurify is not loaded"); }
    return window.DOMPurify.sanitize(html, { ALLOWED_URI_REGEXP: /^(?:https?:|\/(?!\/)|#)/i });
  }

  /* document.createElement with text (never HTML) and attributes. */
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "className") { node.className = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function fetchJSON(url, options) {
    return fetch(url, options || {}).then(function (r) {
      if (!r.ok) {
        return r.text().then(function (t) { throw new Error((t || r.statusText).trim()); });
      }
      return r.json();
    });
  }

  /* Labels for many IRIs at once (POST, so long lists fit). */
  function labels(iris) {
    if (!iris.length) { return Promise.resolve({}); }
    return fetchJSON("/api/labels", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ iris: iris })
    });
  }

  function readConfig(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  }

  window.ckb = { entityUrl: entityUrl, localName: localName, safeHtml: safeHtml, el: el,
                 fetchJSON: fetchJSON, labels: labels, readConfig: readConfig, ID_BASE: ID_BASE };
})();
