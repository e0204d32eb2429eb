/* A small N-Triples reader: the graph view reads CONSTRUCT/DESCRIBE answers with it. */
(function () {
  "use strict";
  var ESC = { t: "\t", b: "\b", n: "\n", r: "\r", f: "\f", '"': '"', "'": "'", "\\": "\\" };

  function unescape(s) {
    return s.replace(/\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))/g, function (_, u4, u8, c) {
      if (u4 || u8) { return String.fromCodePoint(parseInt(u4 || u8, 16)); }
      return ESC[c] !== undefined ? ESC[c] : c;
    });
  }

  var TERM = /\s*(?:<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9\-]+)|\^\^<([^>]*)>)?)/y;

  function readTerm(line, state) {
    TERM.lastIndex = state.pos;
    var m = TERM.exec(line);
    if (!m) { throw new Error("cannot read N-Triples near: " + line.slice(state.pos, state.pos + 40)); }
    state.pos = TERM.lastIndex;
    if (m[1] !== undefined) { return { type: "uri", value: unescape(m[1]) }; }
    if (m[2] !== undefined) { return { type: "bnode", value: m[2] }; }
    var t = { type: "literal", value: unescape(m[3]) };
    if (m[4]) { t.lang = m[4]; }
    if (m[5]) { t.datatype = unescape(m[5]); }
    return t;
  }

  function parse(text) {
    var triples = [];
    text.split(/\r?\n/).forEach(function (line) {
      var trimmed = line.trim();
      if (!trimmed || trimmed[0] === "#") { return; }
      var state = { pos: 0 };
      var s = readTerm(line, state), p = readTerm(line, state), o = readTerm(line, state);
      triples.push({ s: s, p: p, o: o });
    });
    return triples;
  }

  window.ckbNTriples = { parse: parse };
})();
