"""Places from dataset rows: country, admin areas and the located point, with WKT geometry."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pyoxigraph as ox

from .common import RDF_TYPE, RDFS_LABEL, ckb, decimal, ns, res, slug, text

GEO = "http://www.opengis.net/ont/geosparql#"
POS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
WKT = ox.NamedNode(GEO + "wktLiteral")


def place_triples(country: str, adm1: str, adm2: str, name: str, lat: str | None, lon: str | None,
                  out: list[ox.Triple], once: Callable[[str], bool] = lambda _: True) -> ox.NamedNode | None:
    """Append the place hierarchy to out and return the most specific place (None if nothing given)."""
    parent: ox.NamedNode | None = None
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
        out.append(ox.Triple(node, RDF_TYPE, ckb(cls)))
        out.append(ox.Triple(node, RDFS_LABEL, text(label)))
        if parent_before is not None:
            out.append(ox.Triple(node, ckb("partOfPlace"), parent_before))
    if lat is None or lon is None:
        return parent
    digest = hashlib.sha1(f"{name}|{lat}|{lon}".encode()).hexdigest()[:10]
    point = res(f"place-{key or 'unknown'}-{slug(name) if name else 'point'}-{digest}")
    geom = res(f"place-{key or 'unknown'}-{slug(name) if name else 'point'}-{digest}-geometry")
    if not once(point.value):
        return point
    out.append(ox.Triple(point, RDF_TYPE, ckb("Place")))
    out.append(ox.Triple(point, RDFS_LABEL, text(name or f"point {lat}, {lon}")))
    if parent is not None:
        out.append(ox.Triple(point, ckb("partOfPlace"), parent))
    out.append(ox.Triple(point, ns(POS + "lat"), decimal(lat)))
    out.append(ox.Triple(point, ns(POS + "long"), decimal(lon)))
    out.append(ox.Triple(point, ns(GEO + "hasGeometry"), geom))
    out.append(ox.Triple(geom, RDF_TYPE, ns(GEO + "Geometry")))
    out.append(ox.Triple(geom, ns(GEO + "asWKT"), ox.Literal(f"POINT({lon} {lat})", datatype=WKT)))
    return point
