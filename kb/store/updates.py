"""Which graphs a SPARQL update writes, so a shared server's other graphs are never touched."""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox

from kb.errors import ForbiddenQuery
from kb.query.worker import syntax_error

_WHOLE = ("DEFAULT", "ALL", "NAMED")


def written_graphs(sparql: str, prefixes: dict[str, str]) -> list[str]:
    """Return every graph the update writes; DEFAULT, ALL or NAMED for the unnamed ones."""
    try:
        # Oxigraph's parser gives the positions; running it on an empty store costs nothing.
        ox.Store().update(sparql, prefixes=prefixes)
    except SyntaxError as err:
        raise syntax_error(str(err)) from None
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    prologue = "".join(f"PREFIX {k}: <{v}>\n" for k, v in prefixes.items())
    try:
        operations = translateUpdate(parseUpdate(prologue + sparql)).algebra
    except Exception as err:  # rdflib's parser lags the standard in places: refuse, and say so
        raise ForbiddenQuery(f"cannot tell which graphs this update writes ({type(err).__name__})") from None
    out: list[str] = []
    for op in operations:
        if op.name in ("InsertData", "DeleteData", "DeleteWhere"):
            out += [str(g) for g in op.quads] + (["DEFAULT"] if op.triples else [])
        elif op.name == "Modify":
            for clause in (op.get("delete"), op.get("insert")):
                if clause is None:
                    continue
                out += [str(g) for g in clause.quads]
                if clause.triples:
                    out.append(str(op.withClause) if op.get("withClause") else "DEFAULT")
        elif op.name in ("Clear", "Drop", "Create"):
            out.append(str(op.graphiri))
        elif op.name in ("Add", "Move", "Copy"):
            out += [str(g) for g in op.graph[1:]]
            if op.name == "Move":
                out.append(str(op.graph[0]))  # MOVE empties its source
        else:
            raise ForbiddenQuery(f"{op.name} is not allowed on a shared SPARQL server")
    return out


def check_update(sparql: str, prefixes: dict[str, str], own: Callable[[str], bool]) -> None:
    """Refuse an update that writes the server's default graph or any graph not the KB's own."""
    for graph in written_graphs(sparql, prefixes):
        if graph in _WHOLE:
            raise ForbiddenQuery(
                f"this update writes {graph} graphs; on a SPARQL server an update must name the "
                "KB's own graph (GRAPH <...> or WITH <...>)"
            )
        if not own(graph):
            raise ForbiddenQuery(f"graph <{graph}> is not one of this knowledge base's graphs")
