"""Files streamed to a SPARQL server in bounded chunks: parsed once, never held whole in the client.

The engine's parser reads each file lazily; triples are buffered per graph and sent every
``size`` triples. Only triples that name a blank node are held to the end, because a blank
node's triples must travel in one request (each request's labels are its own). A parse error
stops the stream with file:line:column; the caller drops whatever was sent (all new graphs).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pyoxigraph as ox

from kb.store.loader import TEXT_FILE
from kb.store.protocol import chunks
from kb.store.staging import _parse_errors, check_xml, rdf_format


def quads(
    files: Sequence[tuple[Path, str]], extra: Sequence[tuple[bytes, str]]
) -> Iterator[tuple[str, ox.Triple]]:
    """Every (target graph, triple) of the files and extra N-Triples, in file order.

    A dataset file's named graphs keep their names; its default graph goes to the file's target.
    Blank nodes are renamed per file, as the engine's loader does, so no _:b1 joins two files.
    """
    for path, target in files:
        check_xml(path)
        with _parse_errors(path):
            for q in ox.parse(path=str(path), format=rdf_format(path), base_iri=path.resolve().as_uri(),
                              rename_blank_nodes=True):
                graph = target if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
                yield graph, q.triple
    for data, target in extra:
        for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES, rename_blank_nodes=True):
            yield target, t


def batches(
    stream: Iterable[tuple[str, ox.Triple]], size: int, side: ox.Store
) -> Iterator[tuple[str, list[ox.Triple]]]:
    """Chunks of about ``size`` triples per graph; blank-node triples grouped and sent last.

    ``side`` receives the ckb:textFile triples, all that attaching source texts reads (loader.attach_texts).
    """
    plain: dict[str, list[ox.Triple]] = {}
    blank: dict[str, list[ox.Triple]] = {}
    for graph, t in stream:
        if t.predicate == TEXT_FILE:
            side.add(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph)))
        if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode):
            blank.setdefault(graph, []).append(t)
            continue
        buffer = plain.setdefault(graph, [])
        buffer.append(t)
        if len(buffer) >= size:
            yield graph, buffer
            plain[graph] = []
    for graph, buffer in plain.items():
        if buffer:
            yield graph, buffer
    for graph, held in blank.items():
        for batch in chunks(held, size):
            yield graph, batch
