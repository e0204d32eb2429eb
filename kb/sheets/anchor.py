"""Placing a quote in its text (W3C Web Annotation selectors): the exact words, narrowed by prefix,
suffix or occurrence; a recorded start is checked, and a quote that moved is reported, never shifted
silently."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

CONTEXT = 32  # characters of prefix and suffix computed for a TextQuoteSelector


@dataclass(frozen=True)
class Anchor:
    """Where a quote was placed: code-point offsets (end exclusive) and its computed context."""

    start: int
    end: int
    prefix: str
    suffix: str
    moved_from: int | None = None  # the recorded start, when the text changed under it


class Unplaced(Exception):
    """The quote cannot be placed; the message says why and shows candidates or offsets."""


def occurrences(text: str, exact: str) -> list[int]:
    """Every start offset of ``exact`` in ``text`` (overlapping ones too)."""
    found, i = [], text.find(exact)
    while i >= 0:
        found.append(i)
        i = text.find(exact, i + 1)
    return found


def place(text: str, exact: str, prefix: str | None = None, suffix: str | None = None,
          occurrence: int | None = None, start: int | None = None,
          context: tuple[str, str] | None = None) -> Anchor:
    """Place ``exact`` in ``text`` by its selectors; raise Unplaced when it is missing or ambiguous.

    ``start`` and ``context`` (the prefix and suffix recorded at the last import) settle a repeated
    quote: the recorded position if the quote is still there, else the one whose surroundings are
    clearly the most like the recorded ones."""
    if not exact:
        raise Unplaced("the quote is empty")
    hits = occurrences(text, exact)
    if not hits:
        raise Unplaced(f"quote not in the text; nearest: {nearest(text, exact)}")
    if prefix:
        hits = [h for h in hits if text[:h].endswith(prefix)]
    if suffix:
        hits = [h for h in hits if text[h + len(exact):].startswith(suffix)]
    if not hits:
        raise Unplaced("the quote is in the text, but not after its prefix / before its suffix; "
                       f"found at {_offsets(occurrences(text, exact))}")
    if occurrence is not None:
        if not 1 <= occurrence <= len(hits):
            raise Unplaced(f"occurrence {occurrence}, but the quote is found {len(hits)} time(s)")
        hits = [hits[occurrence - 1]]
    if len(hits) > 1:
        if start is not None and start in hits:
            hits = [start]  # the recorded position settles it, as a TextPositionSelector does
        elif context is not None and (best := _by_context(text, exact, hits, context)) is not None:
            hits = [best]
        else:
            raise Unplaced(f"quote found {len(hits)} times, at {_offsets(hits)}; "
                           "add prefix: or occurrence: to say which")
    h = hits[0]
    end = h + len(exact)
    return Anchor(h, end, text[max(0, h - CONTEXT):h], text[end:end + CONTEXT],
                  moved_from=start if start is not None and start != h else None)


def _by_context(text: str, exact: str, hits: list[int], context: tuple[str, str]) -> int | None:
    """The hit whose surroundings match the recorded prefix and suffix best, if clearly the best."""
    before, after = context

    def score(h: int) -> float:
        e = h + len(exact)
        return (difflib.SequenceMatcher(None, before, text[max(0, h - len(before)):h]).ratio()
                + difflib.SequenceMatcher(None, after, text[e:e + len(after)]).ratio())

    ranked = sorted(((score(h), h) for h in hits), reverse=True)
    # clearly: most of the recorded context is still there, and no other place comes close
    if ranked[0][0] >= 1.5 and ranked[0][0] - ranked[1][0] >= 0.3:
        return ranked[0][1]
    return None


def _offsets(hits: list[int]) -> str:
    return ", ".join(str(h) for h in hits[:8]) + (" ..." if len(hits) > 8 else "")


def nearest(text: str, exact: str, shown: int = 2) -> str:
    """The passages of ``text`` most like ``exact``, with their offsets, for an error message."""
    n = len(exact)
    step = max(1, n // 4)
    scored = []
    for i in range(0, max(1, len(text) - n + 1), step):
        window = text[i:i + n]
        scored.append((difflib.SequenceMatcher(None, exact, window, autojunk=False).ratio(), i))
    scored.sort(reverse=True)
    out, taken = [], []
    for _, i in scored:
        if any(abs(i - t) < n for t in taken):
            continue
        best = _refine(text, exact, i, step)
        taken.append(i)
        snippet = text[best:best + n]
        out.append(f"{' '.join(snippet.split())!r} at {best}")
        if len(out) == shown:
            break
    return "; ".join(out) if out else "(the text is empty)"


def _refine(text: str, exact: str, around: int, step: int) -> int:
    """The start near ``around`` whose window matches ``exact`` best."""
    n = len(exact)
    best, best_score = around, -1.0
    for i in range(max(0, around - step), min(len(text) - n, around + step) + 1):
        score = difflib.SequenceMatcher(None, exact, text[i:i + n], autojunk=False).ratio()
        if score > best_score:
            best, best_score = i, score
    return best
