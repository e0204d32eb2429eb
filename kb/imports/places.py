"""Places from dataset rows: country, admin areas and the located point, with WKT geometry.

A country is matched to the KB's (the article's Syria is ACLED's and UCDP's Syria); an admin area
is one node per name within its parent, whatever its spelling: the first spelling (or the label the
store already gives it) is its label, every other one a skos:altLabel ("Barisāl Division")."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from kb.namespaces import CKBR

from .common import RDF_TYPE, RDFS_LABEL, ckb, decimal, iri, ns, res, slug, text, triple

GEO = "http://www.opengis.net/ont/geosparql#"
POS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
WKT = f"<{GEO}wktLiteral>"
SKOS_ALT = ns("http://www.w3.org/2004/02/skos/core#altLabel")


def _area(matcher: Any, label: str, cls: str, key: str, parent: str | None, out: list[str],
          once: Callable[[str], bool]) -> str:
    """The node of one admin level, described once per import; its spellings as labels."""
    minted = f"{CKBR}place-{key}"
    if matcher is None:
        entity, own = minted, True
    else:
        entity, own = matcher.place(matcher.dataset, label, minted, cls)
    node = iri(entity)
    if own and once(f"place-{key}"):
        out.append(triple(node, RDF_TYPE, ckb(cls)))
        if parent is not None:
            out.append(triple(node, ckb("partOfPlace"), parent))
    if matcher is None:
        if once(f"place-label-{key}"):
            out.append(triple(node, RDFS_LABEL, text(label)))
        return node
    first = matcher.spelling(entity, label)
    if own and once(f"place-label-{entity}"):
        lang = matcher.language(entity, first)
        out.append(triple(node, RDFS_LABEL, text(first) + (f"@{lang}" if lang else "")))
    if label != first and once(f"place-alt-{entity}|{label}"):
        out.append(triple(node, SKOS_ALT, text(label)))
    return node


def place_triples(country: str, adm1: str, adm2: str, name: str, lat: str | None, lon: str | None,
                  out: list[str], once: Callable[[str], bool] = lambda _: True) -> str | None:
    """Append the place hierarchy to out and return the most specific place (None if nothing given)."""
    # The importers pass their Matcher's ``once``: the matcher it belongs to resolves the places.
    matcher = getattr(once, "__self__", None)
    parent: str | None = None
    key = ""
    for label, cls in ((country, "Country"), (adm1, "Province"), (adm2, "Region")):
        if not label:
            continue
        key = f"{key}-{slug(label)}" if key else slug(label)
        parent = _area(matcher, label, cls, key, parent, out, once)
    if lat is None or lon is None:
        return parent
    digest = hashlib.sha1(f"{name}|{lat}|{lon}".encode()).hexdigest()[:10]
    point = res(f"place-{key or 'unknown'}-{slug(name) if name else 'point'}-{digest}")
    geom = res(f"place-{key or 'unknown'}-{slug(name) if name else 'point'}-{digest}-geometry")
    if not once(point):
        return point
    out.append(triple(point, RDF_TYPE, ckb("Place")))
    out.append(triple(point, RDFS_LABEL, text(name or f"point {lat}, {lon}")))
    if parent is not None:
        out.append(triple(point, ckb("partOfPlace"), parent))
    out.append(triple(point, ns(POS + "lat"), decimal(lat)))
    out.append(triple(point, ns(POS + "long"), decimal(lon)))
    out.append(triple(point, ns(GEO + "hasGeometry"), geom))
    out.append(triple(geom, RDF_TYPE, ns(GEO + "Geometry")))
    out.append(triple(geom, ns(GEO + "asWKT"), f'"POINT({lon} {lat})"^^{WKT}'))
    return point
