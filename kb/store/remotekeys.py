"""Idempotency-Keys on a SPARQL server: recorded in the same update request as the write they name.

The embedded store keeps committed keys beside its folder (kb.store.commits); a server has no
such folder, so each key is a triple in a graph the KB owns, inserted by the same request as the
update. A retried update whose key is there is not applied again. The check and the write are two
requests: one ``ckb serve`` sends its updates one at a time (the writer's lease), so a retry cannot
pass the check while its first attempt is still being applied by the same server process.
"""

from __future__ import annotations

import hashlib

import pyoxigraph as ox

from kb.namespaces import GRAPH_BASE
from kb.terms import iri_ref

KEYS = GRAPH_BASE + "system/keys"
_KEY = "<urn:x-ckb:idempotency-key>"


def _node(key: str) -> str:
    # The key is client text: it reaches SPARQL only as a hash in an IRI and as an escaped literal.
    return f"<urn:x-ckb:key:{hashlib.sha256(key.encode('utf-8')).hexdigest()}>"


def ask(key: str) -> str:
    """An ASK that is true if an update with this key already committed on the server."""
    return f"ASK {{ GRAPH {iri_ref(KEYS)} {{ {_node(key)} {_KEY} {ox.Literal(key)} }} }}"


def record(key: str) -> str:
    """The update operation recording this key, to append to the update it names."""
    return f"INSERT DATA {{ GRAPH {iri_ref(KEYS)} {{ {_node(key)} {_KEY} {ox.Literal(key)} }} }}"
