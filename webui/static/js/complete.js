/* Editor completion from this server's /api/complete (never prefix.cc or LOV), by context:
   PREFIX lines; after `a` a class; in a predicate position the properties of the subject's
   classes (as the query states them: `?x a ckb:Clash . ?x `); a bare word an entity by label. */
(function () {
  "use strict";
  var ENDPOINT = "/api/complete", LIMIT = 30;
  var LOCAL = /^[A-Za-z_][\w.-]*$/;
  // Bare words that begin SPARQL keywords and functions: typed in capitals they are not labels.
  var KEYWORDS = ("SELECT WHERE FILTER OPTIONAL UNION MINUS BIND VALUES GRAPH SERVICE PREFIX BASE " +
    "DISTINCT REDUCED ORDER GROUP HAVING LIMIT OFFSET CONSTRUCT DESCRIBE ASK FROM NAMED NOT EXISTS " +
    "STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT STRLEN UCASE " +
    "LCASE CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER REGEX REPLACE YEAR MONTH DAY COUNT SUM MIN MAX " +
    "AVG SAMPLE GROUP_CONCAT SEPARATOR COALESCE IF IN AS BY ASC DESC TRUE FALSE").split(" ");
  var CONTROL = /^(FILTER|OPTIONAL|UNION|MINUS|BIND|VALUES|GRAPH|SERVICE|SELECT|WHERE)$/i;

  function fetchJSON(params) {
    var q = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      [].concat(params[k]).forEach(function (v) { q.append(k, v); });
    });
    q.set("limit", String(LIMIT));
    return fetch(ENDPOINT + "?" + q.toString(), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .catch(function () { return { results: [] }; });
  }

  // The query's own PREFIX lines over the KB's table (the engine predeclares the KB's).
  function prefixes(yasqe, kbPrefixes) {
    return Object.assign({}, kbPrefixes, yasqe.getPrefixesFromQuery());
  }

  // Typed text as the server reads it: a prefixed name the KB does not know becomes its IRI.
  function expand(text, yasqe, kbPrefixes) {
    var m = /^([A-Za-z][\w.-]*)?:(.*)$/.exec(text);
    if (text.charAt(0) === "<") { return text.replace(/^<|>$/g, ""); }
    if (!m) { return text; }
    var declared = yasqe.getPrefixesFromQuery()[m[1] || ""];
    return declared && declared !== kbPrefixes[m[1] || ""] ? declared + m[2] : text;
  }

  // How the query can write an IRI: with one of its own prefixes, the KB's, or in <...>.
  function written(iri, fallback, yasqe, kbPrefixes) {
    var own = yasqe.getPrefixesFromQuery();
    var names = Object.keys(own).concat(Object.keys(kbPrefixes).filter(function (p) { return !(p in own); }));
    for (var i = 0; i < names.length; i++) {
      var ns = own[names[i]] || kbPrefixes[names[i]];
      if (iri.indexOf(ns) === 0 && LOCAL.test(iri.slice(ns.length))) { return names[i] + ":" + iri.slice(ns.length); }
    }
    return fallback.charAt(0) === "<" ? fallback : "<" + iri + ">";
  }

  /* A small reader of the triple patterns before the cursor: which subject the predicate being
     typed belongs to, and which classes the query gives that subject with `a` / rdf:type. */
  var TOKEN = /<[^>\s]*>|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|#[^\n]*|[?$][\w]+|[A-Za-z_][\w.-]*:[^\s.;,(){}\[\]]*|:[^\s.;,(){}\[\]]*|[\w-]+|[.;,(){}\[\]]|\S/g;
  function subjectAndClasses(before, yasqe, kbPrefixes) {
    var toks = before.match(TOKEN) || [], depth = 0, role = "s", subject = null, pred = null;
    var types = {}, ns = prefixes(yasqe, kbPrefixes);
    function iri(t) {
      if (t.charAt(0) === "<") { return t.slice(1, -1); }
      var m = /^([A-Za-z][\w.-]*)?:(.*)$/.exec(t);
      return m && ns[m[1] || ""] !== undefined ? ns[m[1] || ""] + m[2] : null;
    }
    toks.forEach(function (t) {
      if (t.charAt(0) === "#") { return; }
      if (t === "(") { depth += 1; return; }
      if (t === ")") { depth = Math.max(0, depth - 1); if (!depth) { role = "s"; } return; }
      if (depth) { return; }
      if (t === "{" || t === "}" || t === ".") { role = "s"; return; }
      if (t === ";") { role = "p"; return; }
      if (t === ",") { role = "o"; return; }
      if (CONTROL.test(t) || /^PREFIX$/i.test(t)) { role = "s"; return; }
      if (role === "s") { subject = t; role = "p"; } else if (role === "p") { pred = t; role = "o"; } else {
        var isType = pred === "a" || iri(pred) === "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
        var cls = isType && iri(t);
        if (cls) { (types[subject] = types[subject] || []).push(cls); }
        role = "done";
      }
    });
    return { subject: role === "p" ? subject : null, classes: role === "p" ? (types[subject] || []).slice(0, 8) : [] };
  }

  function textBefore(yasqe, token) {
    var cur = yasqe.getDoc().getCursor();
    return yasqe.getDoc().getRange({ line: 0, ch: 0 }, { line: cur.line, ch: token.start });
  }

  /* Suggestions shown with their label and why they are offered; the editor inserts `text`. */
  function hinter(shown) {
    return function (yasqe, hints) {
      return hints.map(function (h) {
        var item = shown[h.text];
        if (item) {
          h.displayText = h.text + "  —  " + item.label + (item.detail ? " (" + item.detail + ")" : "");
          h.className = "ckb-hint ckb-hint-" + item.kind;
        }
        return h;
      });
    };
  }

  function install(Yasqe, cfg) {
    var kbPrefixes = cfg.prefixes || {};
    function remote(kind, params, yasqe, shown) {
      return fetchJSON(Object.assign({ kind: kind }, params)).then(function (answer) {
        Object.keys(shown).forEach(function (k) { delete shown[k]; });
        return (answer.results || []).map(function (r) {
          var text = kind === "prefix" ? r.label + ": <" + r.iri + ">" : written(r.iri, r.text, yasqe, kbPrefixes);
          shown[text] = { label: r.label, detail: r.detail, kind: kind };
          return text;
        });
      });
    }
    Yasqe.forkAutocompleter("prefixes", { name: "kbPrefixes", persistenceId: null,
      get: function (yasqe) { return remote("prefix", { q: "" }, yasqe, {}); } }, false);

    var classShown = {};
    Yasqe.forkAutocompleter("class", { name: "kbClass", bulk: false, autoShow: true, persistenceId: null,
      preProcessToken: function (yasqe, token) { return token; },
      postProcessSuggestion: function (yasqe, token, s) { return s; },
      postprocessHints: hinter(classShown),
      get: function (yasqe, token) {
        return remote("class", { q: expand(token.string.trim(), yasqe, kbPrefixes) }, yasqe, classShown);
      } }, false);

    var propShown = {};
    Yasqe.forkAutocompleter("property", { name: "kbProperty", bulk: false, autoShow: true, persistenceId: null,
      preProcessToken: function (yasqe, token) { return token; },
      postProcessSuggestion: function (yasqe, token, s) { return s; },
      postprocessHints: hinter(propShown),
      get: function (yasqe, token) {
        var ctx = subjectAndClasses(textBefore(yasqe, token), yasqe, kbPrefixes);
        return remote("property", { q: expand(token.string.trim(), yasqe, kbPrefixes), "class": ctx.classes },
                      yasqe, propShown);
      } }, false);

    var entityShown = {};
    Yasqe.registerAutocompleter({ name: "kbEntity", bulk: false, autoShow: true, persistenceId: null,
      isValidCompletionPosition: function (yasqe) { return entityWord(yasqe) !== null; },
      postprocessHints: hinter(entityShown),
      get: function (yasqe, token) { return remote("entity", { q: token.string.trim() }, yasqe, entityShown); }
    }, false);

    // lodash merges arrays index by index, so the defaults list itself must be replaced.
    Yasqe.defaults.autocompleters = ["variables", "kbPrefixes", "kbClass", "kbProperty", "kbEntity"];
    Yasqe.defaults.prefixCcApi = null;
  }

  /* A bare word being typed where a subject or object goes: a label to look up. Not after `a`
     (a class goes there), not a prefixed name, variable, literal or keyword. */
  function entityWord(yasqe) {
    var token = yasqe.getCompleteToken(), word = token.string;
    if (!/^[^\W\d_][\w-]+$/.test(word) || token.type === "string" || token.type === "keyword") { return null; }
    if (word === word.toUpperCase() && KEYWORDS.some(function (k) { return k.indexOf(word) === 0; })) { return null; }
    var before = textBefore(yasqe, token);
    var open = (before.match(/\{/g) || []).length - (before.match(/\}/g) || []).length;
    if (open <= 0) { return null; }
    var prev = yasqe.getPreviousNonWsToken(yasqe.getDoc().getCursor().line, token);
    if (prev && (prev.string === "a" || prev.string === "rdf:type" || prev.string === "(")) { return null; }
    // a predicate position (after a subject, or after `;`) takes a property, not an entity
    return subjectAndClasses(before, yasqe, {}).subject === null ? word : null;
  }

  window.ckbComplete = { install: install, subjectAndClasses: subjectAndClasses };
})();
