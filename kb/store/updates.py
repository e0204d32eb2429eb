"""Which graphs a SPARQL update writes: a shared server's other graphs are never touched, and a
KB that takes writes only in its own namespace (``own_graphs_only``) refuses the others."""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox

from kb.errors import ForbiddenQuery, OutsideNamespace, QuerySyntaxError
from kb.query.worker import syntax_error
from kb.store.protocol import PARSE_LOCK

_WHOLE = ("DEFAULT", "ALL", "NAMED")


def written_graphs(sparql: str, prefixes: dict[str, str], base_iri: str | None = None,
                   probe: bool = True) -> list[str]:
    """Return every graph the update writes; DEFAULT, ALL or NAMED for the unnamed ones, and
    ``?name`` for a graph a template picks by a variable. Relative IRIs resolve against ``base_iri``.

    ``probe`` first runs the update on an empty store for Oxigraph's syntax errors: only for an
    update the fenced query check (kb.query.guard) has passed, as LOAD and SERVICE would reach
    the network from this process. Without it, rdflib's parser reports the syntax errors.
    """
    if probe:
        try:
            # Oxigraph's parser gives the positions; running it on an empty store costs nothing.
            ox.Store().update(sparql, prefixes=prefixes, base_iri=base_iri)
        except SyntaxError as err:
            raise syntax_error(str(err)) from None
        except (RuntimeError, OSError):
            pass  # it parsed; on no data, DROP GRAPH <g> (no SILENT) fails: that is not the update's fault
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate
    from rdflib.term import Variable

    base = [f"BASE <{ox.NamedNode(base_iri).value}>"] if base_iri else []
    prologue = "".join(f"{line}\n" for line in base + [f"PREFIX {k}: <{v}>" for k, v in prefixes.items()])
    try:
        with PARSE_LOCK:  # rdflib's parser is not thread-safe
            operations = translateUpdate(parseUpdate(prologue + sparql)).algebra
    except ParseBaseException as err:
        shift = prologue.count("\n")  # the positions in the update as sent
        raise QuerySyntaxError(err.lineno - shift, err.col, " ".join(err.msg.split())) from None
    except Exception as err:  # rdflib's parser lags the standard in places: refuse, and say so
        raise ForbiddenQuery(f"cannot tell which graphs this update writes ({type(err).__name__})") from None
    out: list[str] = []
    for op in operations:
        if op.name in ("InsertData", "DeleteData", "DeleteWhere"):
            out += [str(g) for g in op.quads] + (["DEFAULT"] if op.triples else [])
        elif op.name == "Modify":
            # CompValue.get(key) answers the key itself when it is missing: test with `in`.
            for clause in (op[k] for k in ("delete", "insert") if k in op):
                out += [f"?{g}" if isinstance(g, Variable) else str(g) for g in clause.quads]
                if clause.triples:
                    out.append(str(op["withClause"]) if "withClause" in op else "DEFAULT")
        elif op.name in ("Clear", "Drop", "Create"):
            out.append(str(op.graphiri))
        elif op.name == "Load":  # refused before it runs (kb.query.guard); named here all the same
            out.append(str(op["graphiri"]) if "graphiri" in op else "DEFAULT")
        elif op.name in ("Add", "Move", "Copy"):
            out += [str(g) for g in op.graph[1:]]
            if op.name == "Move":
                out.append(str(op.graph[0]))  # MOVE empties its source
        else:
            raise ForbiddenQuery(f"{op.name} is not allowed on a shared SPARQL server")
    return out


def check_update(sparql: str, prefixes: dict[str, str], own: Callable[[str], bool]) -> list[str]:
    """Refuse an update that writes the server's default graph or any graph not the KB's own;
    return the graphs it writes."""
    graphs = written_graphs(sparql, prefixes)
    for graph in graphs:
        if graph in _WHOLE:
            raise ForbiddenQuery(
                f"this update writes {graph} graphs; on a SPARQL server an update must name the "
                "KB's own graph (GRAPH <...> or WITH <...>)"
            )
        if graph.startswith("?"):
            raise ForbiddenQuery(f"this update writes GRAPH {graph}, which could be another user's "
                                 "graph; on a SPARQL server an update must name the KB's own graph")
        if not own(graph):
            raise ForbiddenQuery(f"graph <{graph}> is not one of this knowledge base's graphs")
    return graphs


def check_own_graphs(sparql: str, prefixes: dict[str, str], base_iri: str | None,
                     own: Callable[[str], bool]) -> None:
    """Refuse (OutsideNamespace) an update that names a graph outside the KB's namespace.

    The store's default graph, and DEFAULT, NAMED and ALL, are the KB's; a graph a template
    picks by a variable could be any graph, so it is refused too.
    """
    # Not probed: this runs before the fenced check (the backend's worker), so nothing may run here.
    try:
        graphs = written_graphs(sparql, prefixes, base_iri, probe=False)
    except QuerySyntaxError:
        # The backend's fenced check parses with the same grammar (kb.query.guard), so it refuses
        # this update too, and says where the engine finds the error; nothing is written.
        return
    for graph in graphs:
        if graph.startswith("?"):
            raise OutsideNamespace(f"this update writes GRAPH {graph}, which could be any graph: this "
                                   "knowledge base takes writes only in its own graph namespace "
                                   "(--own-graphs-only); name the graph")
        if graph not in _WHOLE and not own(graph):
            raise OutsideNamespace.for_graph(graph)
