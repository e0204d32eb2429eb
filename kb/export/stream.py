"""Write graphs to a file inside a worker: the export half that never runs in the server process.

Small exports go through kb.export.rdf (sorted, grouped, blank nodes named from their
structure: the same bytes as ``ckb export``, build after build); large ones are streamed by the
engine straight from the store's index to the file, so memory stays flat at any size (blank
node labels are then the store's own: stable on disk, new for each copy of a memory store).
Streamed triple formats keep a statement once per graph it is in (the same RDF graph once read:
a graph is a set), and list every KB prefix in the header.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox

from kb.errors import KBError
from kb.export.rdf import FORMATS, serialize_quads
from kb.store.backend import ExportRequest

DEFAULT_GRAPH = ""  # kb.query.engine's name for the store's own default graph
PRETTY_LIMIT = 100_000  # up to this many statements: kb.export's sorted writer (as 'ckb export')


def _graph(iri: str) -> Any:
    return ox.DefaultGraph() if iri == DEFAULT_GRAPH else ox.NamedNode(iri)


def _quads(store: ox.Store, job: ExportRequest) -> Iterator[ox.Quad]:
    parts = [store.quads_for_pattern(None, None, None, _graph(g)) for g in job.graphs]
    extra = ox.parse(job.extra, format=ox.RdfFormat.N_QUADS) if job.extra else iter(())
    return itertools.chain(*parts, extra)


def write_export(store: ox.Store, job: ExportRequest) -> dict[str, Any]:
    """Write the job's graphs to ``job.output`` (atomically); the answer a worker sends back."""
    spec = FORMATS[job.format]
    part = f"{job.output}.part-{os.getpid()}"
    try:
        pretty = job.pretty
        if pretty is None:  # the size is unknown (the default graph is not counted): count, up to the limit
            pretty = sum(1 for _ in itertools.islice(_quads(store, job), PRETTY_LIMIT + 1)) <= PRETTY_LIMIT
        if pretty:
            data = serialize_quads(_quads(store, job), job.format, prefixes=job.prefixes)
            with open(part, "wb") as out:
                out.write(data)
        else:
            quads = _quads(store, job)
            items = quads if spec.is_dataset else (q.triple for q in quads)
            ox.serialize(items, part, format=spec.rdf_format, prefixes=job.prefixes or None)
        os.replace(part, job.output)
    except (ValueError, SyntaxError) as err:  # the writer cannot express a statement (RDF/XML)
        return {"error": "KBError", "message": f"cannot write {job.format}: {err}"}
    except KBError as err:
        return {"error": type(err).__name__, "message": str(err)}
    finally:
        with contextlib.suppress(OSError):
            os.unlink(part)
    return {"done": True, "bytes": os.path.getsize(job.output)}
