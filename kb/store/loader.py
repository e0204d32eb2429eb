"""Which files make up the KB, which graph each goes to, and the source texts."""

from __future__ import annotations

import hashlib
import importlib.resources
import os
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from kb.errors import KBError
from kb.namespaces import (
    CKB,
    GRAPH_DATA,
    GRAPH_INFERRED,
    GRAPH_MATCHES,
    GRAPH_ONTOLOGY,
    GRAPH_SHAPES,
    import_graph,
)
from kb.store.staging import check_first

RDF_SUFFIXES = {".ttl", ".nt", ".nq", ".trig", ".jsonld", ".rdf", ".owl", ".xml", ".n3"}
TEXT_FILE = ox.NamedNode(str(CKB.textFile))
FULL_TEXT = ox.NamedNode(str(CKB.fullText))


def project_root() -> Path:
    """Return the folder holding ontology/ and data/: $CKB_HOME, the checkout, or the installed bundle."""
    if os.environ.get("CKB_HOME"):
        return Path(os.environ["CKB_HOME"])
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "ontology").is_dir() and (checkout / "data").is_dir():
        return checkout  # a source checkout: its ontology/ and data/ are the source of truth
    return installed_bundle() or checkout


def installed_bundle() -> Path | None:
    """Return the ontology/ and data/ a wheel installed as package data (kb/bundle/), if any."""
    bundle = importlib.resources.files("kb").joinpath("bundle")
    # A wheel installs into a folder, so the resource is a real path that pyoxigraph can read.
    if bundle.joinpath("ontology").is_dir() and isinstance(bundle, Path):
        return bundle
    return None


def bundled_files(root: Path | None = None) -> list[Path]:
    """Return the bundled ontology, shapes, data and shipped inferred files."""
    root = root or project_root()
    files = sorted((root / "ontology").glob("*.ttl")) + sorted((root / "data").glob("*.ttl"))
    files += sorted((root / "data" / "inferred").glob("*.ttl"))
    files += sorted((root / "data" / "matches").glob("*.ttl"))
    if not files:
        raise KBError(f"no bundled ontology or data found under {root} (set CKB_HOME)")
    return files


def bundle_fingerprint(root: Path | None = None) -> str:
    """Return a SHA-256 over the bundled files and source texts (names and contents)."""
    root = root or project_root()
    digest = hashlib.sha256()
    texts = sorted((root / "data" / "sources").glob("*.txt"))
    # the matching decisions are left out: `ckb actors --accept` writes them to the store and
    # the file together, so a new one never makes the store an older copy of the bundle
    for path in [*(p for p in bundled_files(root) if p.parent.name != "matches"), *texts]:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def expand(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into the RDF files below them; missing paths are errors."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix.lower() in RDF_SUFFIXES)
        elif path.exists():
            out.append(path)
        else:
            raise KBError(f"{path}: no such file or folder")
    return out


def hold_triples(paths: Iterable[Path]) -> bool:
    """True if any of the files holds a triple (parsing each only up to its first one)."""
    return any(check_first(p) for p in paths)


def graph_for(path: Path) -> str:
    """Return the named graph a file belongs in, from where it sits."""
    parent = path.resolve().parent
    if parent.name == "ontology":
        return GRAPH_SHAPES if path.stem.startswith("shapes") else GRAPH_ONTOLOGY
    if parent.name == "inferred" and parent.parent.name == "data":
        return GRAPH_INFERRED
    if parent.name == "matches" and parent.parent.name == "data":
        return GRAPH_MATCHES
    if parent.name == "data":
        return GRAPH_DATA
    return import_graph(path.stem)


def attach_texts(store: ox.Store, loaded: list[tuple[str, Path]]) -> list[ox.Quad]:
    """Read the source text each document names (ckb:textFile) into ckb:fullText.

    ``loaded`` pairs each graph written with a file written into it; the text is
    looked for in a ``sources/`` folder beside those files.
    """
    folders: dict[str, list[Path]] = {}
    for graph, source in loaded:
        folders.setdefault(graph, [])
        if source.resolve().parent not in folders[graph]:
            folders[graph].append(source.resolve().parent)
    quads: list[ox.Quad] = []
    for graph, dirs in folders.items():
        g = ox.NamedNode(graph)
        for quad in store.quads_for_pattern(None, TEXT_FILE, None, g):
            name = quad.object.value
            found = [d / "sources" / name for d in dirs if (d / "sources" / name).is_file()]
            if Path(name).name != name or not found:
                where = " or ".join(str(d / "sources") for d in dirs)
                raise KBError(f"ckb:textFile {name!r} is not a file in {where}")
            quads.append(ox.Quad(quad.subject, FULL_TEXT, ox.Literal(found[0].read_text("utf-8")), g))
    return quads
