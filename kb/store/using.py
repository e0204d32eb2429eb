"""The SPARQL Protocol's update dataset (using-graph-uri, using-named-graph-uri), applied to an update.

pyoxigraph's ``Store.update`` takes no dataset, so the protocol's dataset is written into the
update as ``USING <g>`` / ``USING NAMED <g>`` clauses, each from an IRI checked by
``kb.terms.iri_ref``, placed right before the WHERE keyword of every DELETE/INSERT operation
(SPARQL 1.1 Update, rule [41] Modify). Where that keyword is comes from a full parse with
rdflib's SPARQL 1.1 Update grammar: its own rules for Update, Update1 and Modify, assembled
again here with one marker that records the offset of WHERE. Nothing is searched for in the
text, and nothing the client sent is pasted in.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyparsing import Empty, Forward, Optional, ParseBaseException, ZeroOrMore
from rdflib.plugins.sparql import parser as grammar
from rdflib.plugins.sparql.parserutils import Comp, Param, ParamList
from rdflib.plugins.sparql.pyparsing_compat import rest_of_line

from kb.errors import KBError, QuerySyntaxError
from kb.terms import iri_ref

Keyword = grammar.Keyword  # rdflib's keywords are case-insensitive


class DatasetConflict(KBError):
    """The request sets the update's dataset twice: in the protocol and in the update."""

    status = 400


def _offset(text: str, loc: int, toks: object) -> list[int]:
    return [loc]


# [41] Modify, as rdflib writes it, plus the offset of WHERE (after whitespace and comments).
_MODIFY = Comp(
    "Modify",
    Optional(Keyword("WITH") + Param("withClause", grammar.iri))
    + (
        Param("delete", grammar.DeleteClause) + Optional(Param("insert", grammar.InsertClause))
        | Param("insert", grammar.InsertClause)
    )
    + ZeroOrMore(ParamList("using", grammar.UsingClause))
    + Param("where_at", Empty().set_parse_action(_offset))
    + Keyword("WHERE")
    + Param("where", grammar.GroupGraphPattern),
)
# [30] Update1 and [29] Update, with the Modify above.
_UPDATE1 = (
    grammar.Load | grammar.Clear | grammar.Drop | grammar.Add | grammar.Move | grammar.Copy
    | grammar.Create | grammar.InsertData | grammar.DeleteData | grammar.DeleteWhere | _MODIFY
)
_UPDATE = Forward()
_UPDATE <<= ParamList("prologue", grammar.Prologue) + Optional(
    ParamList("request", _UPDATE1) + Optional(";" + _UPDATE)
)
_UNIT = Comp("Update", _UPDATE)
_UNIT.ignore("#" + rest_of_line)


def _original_offset(update: str, expanded_offset: int) -> int:
    """Map an offset in the \\u-expanded text (what the grammar sees) back to ``update``."""
    shift = 0
    for m in grammar.expandUnicodeEscapes_re.finditer(update):
        if m.start() - shift >= expanded_offset:
            break
        shift += len(m.group(0)) - 1
    return expanded_offset + shift


def where_offsets(update: str) -> list[tuple[int, bool]]:
    """Return, for each DELETE/INSERT ... WHERE operation, (offset of WHERE, has WITH/USING)."""
    try:
        expanded = grammar.expandUnicodeEscapes(update)
        tree = _UNIT.parse_string(expanded, parse_all=True)[0]
    except ParseBaseException as err:
        raise QuerySyntaxError(err.lineno, err.col, "the update does not parse") from None
    except ValueError as err:  # a \u escape naming no code point
        raise QuerySyntaxError(None, None, str(err)) from None
    except RecursionError:
        # pyparsing recurses once per nested group and per operation after a ';'.
        raise DatasetConflict(
            "the update is nested too deeply, or has too many operations, to place "
            "using-graph-uri / using-named-graph-uri in it; send it without them"
        ) from None
    found = []
    # CompValue.get(key, default) does not take a default: it reads its second argument as a flag.
    for op in tree["request"] if "request" in tree else []:  # noqa: SIM401
        if op.name == "DeleteWhere":
            raise DatasetConflict(
                "using-graph-uri / using-named-graph-uri cannot apply to DELETE WHERE, which "
                "takes no dataset; write it as DELETE { ... } WHERE { ... }"
            )
        if op.name == "Modify":
            own = "withClause" in op or "using" in op
            found.append((_original_offset(update, op["where_at"]), own))
    return found


def with_using(update: str, default: Sequence[str] = (), named: Sequence[str] = ()) -> str:
    """Return ``update`` with the protocol's dataset as USING / USING NAMED clauses."""
    if not default and not named:
        return update
    clauses = " ".join(
        [f"USING {iri_ref(g)}" for g in default] + [f"USING NAMED {iri_ref(g)}" for g in named]
    )
    offsets = where_offsets(update)
    if any(own for _, own in offsets):
        raise DatasetConflict(
            "the update names its own dataset (WITH, USING or USING NAMED) and the request "
            "sets using-graph-uri / using-named-graph-uri; send only one of them"
        )
    for at, _ in reversed(offsets):
        update = f"{update[:at]}{clauses} {update[at:]}"
    return update
