"""The event index's rows as one SQLite file in the sidecar (kb.derived.sidecar), and the index
made from rows (read from the store by kb.derived.eventbuild, or from the file).

SQLite (stdlib): one file written aside and renamed, typed columns, readable by any SQLite
tool; the index's bitmaps are made from the rows in memory, not stored.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections import defaultdict
from contextlib import closing
from typing import Any

from kb.derived import sidecar
from kb.derived.events import Event, EventIndex
from kb.store import lifecycle

log = logging.getLogger("ckb.eventindex")
FILE = "events.sqlite"
PLACE_FACETS = ("country", "admin1", "admin2")


def make(generation: int | None, rows: list[dict[str, Any]], labels: dict[str, str],
         kinds: dict[str, str]) -> EventIndex:
    """The index of ``rows`` (dicts of Event's fields, plus ``graphs``, ``within`` and the sort
    keys), numbered by start date (the end date when there is no start), then IRI; undated last.
    ``kinds``: place -> "country", "admin1" or "admin2"."""
    rows = sorted(rows, key=lambda r: (not (r["start"] or r["end"]), r["start"] or r["end"], r["iri"]))
    events = [Event(n=n, **{k: v for k, v in r.items() if k not in EXTRA}) for n, r in enumerate(rows)]
    keys = {"type": [r["type_key"] for r in rows], "country": [r["country_key"] for r in rows]}
    index = EventIndex(generation, events, {k: v for k, v in labels.items() if v}, keys=keys, kinds=kinds)
    for name, key in {"graph": "graphs", "within": "within"}.items():
        found: dict[str, list[int]] = defaultdict(list)
        for n, r in enumerate(rows):
            for v in r[key]:
                found[v].append(n)
        index.add_values(name, found)
        if name == "within":  # a country, first or second order area: the events within it
            for facet in PLACE_FACETS:
                index.add_values(facet, {p: ns for p, ns in found.items() if kinds.get(p) == facet})
    return index


EXTRA = ("graphs", "within", "type_key", "country_key")  # a row's columns beside Event's fields
COLUMNS = ("iri", "label", "graph", "start", "end", "precision", "country", "admin1", "admin2", "place",
           "lat", "lon", "type", "status", "low", "best", "high", "actors", *EXTRA)


def save(kb: Any, index: EventIndex, rows: list[dict[str, Any]], stamp: str) -> None:
    """Write the rows to the sidecar under ``stamp``, all at once (written aside, then renamed)."""
    room = sidecar.of(kb)
    if room is None or room.folder is None:
        return
    room.folder.mkdir(parents=True, exist_ok=True)
    tmp = room.folder / f".{FILE}.tmp-{os.getpid()}-{threading.get_ident()}"
    tmp.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(tmp)) as db:
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute(f"CREATE TABLE events ({', '.join(COLUMNS)})")
            db.execute("CREATE TABLE labels (iri TEXT PRIMARY KEY, label TEXT)")
            db.execute("CREATE TABLE places (iri TEXT PRIMARY KEY, kind TEXT)")
            db.executemany("INSERT INTO places VALUES (?, ?)", sorted(index.kinds.items()))
            db.executemany("INSERT INTO meta VALUES (?, ?)", [("stamp", stamp)])
            db.executemany(f"INSERT INTO events VALUES ({', '.join('?' * len(COLUMNS))})", (
                [json.dumps(r[c]) if c in ("actors", "graphs", "within") else r[c] for c in COLUMNS]
                for r in rows))
            db.executemany("INSERT INTO labels VALUES (?, ?)", sorted(index.labels.items()))
            db.commit()
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, room.folder / FILE)
    finally:
        tmp.unlink(missing_ok=True)
    lifecycle.fsync_dir(room.folder)


def load(kb: Any, stamp: str, generation: int | None) -> EventIndex | None:
    """The index in the sidecar file if it was built under ``stamp``; else None."""
    room = sidecar.of(kb)
    if room is None or room.folder is None or not (room.folder / FILE).is_file():
        return None
    try:
        with closing(sqlite3.connect(f"file:{room.folder / FILE}?mode=ro", uri=True)) as db:
            found = db.execute("SELECT value FROM meta WHERE key = 'stamp'").fetchone()
            if found is None or found[0] != stamp:
                return None
            rows = [dict(zip(COLUMNS, r, strict=True)) for r in db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM events")]
            labels = dict(db.execute("SELECT iri, label FROM labels"))
            kinds = dict(db.execute("SELECT iri, kind FROM places"))
    except sqlite3.Error as err:  # a damaged or foreign file: rebuilt from the store
        log.info("event index file not read: %s", err)
        return None
    for r in rows:
        r["actors"] = tuple(tuple(a) for a in json.loads(r["actors"]))
        r["graphs"], r["within"] = tuple(json.loads(r["graphs"])), tuple(json.loads(r["within"]))
    index = make(generation, rows, labels, kinds)
    index.origin = "file"
    return index


def rows_of(index: EventIndex) -> list[dict[str, Any]]:
    """The rows of ``index`` as save() writes them."""
    graphs = index.members("graph")
    within = index.members("within")
    return [{**{c: getattr(e, c) for c in COLUMNS if c not in EXTRA},
             "graphs": graphs.get(e.n, ()), "within": within.get(e.n, ()),
             "type_key": index.keys["type"][e.n], "country_key": index.keys["country"][e.n]}
            for e in index.events]
