"""``neuroevo compare`` on a control task with its seeds run side by side, then merged.

    .venv/bin/python bench/bench_compare_control.py cars --budget-seconds 600 --seeds 3 \\
        --parallel 3 --out runs/compare-cars-600

Starts ``--parallel`` processes at a time, each ``neuroevo compare TASK --seeds 1
--first-seed S`` (every method for seed S, one after the other, with BLAS held to one
thread), then merges their ``results.json`` into one ``report.md``, ``compare.png`` and
``results.json`` in ``--out`` (``compare.run.merge_results``).  Every method of a seed runs
in the same process, under the same load, so the methods stay comparable; what the
budget buys depends on how many processes share the cores (say so with the numbers).
Extra arguments after ``--`` go to every ``neuroevo compare``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's packages, not an installed copy


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("task")
    p.add_argument("--budget-seconds", type=float, default=600)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--out", type=Path, required=True)
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args = p.parse_args(argv[:cut])
    extra = argv[cut + 1:]
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    pending = list(range(args.seeds))
    running: list[tuple[int, subprocess.Popen]] = []
    t0 = time.perf_counter()
    while pending or running:
        while pending and len(running) < args.parallel:
            s = pending.pop(0)
            cmd = [sys.executable, "-m", "neuroevo", "compare", args.task, "--budget-seconds",
                   str(args.budget_seconds), "--seeds", "1", "--first-seed", str(s),
                   "--out", str(args.out / f"seed{s}"), "--force", "--quiet", *extra]
            print(" ".join(cmd[1:]), flush=True)
            running.append((s, subprocess.Popen(cmd, cwd=ROOT, env=env,
                                                stdout=subprocess.DEVNULL)))
        time.sleep(2)
        for s, proc in list(running):
            if proc.poll() is not None:
                running.remove((s, proc))
                if proc.returncode:
                    raise SystemExit(f"seed {s}: neuroevo compare exited {proc.returncode}")
                print(f"seed {s} done after {time.perf_counter() - t0:.0f} s", flush=True)
    from compare.config import CompareConfig
    from compare.report import write_results
    from compare.run import merge_results

    parts = [json.loads((args.out / f"seed{s}" / "results.json").read_text())
             for s in range(args.seeds)]
    results = merge_results(parts)
    first = parts[0]
    write_results(first["task"], args.out, args.budget_seconds, args.seeds, CompareConfig(),
                  results, None, first["generations"], first.get("steps"))
    report = (args.out / "report.md").read_text()
    print(report)
    print(f"{args.seeds} seeds, {args.parallel} at a time, in "
          f"{time.perf_counter() - t0:.0f} s; report: {args.out / 'report.md'}")


if __name__ == "__main__":
    main()
