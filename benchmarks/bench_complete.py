"""Completion benchmark: the query editor's /api/complete at a generated store's size.

python -m benchmarks.bench_complete --triples 1000000 --requests 300 --out benchmarks/results/

The store is a real on-disk KnowledgeBase holding the bundle plus the generated file
(benchmarks.generate) as an import graph, as in benchmarks.bench_pages. Requests go through
the Flask app in-process, one at a time, so the figures are the server's own time per answer
(no network, no queueing). The first request after the import builds the completion index
(kb.derived.labels) and is timed on its own ("cold"); the three contexts are then timed with
typed text drawn (seeded) from the store's own labels and classes:

- class: ``?x a ckb:Cl`` -- prefixed-name and word prefixes of the ontology's classes;
- property: ``?x a ckb:Clash . ?x ckb:`` -- the properties of a class, with and without text;
- entity: ``Hezb`` -- two to six letters of a random label (a word of it, or its start).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from benchmarks.bench_pages import percentiles  # noqa: E402
from benchmarks.report import size_label, write_result  # noqa: E402

CKB = "https://w3id.org/conflict-kb/ontology#"
TARGET_P95_MS = 50.0


def contexts(kb: Any, rng: random.Random, n: int) -> dict[str, list[str]]:
    """The request URLs per context, ``n`` each, drawn from the store's own terms and labels."""
    from kb.derived.labels import class_usage, label_index
    from kb.views.complete import ontology, shorten

    onto, index, usage = ontology(kb), label_index(kb), class_usage(kb)
    assert index is not None and usage is not None, "the benchmark needs the embedded store"
    classes = sorted(onto.classes)
    used = sorted(c for c in classes if usage.usage.get(c)) or classes
    props = sorted(onto.properties)

    def url(**params: Any) -> str:
        return "/api/complete?" + urlencode(params, doseq=True)

    def cut(word: str) -> str:
        return word[: rng.randint(1, max(1, min(len(word), 4)))]

    out: dict[str, list[str]] = {"class": [], "property": [], "entity": []}
    for _ in range(n):
        name = shorten(rng.choice(classes))
        pname = name.split(":", 1)
        typed = pname[0] + ":" + cut(pname[1]) if len(pname) == 2 else cut(name)
        out["class"].append(url(kind="class", q=rng.choice([typed, cut(name.split(":")[-1]), "ckb:"])))
        prop = shorten(rng.choice(props)).split(":")
        out["property"].append(url(kind="property", q=rng.choice(["", "ckb:", prop[0] + ":" + cut(prop[-1])]),
                                   **{"class": shorten(rng.choice(used))}))
        _, label, _ = rng.choice(index.entries)
        words = [w for w in label.split() if len(w) >= 2] or [label]
        word = rng.choice(words) if rng.random() < 0.5 else label
        out["entity"].append(url(kind="entity", q=word[: rng.randint(2, 6)]))
    return out


def run(triples: int, requests: int, workdir: Path) -> dict[str, Any]:
    """Generate, load, build the index once and time each context; return the figures."""
    from kb import KnowledgeBase
    from webui import create_app

    load_at_start = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    data = workdir / f"synth-{triples}.nt"
    with data.open("w", encoding="utf-8") as fh:
        written = generate.write(triples, fh, seed=7)
    kb = KnowledgeBase.open(workdir / "store", timeout=30.0)
    kb.ensure_loaded()
    t0 = time.perf_counter()
    kb.import_file(data, name="synthetic")
    load_s = time.perf_counter() - t0
    client = create_app({"KB": kb}).test_client()
    t0 = time.perf_counter()
    first = client.get("/api/complete?kind=entity&q=Hezb")
    cold_s = time.perf_counter() - t0
    assert first.status_code == 200, first.get_data(as_text=True)
    t0 = time.perf_counter()
    assert client.get("/api/complete?kind=property&class=ckb:Clash").status_code == 200
    cold_usage_s = time.perf_counter() - t0
    from kb.derived.labels import label_index

    index = label_index(kb)
    urls = contexts(kb, random.Random(7), requests)
    out: dict[str, Any] = {
        "triples_written": written, "store_triples": sum(kb.graphs().values()),
        "import_seconds": round(load_s, 2), "cold_first_request_seconds": round(cold_s, 2),
        "cold_first_property_seconds": round(cold_usage_s, 2),
        "labels_indexed": len(index.entries) if index else 0,
        "word_keys": len(index.word_keys) if index else 0,
        "target_p95_ms": TARGET_P95_MS, "contexts": {}, "examples": {}}
    for name, batch in urls.items():
        times, errors, empty = [], 0, 0
        for path in batch:
            t = time.perf_counter()
            r = client.get(path)
            times.append(time.perf_counter() - t)
            errors += r.status_code != 200
            empty += r.status_code == 200 and not r.get_json()["results"]
        out["contexts"][name] = percentiles(times) | {"errors": errors, "empty": empty}
        out["examples"][name] = batch[:3]
    # A write starts a new generation: the next request rebuilds the index and sees the write.
    kb.update_token = "bench"
    kb.update('INSERT DATA { <https://w3id.org/conflict-kb/id/bench-new> '
              '<http://www.w3.org/2000/01/rdf-schema#label> "Qwertyuiop Brigade" }', token="bench")
    t0 = time.perf_counter()
    after = client.get("/api/complete?kind=entity&q=Qwerty").get_json()["results"]
    out["rebuild_after_write_seconds"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    client.get("/api/complete?kind=property&class=ckb:Clash")
    out["usage_after_write_seconds"] = round(time.perf_counter() - t0, 2)
    out["write_seen"] = [r["label"] for r in after] == ["Qwertyuiop Brigade"]
    out["load_average"] = load_at_start
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    kb.close()
    return out


def markdown(result: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    lines = [f"## Editor completion (/api/complete) at {result['store_triples']:,} triples",
             "",
             f"Generated {result['triples_written']:,} triples (benchmarks.generate, seed 7) imported beside "
             f"the bundle in {result['import_seconds']} s. The first entity request read the label index "
             f"({result['labels_indexed']:,} labels, {result['word_keys']:,} word keys) in "
             f"{result['cold_first_request_seconds']} s, the first property request the class usage in "
             f"{result['cold_first_property_seconds']} s; after a write (one labelled entity inserted) "
             f"the next requests read them again in {result['rebuild_after_write_seconds']} s and "
             f"{result['usage_after_write_seconds']} s, and "
             f"{'found' if result['write_seen'] else 'DID NOT find'} the new label "
             f"(`ckb serve` reads both ahead after start and after each write: webui.warm). "
             f"Load average at the start {result['load_average']}; peak RSS {result['peak_rss_mib']} MiB. "
             "In-process Flask client, one request at a time; "
             f"target p95 <= {result['target_p95_ms']:.0f} ms.",
             "", "| context | n | p50 ms | p95 ms | p99 ms | max ms | errors | empty answers |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in result["contexts"].items():
        lines.append(f"| {name} | {r['n']} | {r['p50']:.2f} | {r['p95']:.2f} | {r['p99']:.2f} | "
                     f"{r['max']:.2f} | {r['errors']} | {r['empty']} |")
    shown = [f"`{urls[0]}`" for urls in result["examples"].values() if urls]
    lines += ["", "Example requests: " + "; ".join(shown)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_complete", description=__doc__)
    ap.add_argument("--triples", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=300, help="requests per context")
    ap.add_argument("--out", default="benchmarks/results/")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ckb-complete-") as tmp:
        result = run(args.triples, args.requests, Path(tmp))
    write_result(args.out, f"complete-{size_label(args.triples)}", result, markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
