"""Loading files into graphs: parse checks with positions, staging graphs, the swap update."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
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


def targets_of(
    files: Sequence[tuple[Path, str]], extra: Sequence[tuple[bytes, str]], named: Mapping[Path, Sequence[str]]
) -> list[str]:
    """Every graph a load writes, in order: files' graphs, the named graphs dataset files hold, extras'."""
    graphs = [t for _, t in files] + [g for p, _ in files for g in named.get(p, ())] + [t for _, t in extra]
    return list(dict.fromkeys(graphs))


def stage(
    store: ox.Store,
    files: Sequence[tuple[Path, str]],
    extra: Sequence[tuple[bytes, str]],
    prepare: Prepare | None,
    loaded: list[tuple[str, str]],
    existing: set[str],
    bulk: bool = False,
    checked: bool = False,
    named: Mapping[Path, Sequence[str]] | None = None,
) -> None:
    """Load files and extra N-Triples, appending (graph written, target) to ``loaded``.

    A target graph that does not exist yet is written directly (each load is one
    transaction); one that exists is written to a staging graph, for a later swap. ``checked``:
    every regular file was parsed by check_file already, so the bulk loader need not check again.
    ``named``: the named graphs each dataset file (N-Quads, TriG) holds (check_file's answer);
    their quads keep their graph names, and only the file's default graph goes to its target.
    """
    named = named or {}
    run = STAGING + uuid.uuid4().hex + "/"
    into: dict[str, str] = {}
    for n, target in enumerate(targets_of(files, extra, named)):
        into[target] = f"{run}{n}" if target in existing else target
        loaded.append((into[target], target))
        if into[target] != target:
            # Even an empty replacement exists, so a redo log naming it can tell "not swapped yet".
            store.add_graph(ox.NamedNode(into[target]))
    for path, target in files:
        if not checked:
            check_xml(path)
        if path in named:
            load_dataset(store, path, into[target], into, bulk)
        else:
            load_file(store, path, into[target], bulk, lenient=checked and path.is_file())
    for data, target in extra:
        store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(into[target]))
    if prepare is not None:
        store.extend(prepare(store, [(into[t], p) for p, t in files]))


def is_dataset(path: Path) -> bool:
    """True for a file whose format holds named graphs (N-Quads, TriG)."""
    return rdf_format(path).supports_datasets


def check_xml(path: Path) -> None:
    """ParseError (file:line:column) for an RDF/XML file that is not well-formed XML or declares entities.

    The engine's RDF/XML parser loads a file cut off after any complete element as far as it goes.
    """
    if path.is_file() and rdf_format(path) == ox.RdfFormat.RDF_XML:
        from kb.query.uploads import check_rdf_xml

        with open(path, "rb") as data:
            check_rdf_xml(data, str(path))


def check_file(path: Path) -> list[str]:
    """Parse a file without storing it, raising ParseError at its first error; return its named graphs."""
    check_xml(path)
    graphs: dict[str, None] = {}
    with _parse_errors(path):
        for quad in ox.parse(path=str(path), format=rdf_format(path), base_iri=path.resolve().as_uri()):
            graph = quad.graph_name
            if isinstance(graph, ox.DefaultGraph) or graph.value in graphs:
                continue
            if not isinstance(graph, ox.NamedNode):
                raise KBError(f"{path}: a graph named by a blank node cannot be kept; name graphs with IRIs")
            if graph.value.startswith(STAGING):
                raise KBError(f"{path}: <{graph.value}> is a staging graph of the store (a reserved name)")
            graphs[graph.value] = None
    return list(graphs)


def check_first(path: Path) -> bool:
    """True if the file holds at least one triple (parsed up to the first; errors as check_file's)."""
    with _parse_errors(path):
        for _ in ox.parse(path=str(path), format=rdf_format(path), base_iri=path.resolve().as_uri()):
            return True
    return False


def load_dataset(store: ox.Store, path: Path, default: str, into: Mapping[str, str], bulk: bool) -> None:
    """Load a dataset file: its default graph into ``default``, each named graph ``g`` into ``into[g]``.

    Through Python, not the engine's loader, because the loader can redirect only the default graph.
    """
    target = {g: ox.NamedNode(w) for g, w in into.items()}
    to_default = ox.NamedNode(default)

    def quads() -> Iterator[ox.Quad]:
        # Fresh blank nodes, as the engine's loader makes them: no _:b1 is shared with another file.
        for q in ox.parse(path=str(path), format=rdf_format(path), base_iri=path.resolve().as_uri(),
                          rename_blank_nodes=True):
            graph = to_default if isinstance(q.graph_name, ox.DefaultGraph) else target[q.graph_name.value]
            yield ox.Quad(q.subject, q.predicate, q.object, graph)

    with _parse_errors(path):
        if bulk:
            store.bulk_extend(quads())
        else:
            store.extend(quads())


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
