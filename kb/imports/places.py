"""Places from dataset rows: country, admin areas and the located point, with WKT geometry."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from .common import RDF_TYPE, RDFS_LABEL, ckb, decimal, ns, res, slug, text, triple

GEO = "http://www.opengis.net/ont/geosparql#"
POS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
WKT = f"<{GEO}wktLiteral>"


def place_triples(country: str, adm1: str, adm2: str, name: str, lat: str | None, lon: str | None,
                  out: list[str], once: Callable[[str], bool] = lambda _: True) -> str | None:
    """Append the place hierarchy to out and return the most specific place (None if nothing given)."""
    parent: str | None = None
    key = ""
    for label, cls in ((country, "Country"), (adm1, "Province"), (adm2, "Region")):
        if not label:
            continue
        key = f"{key}-{slug(label)}" if key else slug(label)
        node = res(f"place-{key}")
        parent_before = parent
        parent = node
        if not once(f"place-{key}"):
            continue
        out.append(triple(node, RDF_TYPE, ckb(cls)))
        out.append(triple(node, RDFS_LABEL, text(label)))
        if parent_before is not None:
            out.append(triple(node, ckb("partOfPlace"), parent_before))
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
