/* The reader keeps its place: a click on a highlight opens its note beside the words (and marks
   it in the notes column, scrolled inside itself) instead of leaving the text. */
(function () {
  "use strict";
  var text = document.getElementById("source-text");
  if (!text) { return; }
  var notesBox = document.querySelector(".quote-notes");
  var pop = null, opener = null;

  function close(refocus) {
    if (pop) { pop.remove(); pop = null; }
    if (refocus && opener) { opener.focus({ preventScroll: true }); }
  }

  /* The note's own column scrolls to it; the window does not move. */
  function markNote(note) {
    document.querySelectorAll(".notes li.current").forEach(function (li) { li.classList.remove("current"); });
    note.classList.add("current");
    if (notesBox && notesBox.scrollHeight > notesBox.clientHeight) {
      notesBox.scrollTop += note.getBoundingClientRect().top - notesBox.getBoundingClientRect().top - 8;
    }
  }

  /* The rectangle of the highlight's line that was clicked (a highlight may span lines). */
  function lineRect(link, y) {
    var rects = Array.prototype.slice.call(link.getClientRects());
    return rects.filter(function (r) { return y >= r.top && y <= r.bottom; })[0] || rects[rects.length - 1] ||
      link.getBoundingClientRect();
  }

  function open(link, y) {
    var note = document.getElementById(link.getAttribute("data-note"));
    if (!note) { return false; }
    close(false);
    opener = link;
    markNote(note);
    pop = ckb.el("div", { className: "hl-note", role: "dialog", "aria-label": "quote " + note.getAttribute("value") });
    Array.prototype.forEach.call(note.children, function (child) {
      var copy = child.cloneNode(true);
      copy.removeAttribute("id");
      pop.appendChild(copy);
    });
    var shut = ckb.el("button", { type: "button", className: "hl-close", "aria-label": "close this note" }, "×");
    shut.addEventListener("click", function () { close(true); });
    pop.insertBefore(shut, pop.firstChild);
    text.appendChild(pop);
    var box = text.getBoundingClientRect(), rect = lineRect(link, y);
    pop.style.top = (rect.bottom - box.top + text.scrollTop + 4) + "px";
    var left = rect.left - box.left;
    pop.style.left = Math.max(0, Math.min(left, text.clientWidth - pop.offsetWidth)) + "px";
    // the address names the quote (a link to this place), without a jump
    history.replaceState(null, "", "#" + note.id);
    shut.focus({ preventScroll: true });
    return true;
  }

  text.addEventListener("click", function (e) {
    var link = e.target.closest("a.hl");
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) { return; }
    var y = e.clientY || link.getBoundingClientRect().top;
    if (open(link, y)) { e.preventDefault(); }
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && pop) { close(true); } });
  document.addEventListener("click", function (e) {
    if (pop && !pop.contains(e.target) && !e.target.closest("a.hl")) { close(false); }
  });
})();
