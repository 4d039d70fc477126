"""PPO walkers on ground they never saw: train ``neuroevo reinforce walkers`` per seed for a
wall-clock budget, then let its best walker walk 60 s on the held-out procedural terrains,
measured exactly as ``bench/bench_walkers.py`` measures evolution's.

    .venv/bin/python bench/bench_pg_walkers.py [--seeds 0 1 2] [--budget 900]
        [--config FILE] [--set KEY=VALUE ...] [--steps N] [--out runs/bench-pg-walkers]
        [--terrains ...] [--time 60]

Each seed runs ``neuroevo reinforce walkers --headless --quiet`` in a subprocess (the
shipped ``configs/reinforce-walkers.yaml`` unless ``--config``; its ``total_steps`` sets the
learning-rate schedule, ``--steps`` another), one seed after another; a run still going
after ``--budget`` seconds gets a Ctrl-C (it finishes its iteration, saves and exits).
Then :func:`bench_walkers.measure` walks its ``best.npz`` alone for ``--time`` seconds on
flat ground and on each of ``--terrains`` (default ``procedural:100..104:1``, never trained
or tuned on).  Prints a markdown table (one row per seed) and the medians over seeds, then
one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_walkers import HELD_OUT, header, measure, print_measure, run_for  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def train(seed: int, args, out: Path) -> tuple[float, bool]:
    """``neuroevo reinforce walkers`` for one seed: (wall-clock seconds, stopped by the
    budget)."""
    cmd = [sys.executable, "-m", "neuroevo", "reinforce", "walkers", "--headless", "--quiet",
           "--seed", str(seed), "--out", str(out), "--force"]
    if args.config:
        cmd += ["--config", args.config]
    if args.steps:
        cmd += ["--steps", str(args.steps)]
    for s in args.set:
        cmd += ["--set", s]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    return run_for(cmd, args.budget, env, cwd=ROOT)


def last_row(out: Path) -> dict:
    with open(out / "returns.csv") as f:
        rows = list(csv.DictReader(f))
    return rows[-1] if rows else {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--budget", type=float, default=900.0, help="training seconds per seed")
    ap.add_argument("--config", help="config file (default configs/reinforce-walkers.yaml)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--steps", type=int, help="total_steps (the learning-rate schedule)")
    ap.add_argument("--out", default="runs/bench-pg-walkers")
    ap.add_argument("--terrains", nargs="+", default=HELD_OUT)
    ap.add_argument("--time", type=float, default=60.0, help="seconds on each terrain")
    ap.add_argument("--measure-only", action="store_true",
                    help="measure the runs already in --out (no training)")
    args = ap.parse_args()
    out = Path(args.out)
    runs = []
    for seed in args.seeds:
        d = out / f"seed{seed}"
        secs, stopped = (0.0, False) if args.measure_only else train(seed, args, d)
        runs.append((seed, d, secs, stopped))
    header(args.terrains)
    results = []
    for seed, d, secs, stopped in runs:
        m = measure(str(d / "best.npz"), args.terrains, args.time)
        row = last_row(d)
        m["model"] = (f"seed {seed} ({secs:.0f} s{', budget' if stopped else ''}, "
                      f"{int(row.get('env_steps', 0)):,} steps)")
        print_measure(m, args.terrains)
        results.append(m)
    up = statistics.median(m["held_out_up"] for m in results)
    dist = statistics.median(m["median_distance"] for m in results)
    print(f"\nmedian over seeds: up after {args.time:g} s on {up} of {len(args.terrains)} "
          f"held-out terrains; median distance on them {dist:.1f} m")
    print(json.dumps({"seeds": args.seeds, "budget": args.budget,
                      "held_out_up": [m["held_out_up"] for m in results],
                      "median_distance": [round(m["median_distance"], 2) for m in results],
                      "flat": [round(m["flat"]["distance"], 2) for m in results]}))


if __name__ == "__main__":
    main()
