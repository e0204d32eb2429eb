"""Soak: the durability state machine (tests/test_durability_model.py) for thousands of steps.

    python -m benchmarks.soak_durability [--steps 10000] [--steps-per-run 50]

Runs the machine with fresh random draws (Hypothesis, unseeded) until ``--steps`` steps have run
(each step is one operation, a restart or a kill, then the comparison with the model); prints the
steps run, the failures and the time, and writes benchmarks/results/soak-durability.{md,json}.
A failure is shrunk by Hypothesis and its minimal operation sequence goes into the result file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from hypothesis.stateful import invariant, run_state_machine_as_test  # noqa: E402

from tests.test_durability_model import KILLS, DurabilityMachine  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


class Counted(DurabilityMachine):
    """The machine, counting the steps it runs (an invariant runs after each one)."""

    steps = 0
    sequences = 0  # operation sequences begun (each a fresh store and model)

    def __init__(self) -> None:
        super().__init__()
        Counted.sequences += 1

    @invariant()
    def count(self) -> None:
        Counted.steps += 1


def main(argv: list[str] | None = None) -> int:
    """Run the soak; exit status 1 if any run failed."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10_000, help="total steps to run (default 10000)")
    p.add_argument("--steps-per-run", type=int, default=50, help="longest operation sequence per run")
    p.add_argument("--no-shrink", action="store_true", help="report failures unshrunk (faster)")
    p.add_argument("--out", default=str(RESULTS / "soak-durability"), help="result file, without suffix")
    args = p.parse_args(argv)
    phases = [Phase.generate] if args.no_shrink else [Phase.generate, Phase.shrink]
    failures: list[dict] = []
    runs, start = 0, time.monotonic()
    while Counted.steps < args.steps:
        run_settings = settings(max_examples=10, stateful_step_count=args.steps_per_run, deadline=None,
                                database=None, phases=phases, suppress_health_check=list(HealthCheck),
                                print_blob=False)
        before = Counted.steps
        try:
            run_state_machine_as_test(Counted, settings=run_settings)
        except BaseException as err:  # a failing run: keep its minimal example, go on with another seed
            if isinstance(err, KeyboardInterrupt):
                raise
            text = "".join(traceback.format_exception(err))
            failures.append({"run": runs, "error": text[-4000:]})
            print(f"run {runs}: FAILED after {Counted.steps - before} steps", flush=True)
        runs += 1
        print(f"{Counted.steps} steps, {Counted.sequences} sequences, {len(failures)} failures, "
              f"{time.monotonic() - start:.0f} s", flush=True)
    elapsed = time.monotonic() - start
    _write(Path(args.out), args, Counted.steps, runs, failures, elapsed)
    for where, n in sorted(KILLS.items()):
        print(f"  {n:4d}x {where}")
    print(f"steps run: {Counted.steps}; sequences: {Counted.sequences}; failures: {len(failures)}; "
          f"time: {elapsed:.0f} s")
    return 1 if failures else 0


def _write(out: Path, args: argparse.Namespace, steps: int, runs: int, failures: list[dict],
           elapsed: float) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "steps": steps,
              "sequences": Counted.sequences, "runs": runs,
              "failures": len(failures), "seconds": round(elapsed, 1), "steps_per_run": args.steps_per_run,
              "kills": dict(sorted(KILLS.items())), "failed_runs": failures}
    out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    lines = [f"# Durability soak ({record['date']})", "",
             f"`python -m benchmarks.soak_durability --steps {args.steps}`: {steps} steps in "
             f"{Counted.sequences} sequences of at most {args.steps_per_run} steps, {len(failures)} failed, "
             f"{elapsed:.0f} s.", "",
             "Crash points (operation at point: outcome):", "",
             *(f"- {w}: {n}" for w, n in sorted(KILLS.items())), ""]
    for f in failures:
        lines += [f"## failed run {f['run']}", "", "```", f["error"].strip(), "```", ""]
    out.with_suffix(".md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
