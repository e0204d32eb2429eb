"""One write of the durability machine in its own process, so that CKB_TEST_CRASH_AT can kill it.

Usage: python tests/durability_child.py '{"op": ..., "store": ...}'. Prints ``ACK <answer>`` once
the write returned (the parent reads it to know that the write committed before any kill), or
``NACK <error>`` and exits 3 when the KB answered that it failed (nothing written).
"""

from __future__ import annotations

import json
import sys

from kb import KnowledgeBase
from kb.store import graphstore

TOKEN = "durability-token"


def main(job: dict) -> None:
    """Open the store, run the job, print what the KB answered."""
    with KnowledgeBase.open(job["store"], update_token=TOKEN) as kb:
        op = job["op"]
        if op == "update":
            kb.update(job["text"], token=TOKEN)
            answer: object = "ok"
        elif op == "gsp":
            triples = graphstore.parse(job["body"].encode(), job["media_type"], None)
            answer = graphstore.write(kb, job["graph"], triples, replace=job["replace"], token=TOKEN)
        elif op == "import":
            graph = kb.import_file(job["file"], name=job["name"])
            answer = [graph, kb.graphs().get(graph, 0)]
        elif op == "dataset":
            from kb.imports import run_import

            result = run_import(kb, job["file"], "ucdp-ged", name=job["name"])
            answer = [result.graph, result.unchanged]
        else:
            raise SystemExit(f"unknown op {op!r}")
        print("ACK", json.dumps(answer), flush=True)


if __name__ == "__main__":
    from kb.errors import KBError

    try:
        main(json.loads(sys.argv[1]))
    except KBError as err:  # the KB said the write failed (e.g. its update worker was killed)
        print("NACK", err, flush=True)
        sys.exit(3)
