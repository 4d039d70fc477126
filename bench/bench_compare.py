"""Evolution versus gradient descent on MNIST with the same MLP and wall-clock budget.

    NEUROEVO_DATA=../shared/datasets .venv/bin/python bench/bench_compare.py \\
        [--budget-seconds 600] [--seeds 1]

Runs ``neuroevo compare mnist`` (configs/compare.yaml: the same 784-64-10 network for every
method) and prints each method's final test accuracy beside the floors of the project's
issue: backprop >= 97% and the best evolution strategy >= 90% within 10 minutes each.
The run directory (compare.png, report.md, results.json) goes to bench/results/compare-mnist/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FLOORS = {"backprop": 0.97, "evolution": 0.90}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget-seconds", type=float, default=600)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "compare-mnist"))
    args = ap.parse_args()
    cmd = [sys.executable, "-m", "neuroevo", "compare", "mnist", "--budget-seconds",
           f"{args.budget_seconds:g}", "--seeds", str(args.seeds), "--out", args.out, "--quiet"]
    if subprocess.run(cmd, cwd=ROOT).returncode != 0:
        return 1
    results = json.loads((Path(args.out) / "results.json").read_text())["results"]
    print(f"budget {args.budget_seconds:g} s per method and seed, {args.seeds} seed(s)")
    print("| method | final test accuracy (mean over seeds) | parameters |")
    print("|---|---:|---:|")
    best = {"backprop": 0.0, "evolution": 0.0}
    for method, runs in results.items():
        acc = float(np.mean([r["curve"]["accuracy"][-1] for r in runs]))
        family = "backprop" if method.startswith("backprop") else "evolution"
        best[family] = max(best[family], acc)
        print(f"| {method} | {acc:.4f} | {runs[0]['num_params']:,} |")
    ok = True
    for family, floor in FLOORS.items():
        met = best[family] >= floor
        ok &= met
        verdict = "met" if met else "NOT met"
        print(f"best {family}: {best[family]:.4f} (floor {floor:.2f}: {verdict})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
