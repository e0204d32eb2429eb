"""An imported ACLED file written back from the KB: the same columns, in the same order, with the same values.

Everything comes from the import's graph: the event and its participations, the claim (notes, sources,
source scale, timestamp) and the import's record (header, and how the file wrote its codes and dates).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from kb.errors import KBError
from kb.imports import acledcodes as codes
from kb.imports.acled import EVENT_TYPES, SUB_EVENT_TYPES
from kb.imports.common import slug
from kb.namespaces import CKB, CKBR, import_graph

LIMIT = 10_000_000  # rows of one query: a graph's every event property


def resolve_graph(name_or_iri: str) -> str:
    """An import graph from its IRI or its name (acled-syria or import/acled-syria)."""
    if name_or_iri.startswith(("http://", "https://", "urn:")):
        return name_or_iri
    return import_graph(name_or_iri.removeprefix("import/"))


def _select(kb: Any, graph: str, body: str) -> list[dict[str, Any]]:
    return kb.query(f"SELECT * WHERE {{ GRAPH <{graph}> {{ {body} }} }}", inferred=False,
                    named_graphs=[graph], limit=LIMIT, timeout=600).rows


def _by_event(rows: list[dict[str, Any]], *keys: str) -> dict[str, dict[str, list[str]]]:
    """event IRI -> property -> values (as lexical strings)."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        out[str(r["ev"])][str(r[keys[0]])].append(str(r[keys[1]]))
    return out


def export_acled(kb: Any, graph: str) -> str:
    """The ACLED events of one import graph as an ACLED CSV file (text), rows in the file's order."""
    record = _select(kb, graph,
                     f"?run <{CKB.csvHeader}> ?header OPTIONAL {{ ?run <{CKB.codeStyle}> ?style }}")
    if not record:
        raise KBError(f"<{graph}> holds no ACLED import (no ckb:csvHeader on its record)")
    header = str(record[0]["header"]).split(",")
    style = dict(str(r["style"]).split("=", 1) for r in record if r.get("style") is not None)
    events = _by_event(_select(kb, graph, f"?ev <{CKB.acledId}> ?id ; ?p ?o"), "p", "o")
    parts: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in _select(kb, graph, f"""?ev <{CKB.acledId}> ?id ; <{CKB.hasParticipation}> ?part .
            ?part <{CKB.participantRole}> ?role ; <{CKB.asDescribed}> ?name .
            OPTIONAL {{ ?part <{CKB.side}> ?side }} OPTIONAL {{ ?part <{CKB.actorTypeCode}> ?code }}
            OPTIONAL {{ ?part <{CKB.listPosition}> ?pos }}"""):
        parts[str(r["ev"])].append({k: str(v) for k, v in r.items() if v is not None})
    claims = _by_event(_select(kb, graph, f"""?ev <{CKB.acledId}> ?id . ?c <{CKB.codesRecord}> ?ev ; ?p ?o .
            FILTER (?p IN (<{CKB.sourceScale}>, <{CKB.codedSources}>, <{CKB.lastModified}>))"""), "p", "o")
    notes = {str(r["ev"]): str(r["text"]) for r in _select(kb, graph, f"""?ev <{CKB.acledId}> ?id .
            ?c <{CKB.codesRecord}> ?ev ; <{CKB.hasQuote}> ?q . ?q <{CKB.exact}> ?text""")}
    rows = [_row(ev, props, parts[ev], claims.get(ev, {}), notes.get(ev, ""), style)
            for ev, props in events.items()]
    rows.sort(key=lambda r: _order(r["event_id_cnty"]))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _order(eid: str) -> tuple[str, int]:
    """Country letters, then the number: ACLED's own order of ids."""
    letters = eid.rstrip("0123456789")
    return letters, int(eid[len(letters):] or 0)


_TYPE_NAMES = {f"{CKBR}acled-{slug(t)}": t for t in EVENT_TYPES}
_SUB_NAMES = {f"{CKBR}acled-{slug(s)}": s for subs in SUB_EVENT_TYPES.values() for s in subs}
_DISORDER = {f"{CKBR}acled-disorder-{slug(d)}": d for d in codes.DISORDER}


def _code(iri: str, prefix: str) -> str:
    return iri.removeprefix(f"{CKBR}acled-{prefix}-")


def _row(ev: str, props: dict[str, list[str]], parts: list[dict[str, str]], claim: dict[str, list[str]],
         notes: str, style: dict[str, str]) -> dict[str, str]:
    """One CSV row from an event's properties."""

    def one(prop: str) -> str:
        values = props.get(str(CKB[prop]), [])
        return values[0] if values else ""
    style = style | dict(s.split("=", 1) for s in props.get(str(CKB.codeStyle), []))  # the row's own way
    coded_as = props.get(str(CKB.codedAs), [])
    when = date.fromisoformat(one("codedDate")[:10])
    row = {"event_id_cnty": one("acledId"),
           "event_date": codes.format_date(when, style.get("date", "%Y-%m-%d")),
           "year": str(when.year), "time_precision": _code(one("timePrecisionCode"), "time-precision"),
           "geo_precision": _code(one("geoPrecisionCode"), "geo-precision"),
           "event_type": next((_TYPE_NAMES[c] for c in coded_as if c in _TYPE_NAMES), ""),
           "sub_event_type": next((_SUB_NAMES[c] for c in coded_as if c in _SUB_NAMES), ""),
           "fatalities": one("fatalitiesBest"), "notes": notes,
           "civilian_targeting": codes.CIVILIANS_TARGETED if one("civilianTargeting") else ""}
    kinds = {_DISORDER[d] for d in props.get(str(CKB.disorderType), []) if d in _DISORDER}
    row["disorder_type"] = "; ".join(d for d in codes.DISORDER if d in kinds)
    interaction = one("interactionCode")
    row["interaction"] = codes.interaction_text(_code(interaction, "interaction"),
                                                style.get("interaction", "numeric")) if interaction else ""
    for column, prop in codes.LITERAL_COLUMNS:
        row[column] = one(prop)
    for n, role in (("1", "Actor1"), ("2", "Actor2")):
        mine = [p for p in parts if p["role"] == str(CKB[role])]
        row[f"actor{n}"] = mine[0]["name"] if mine else ""
        code = _code(mine[0]["code"], "inter") if mine and "code" in mine[0] else ""
        row[f"inter{n}"] = codes.inter_text(code, style.get("inter", "numeric")) if code else (
            style.get("no-actor-inter", "") if not mine else "")
        side = str(CKB.SideA if n == "1" else CKB.SideB)  # associated actors are on their actor's side
        assoc = sorted((int(p.get("pos", 0)), p["name"]) for p in parts
                       if p["role"] == str(CKB.AssociatedActor) and p.get("side") == side)
        row[f"assoc_actor_{n}"] = "; ".join(name for _, name in assoc)
    row["source"] = (claim.get(str(CKB.codedSources)) or [""])[0]
    row["source_scale"] = (claim.get(str(CKB.sourceScale)) or [""])[0]
    stamp = (claim.get(str(CKB.lastModified)) or [""])[0]
    row["timestamp"] = str(int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())) \
        if stamp else ""
    return row


__all__ = ["export_acled", "resolve_graph"]
