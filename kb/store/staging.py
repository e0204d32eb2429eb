"""Loading files into graphs: parse checks with positions, staging graphs, the swap update."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from kb.errors import KBError, ParseError
from kb.namespaces import GRAPH_BASE
from kb.terms import iri_ref

STAGING = GRAPH_BASE + "staging/"

# Called with the store and [(staging graph, source file)] after parsing, before the
# swap; returns extra quads to add (e.g. source texts). Raising aborts the load.
Prepare = Callable[[ox.Store, list[tuple[str, Path]]], list[ox.Quad]]


def rdf_format(path: Path) -> ox.RdfFormat:
    """Guess the RDF format from a file name, or raise a clear error."""
    suffix = path.suffix.lstrip(".").lower()
    fmt = ox.RdfFormat.from_extension(suffix) if suffix else None
    if suffix in ("json", "jsonld"):
        fmt = ox.RdfFormat.JSON_LD
    if fmt is None:
        raise KBError(f"{path}: unknown RDF file extension {path.suffix!r}")
    return fmt


def count_graph(store: ox.Store, graph: str) -> int:
    """The number of triples in one graph (a scan of it)."""
    rows = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {iri_ref(graph)} {{ ?s ?p ?o }} }}")
    return int(next(iter(rows))["n"].value)


def counts_of(store: ox.Store) -> dict[str, int]:
    """Every non-empty named graph of ``store`` with its triple count."""
    names = sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))
    return {g: n for g in names if (n := count_graph(store, g))}


def stage(
    store: ox.Store,
    files: Sequence[tuple[Path, str]],
    extra: Sequence[tuple[bytes, str]],
    prepare: Prepare | None,
    loaded: list[tuple[str, str]],
    existing: set[str],
    bulk: bool = False,
    checked: bool = False,
) -> None:
    """Load files and extra N-Triples, appending (graph written, target) to ``loaded``.

    A target graph that does not exist yet is written directly (each load is one
    transaction); one that exists is written to a staging graph, for a later swap. ``checked``:
    every regular file was parsed by check_file already, so the bulk loader need not check again.
    """
    run = STAGING + uuid.uuid4().hex + "/"
    into: dict[str, str] = {}
    for n, (_, target) in enumerate([*files, *extra]):
        if target not in into:
            into[target] = f"{run}{n}" if target in existing else target
            loaded.append((into[target], target))
    for path, target in files:
        load_file(store, path, into[target], bulk, lenient=checked and path.is_file())
    for data, target in extra:
        store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(into[target]))
    if prepare is not None:
        store.extend(prepare(store, [(into[t], p) for p, t in files]))


def check_file(path: Path) -> None:
    """Parse a file without storing it, raising ParseError at its first error."""
    with _parse_errors(path):
        for _ in ox.parse(path=str(path), format=rdf_format(path), base_iri=path.resolve().as_uri()):
            pass


@contextmanager
def _parse_errors(path: Path) -> Iterator[None]:
    """Turn parser and file errors into ParseError (file:line:column) and KBError."""
    try:
        yield
    except SyntaxError as err:
        detail = str(err.msg if hasattr(err, "msg") else err)
        detail = detail.split(": ", 1)[1] if detail.startswith("Parser error") and ": " in detail else detail
        raise ParseError(str(path), err.lineno, err.offset, detail) from None
    except OSError as err:
        raise KBError(f"{path}: {err.strerror or err}") from None


def load_file(store: ox.Store, path: Path, graph: str, bulk: bool = False, lenient: bool = False) -> None:
    """Load one file into a graph, turning parser errors into file:line:column.

    ``lenient`` (bulk only) skips the loader's own IRI checks: only for a file check_file passed.
    """
    fmt, base, to = rdf_format(path), path.resolve().as_uri(), ox.NamedNode(graph)
    with _parse_errors(path):
        if bulk:
            store.bulk_load(path=str(path), format=fmt, to_graph=to, base_iri=base, lenient=lenient)
        else:
            store.load(path=str(path), format=fmt, to_graph=to, base_iri=base)


def swap_update(swaps: list[tuple[str, str]]) -> str:
    """Build the single update that replaces each target graph by its staging graph."""
    ops: list[str] = []
    for staging, target in swaps:
        ops.append(f"DROP SILENT GRAPH {iri_ref(target)}")
        ops.append(f"ADD SILENT GRAPH {iri_ref(staging)} TO GRAPH {iri_ref(target)}")
        ops.append(f"DROP SILENT GRAPH {iri_ref(staging)}")
    return " ;\n".join(ops)
