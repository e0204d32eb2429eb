"""Describe the machine, and write a benchmark run as JSON and as a Markdown table."""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path

from benchmarks.queries import QUERY_ORDER

COLUMNS = ("load", "first", *QUERY_ORDER, "serialise")
HEADINGS = {"load": "load", "first": "first query", "join5": "join (5 patterns)", "group_by": "GROUP BY",
            "contains": "label CONTAINS", "path": "subOrganizationOf+",
            "serialise": "serialise all"}


def machine() -> dict:
    """CPU, cores, memory, OS and library versions, for the record."""
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            names = (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
            cpu = next(names, "")
        with open("/proc/meminfo", encoding="utf-8") as fh:
            mem_kib = int(fh.readline().split()[1])
    except OSError:
        mem_kib = 0
    versions = {}
    for pkg in ("rdflib", "pyoxigraph", "conflict-kb"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1),
            "os": platform.platform(), "python": platform.python_version(), **versions}


def size_label(n: int) -> str:
    """1000000 -> '1M', 100000 -> '100k'."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def _secs(s: float) -> str:
    if s < 0.01:
        return f"{s * 1000:.1f} ms"
    if s >= 100:
        return f"{s:.0f} s"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s" if s < 10 else f"{s:.1f} s"


def _mem(kib: int) -> str:
    return f"{kib / 2**20:.2f} GiB" if kib >= 2**20 else f"{kib / 1024:.0f} MiB"


def _ratio(r: float) -> str:
    if r < 0.1:
        return f"{r:.2f}x"
    return f"{r:.0f}x" if r >= 100 else f"{r:.1f}x"


def _cell(entry: dict | None, base: dict | None, timeout: float) -> str:
    if entry is None:
        return "n/a"
    if entry.get("median") is None:
        status = entry.get("status", "not run")
        return f"timeout (>{_secs(timeout)})" if status == "timeout" else status.split(":")[0]
    text = _secs(entry["median"])
    if base is None or base is entry:
        return text
    if base.get("median"):
        return f"{text} ({_ratio(base['median'] / entry['median'])})"
    if base.get("status") == "timeout":
        return f"{text} (>{timeout / entry['median']:.0f}x)"
    return text


def markdown(run: dict) -> str:
    """The run as a Markdown table: medians, and how many times faster than rdflib."""
    stores, timeout = run["stores"], run["timeout_s"]
    base = stores.get("rdflib")
    m = run["machine"]
    lines = [
        f"### {size_label(run['requested_triples'])} synthetic triples "
        f"({run['triples']:,} triples, {run['data_bytes'] / 2**20:.0f} MiB N-Triples, "
        f"seed {run['seed']})",
        "",
        f"Median of {run['repeat']} runs per query; load, first query, serialise and reopen "
        "run once. In brackets: times faster than rdflib (memory: times smaller). "
        f"Limit {_secs(timeout)} per operation. Peak RSS: the store process's high-water mark, "
        "or the sum over all its processes (kb queries run in worker processes) sampled "
        "every 0.1 s, whichever is larger.",
        "",
        "| store | " + " | ".join(HEADINGS[c] for c in COLUMNS)
        + " | peak RSS | reopen |",
        "|---" * (len(COLUMNS) + 3) + "|",
    ]
    for store in stores.values():
        ops = store["ops"]
        cells = [_cell(ops.get(c), base["ops"].get(c) if base else None, timeout)
                 for c in COLUMNS]
        peak = _peak(store)
        mem = _mem(peak)
        if base and store is not base and peak:
            mem += f" ({_ratio(_peak(base) / peak)})"
        reopen = _cell(ops.get("reopen"), None, timeout) if "reopen" in ops else "n/a"
        lines.append(f"| {store['label']} | " + " | ".join(cells) + f" | {mem} | {reopen} |")
    lines += ["", "Memory while querying (largest RSS of all the store's processes during the "
              "queries): " + ", ".join(f"{s['label']} {_mem(_query_rss(s))}" for s in stores.values()
                                       if _query_rss(s)) + "."]
    lines += ["", "Rows returned (must agree across stores): " + ", ".join(
        f"{q} {_sizes(stores, q)}" for q in QUERY_ORDER) + "."]
    lines += ["", f"Machine: {m['cpu']}, {m['cores']} cores (shared with other work), "
              f"{m['memory_gib']} GiB RAM; {m['os']}; Python {m['python']}, "
              f"rdflib {m['rdflib']}, pyoxigraph {m['pyoxigraph']}. Run {run['started']}.", ""]
    return "\n".join(lines)


def _peak(store: dict) -> int:
    """The store process's own high-water RSS, or the sampled sum over its processes if larger."""
    return max(store["peak_rss_kib"], store["peak_tree_rss_kib"])


def _query_rss(store: dict) -> int:
    return max((store["ops"].get(q, {}).get("tree_rss_kib", 0) for q in QUERY_ORDER), default=0)


def _sizes(stores: dict, query: str) -> str:
    sizes = {s["ops"].get(query, {}).get("size") for s in stores.values()} - {None}
    if len(sizes) <= 1:
        return f"{sizes.pop():,}" if sizes else "n/a"
    per = ", ".join(f"{k}={s['ops'].get(query, {}).get('size')}" for k, s in stores.items())
    return f"MISMATCH ({per})"


def write_result(out: str | Path, stem: str, result: dict, text: str) -> None:
    """Write ``stem``.json (the figures) and ``stem``.md (``text``) into ``out``, and print the text."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (folder / f"{stem}.md").write_text(text, encoding="utf-8")
    print(text)


def write_reports(run: dict, out: Path) -> tuple[Path, Path]:
    """Write bench-<size>.json and bench-<size>.md into ``out``."""
    stem = f"bench-{size_label(run['requested_triples'])}"
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(run, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path.write_text(markdown(run), encoding="utf-8")
    return json_path, md_path


def main(argv: list[str] | None = None) -> int:
    """Re-render the Markdown table of saved runs: python -m benchmarks.report bench-1M.json."""
    import sys

    for name in argv if argv is not None else sys.argv[1:]:
        path = Path(name)
        run = json.loads(path.read_text(encoding="utf-8"))
        _, md = write_reports(run, path.parent)
        print(md.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
