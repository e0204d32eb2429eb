"""Write a serving benchmark run as JSON and as Markdown tables."""

from __future__ import annotations

import json
import statistics
from pathlib import Path


def _mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB"


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f} ms" if v >= 10 else f"{v:.1f} ms"


def _errors(e: dict) -> str:
    return ", ".join(f"{n}x {code or 'no answer'}" for code, n in sorted(e.items())) or "0"


def markdown(run: dict) -> str:
    """The run as Markdown: one section per phase it holds."""
    m = run["machine"]
    lines = [f"# Serving benchmark, {run['triples']:,} triples (+ the bundle)", "",
             f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, "
             f"pyoxigraph {m['pyoxigraph']}. Started {run.get('started_first', run['started'])}; "
             "load average "
             f"{run['load_avg_start'][0]:.1f} at the start, {run['load_avg_end'][0]:.1f} at the end "
             "(of the last phase run)."
             + "".join(f" {k}: {v} s." for k, v in run.get("durations_s", {}).items()), ""]
    for key, section in (("load", _load), ("open", _open), ("queries", _queries), ("serve", _serve)):
        if key in run:
            lines += section(run[key])
    lines += [f"- Phase {name} failed: {why}" for name, why in run.get("failed", {}).items()]
    return "\n".join(lines) + "\n"


def _load(load: dict) -> list[str]:
    lines = ["## Load, re-import, disk", "",
             "| step | time | peak RSS | store on disk |", "|---|---|---|---|"]
    imp = load["import"]
    for label, key in (("first import (`ckb import`)", "import"),
                       ("claim index (`ckb index`, after the import)", "index"),
                       ("re-import, same file", "reimport"),
                       ("raw `bulk_load`, default graph", "raw_default"),
                       ("raw `bulk_load`, one named graph", "raw_named")):
        if key in load:
            r = load[key]
            lines.append(f"| {label} | {r['seconds']:.1f} s | {r['peak_rss_mib']} MiB "
                         f"| {_mb(r['store_bytes'])} |")
    lines.append("")
    if "reimport" in load:
        re = load["reimport"]
        lines.append(f"- Re-import / first import: **{re['seconds'] / imp['seconds']:.2f}x** time, "
                     f"**{re['peak_rss_mib'] / imp['peak_rss_mib']:.2f}x** peak memory.")
    if "raw_default" in load:
        synth = imp["store_bytes"] - load["bundle_bytes"]
        raw = load["raw_default"]["store_bytes"]
        lines.append(f"- Disk: kb store (synthetic graph alone, bundle's {_mb(load['bundle_bytes'])} "
                     "taken off) "
                     f"/ raw default-graph store: **{synth / raw:.2f}x**; raw named-graph store / raw "
                     f"default-graph store: **{load['raw_named']['store_bytes'] / raw:.2f}x**.")
    return [*lines, ""]


def _open(opened: dict) -> list[str]:
    return ["## Open to first answer (fresh process, median)", "",
            "| import kb (Python) | open | open + first answer | counting every graph (what opening "
            "used to do) |", "|---|---|---|---|",
            f"| {opened.get('import_s', 0) * 1000:.0f} ms | {opened['open_s'] * 1000:.0f} ms "
            f"| {opened['first_answer_s'] * 1000:.0f} ms | {opened['count_all_s'] * 1000:.0f} ms |", ""]


def _queries(queries: dict) -> list[str]:
    lines = ["## Queries: kb against raw pyoxigraph, same store", "",
             "Both end with every row as pyoxigraph terms; kb runs the query in its fenced worker "
             "(check, evaluation, answer through a pipe). Median and best of the runs; the last "
             "column is what kb's `.rows` adds to turn the terms into rdflib ones.", "",
             "| query | kb | raw | kb / raw | kb best | raw best | best / best | rows | + rdflib rows |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, q in queries.items():
        best = (f"{q['kb_best_s']:.3f} s | {q['raw_best_s']:.3f} s | {q['best_ratio']:.2f}x"
                if "kb_best_s" in q else "- | - | -")
        lines.append(f"| {name} | {q['kb_s']:.3f} s | {q['raw_s']:.3f} s | {q['ratio']:.2f}x | {best} | "
                     f"{'/'.join(str(r) for r in q['rows'])} | "
                     f"{str(q['rdflib_s']) + ' s' if 'rdflib_s' in q else '-'} |")
    return [*lines, ""]


def _serve(serve: dict) -> list[str]:
    lines = [f"## Entity pages ({serve['entities']} entities: claims, backings, actors, events; "
             f"{serve.get('page_seconds', 20):g} s per run)", "",
             "| clients | pages/s | p50 | p95 | p99 | max | errors |", "|---|---|---|---|---|---|---|"]
    for clients in (8, 32):
        p = serve[f"pages_{clients}"]
        lines.append(f"| {clients} | {p['per_second']} | {_ms(p['p50_ms'])} | {_ms(p['p95_ms'])} | "
                     f"{_ms(p['p99_ms'])} | {_ms(p['max_ms'])} | {_errors(p['errors'])} |")
    mixed = serve["mixed"]
    lines += ["", f"## Mixed load: 16 cheap clients + 2 heavy ones (limit {serve['timeout_s']:g} s, "
              f"{serve.get('mixed_seconds', 60):g} s)", "",
              "| requests | answered | per s | p50 | p95 | p99 | max | errors |",
              "|---|---|---|---|---|---|---|---|"]
    for label, key in (("cheap, all", "cheap"), ("cheap: entity pages", "cheap_pages"),
                       ("cheap: small SELECTs", "cheap_selects")):
        c = mixed[key]
        lines.append(f"| {label} | {c['ok']} | {c['per_second']} | {_ms(c['p50_ms'])} | {_ms(c['p95_ms'])} | "
                     f"{_ms(c['p99_ms'])} | {_ms(c['max_ms'])} | {_errors(c['errors'])} |")
    lines += ["", _heavy(mixed["heavy"], serve["timeout_s"])]
    if "mixed_selects" in serve:
        c = serve["mixed_selects"]["cheap"]
        lines += ["", "Again with the 16 cheap clients sending small SELECTs only (no entity pages):", "",
                  "| requests | answered | per s | p50 | p95 | p99 | max | errors |",
                  "|---|---|---|---|---|---|---|---|",
                  f"| cheap SELECTs | {c['ok']} | {c['per_second']} | {_ms(c['p50_ms'])} | "
                  f"{_ms(c['p95_ms'])} | {_ms(c['p99_ms'])} | {_ms(c['max_ms'])} | "
                  f"{_errors(c['errors'])} |", "",
                  _heavy(serve["mixed_selects"]["heavy"], serve["timeout_s"])]
    return [*lines, "", f"Server process tree peak RSS: {serve['server_peak_rss_mib']} MiB.", ""]


def _heavy(heavy: list[dict], limit: float) -> str:
    times = [h["seconds"] for h in heavy]
    statuses: dict[int, int] = {}
    for h in heavy:
        statuses[h["status"]] = statuses.get(h["status"], 0) + 1
    late = sum(1 for t in times if t > limit + 1)
    return (f"Heavy queries: {len(heavy)} answered ("
            + ", ".join(f"{n}x {s}" for s, n in sorted(statuses.items())) + "); time to answer "
            + (f"min {min(times):.2f} s, median {statistics.median(times):.2f} s, max {max(times):.2f} s; "
               if times else "") + f"{late} past limit + 1 s.")


def write_report(run: dict, out: Path, suffix: str = "") -> tuple[Path, Path]:
    """Write serving-<size><suffix>.json and .md into ``out`` (a suffix names a partial run)."""
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"serving-{run['size']}{suffix}.json"
    md_path = out / f"serving-{run['size']}{suffix}.md"
    json_path.write_text(json.dumps(run, indent=1) + "\n", encoding="utf-8")
    md_path.write_text(markdown(run), encoding="utf-8")
    return json_path, md_path
