"""Accuracy and training time of the shipped image configs, on real data.

    NEUROEVO_DATA=../shared/datasets .venv/bin/python bench/bench_images.py \\
        [mnist fashion doodles-cat-bicycle cifar10]

Runs ``neuroevo train CONFIG`` for each config named (default: all four) and prints a
Markdown table of test accuracy and wall-clock seconds (data loading included) beside the
floors of the project's issue.  Run directories go to bench/results/images/.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOORS = {  # config: (accuracy floor, seconds limit)
    "mnist": (0.980, 600),
    "fashion": (0.895, 600),
    "doodles-cat-bicycle": (0.97, 120),
    "cifar10": (0.50, 900),
}


def main(names: list[str]) -> int:
    names = names or list(FLOORS)
    print("| config | test accuracy | floor | seconds | limit |")
    print("|---|---:|---:|---:|---:|")
    failed = False
    for name in names:
        out = ROOT / "bench" / "results" / "images" / name
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "neuroevo", "train", name, "--out", str(out),
                               "--quiet"], cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        m = re.search(r"^test accuracy: (\S+)$", proc.stdout, re.M)
        if proc.returncode != 0 or not m:
            print(f"| {name} | failed: {proc.stderr.strip().splitlines()[-1:]} | | | |")
            failed = True
            continue
        acc = float(m.group(1))
        floor, limit = FLOORS.get(name, (0.0, float("inf")))
        failed |= acc < floor or seconds > limit
        print(f"| {name} | {acc:.4f} | {floor:.3f} | {seconds:.0f} | {limit} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
