"""How each source codes one event: the place on the event page for several codings side by side.

Today an event has the codings of the claims that code it as a dataset record (ckb:codesRecord:
one UCDP or ACLED row each) and the claims that support it; event matching (several datasets'
rows for one event) extends this one function, and the event page shows whatever it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kb.namespaces import CKB
from kb.views.browse import labels
from kb.views.look import PROV, looking

MAX_CODINGS = 20  # codings shown side by side


@dataclass
class Coding:
    """One source's record of the event: the claim, who coded it, and the record it codes."""

    claim: str
    claim_label: str
    coder: str
    coder_label: str
    record: str  # the event node the claim codes (the event itself until events are matched)


def event_codings(kb: Any, iri: str) -> list[Coding]:
    """The dataset codings of the event ``iri`` (claims with ckb:codesRecord), by coder."""
    rows: list[tuple[str, str, str]] = []
    with looking(kb) as look:
        for claim in look.subjects(str(CKB.codesRecord), iri, MAX_CODINGS)[0]:
            coders = look.iris(claim, PROV + "wasAttributedTo", 3) or [""]
            rows += [(claim, coder, iri) for coder in coders]
    names = labels(kb, {x for row in rows for x in row[:2] if x})
    return sorted((Coding(c, names[c], a, names.get(a, ""), r) for c, a, r in rows),
                  key=lambda x: (x.coder_label.lower(), x.claim))


__all__ = ["Coding", "event_codings"]
