"""The in-process SPARQL parses (rdflib: a remote query's FROM clauses, an update's operations) give
the same answer from many server threads at once as from one, from a cold start (a fresh process:
the parser's first uses at once are what broke it)."""

from __future__ import annotations

import subprocess
import sys

HAMMER = """
import threading
from kb.store.protocol import own_dataset
from kb.store.updates import written_graphs
DATA = "https://w3id.org/conflict-kb/graph/data"
QUERY = ("SELECT ?s FROM <" + DATA + "> WHERE { ?s <http://www.w3.org/ns/prov#wasDerivedFrom> ?o . "
         "?o ?p ?x FILTER(?x != 3) } LIMIT 5")
UPDATE = "INSERT DATA { GRAPH <" + DATA + "> { <urn:a> <urn:b> <urn:c> } }"
calls = {"query": lambda: own_dataset(QUERY, {}, [DATA]) == ([DATA], [], True),
         "update": lambda: written_graphs(UPDATE, {}, probe=False) == [DATA]}
call = calls[__import__("sys").argv[1]]
wrong = []
def run():
    for _ in range(30):
        try:
            if not call():
                wrong.append("a different answer")
        except Exception as err:
            wrong.append(type(err).__name__ + ": " + str(err))
workers = [threading.Thread(target=run) for _ in range(8)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(len(wrong), wrong[:1])
"""


def _wrong(kind: str) -> str:
    done = subprocess.run([sys.executable, "-c", HAMMER, kind], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_remote_querys_from_clauses_read_alike_from_many_threads() -> None:
    assert _wrong("query") == "0 []"


def test_updates_parse_alike_from_many_threads() -> None:
    assert _wrong("update") == "0 []"
