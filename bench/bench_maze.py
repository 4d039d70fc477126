"""Novelty search against the plain GA on the deceptive maze (configs/cars-maze.yaml).

    .venv/bin/python bench/bench_maze.py [--seeds 0 1 2 3 4] [--generations 60] [--check]

Runs ``configs/cars-maze.yaml`` once per method (``--methods``, default ``novelty ga``)
and seed, each with the config's population for ``--generations`` generations (so every
method spends the same number of evaluations), serial backend, into ``--out`` (default: a
temporary folder). A run *reaches the goal* when some car of some generation came within
the goal's radius (fitness 1). Prints, per method, how many seeds reached it, the first
generation that did per seed, the median best fitness and the median wall-clock of a run.
``--check``: exit status 1 unless novelty reaches the goal in at least ``--min-novelty``
seeds (default 4) and the GA in at most ``--max-ga`` (default 1).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def run_one(method: str, seed: int, generations: int, out: Path, extra: list[str]) -> dict:
    """One evolution run of the maze config: its rows and wall-clock."""
    from common.config import load_config, named_config
    from evo.config import EvolveConfig
    from evo.run import EvolutionRun

    cfg = load_config(EvolveConfig, named_config("cars-maze"), [
        f"strategy.name={method}", f"seed={seed}", f"generations={generations}",
        "evaluation.backend=serial", *extra])
    t0 = time.perf_counter()
    run = EvolutionRun(cfg, out / f"{method}-{seed}")
    run.run()
    seconds = time.perf_counter() - t0
    best = [float(r["best"]) for r in run.rows]
    first = next((i + 1 for i, b in enumerate(best) if b >= 1.0), None)
    return {"first": first, "best": max(best), "seconds": seconds,
            "evaluations": cfg.population * cfg.episodes * len(best)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--generations", type=int, default=60)
    p.add_argument("--methods", nargs="+", default=["novelty", "ga"])
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config override for every run (e.g. strategy.novelty.k=15)")
    p.add_argument("--out", help="keep the runs here (default: a temporary folder)")
    p.add_argument("--check", action="store_true", help="exit 1 if the floor is not met")
    p.add_argument("--min-novelty", type=int, default=4)
    p.add_argument("--max-ga", type=int, default=1)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        res = {m: [run_one(m, s, args.generations, out, args.set) for s in args.seeds]
               for m in args.methods}
    evals = res[args.methods[0]][0]["evaluations"]
    print(f"maze (configs/cars-maze.yaml), {evals} evaluations per run, seeds {args.seeds}"
          f"{', overrides ' + ' '.join(args.set) if args.set else ''}; "
          f"{platform.processor() or platform.machine()}, load average "
          f"{os.getloadavg()[0]:.1f}")
    print("| method | reached the goal | first generation that reached it, per seed | "
          "median best fitness | median s per run |")
    print("|---|---:|---|---:|---:|")
    reached = {}
    for m, runs in res.items():
        reached[m] = sum(r["first"] is not None for r in runs)
        firsts = ", ".join("-" if r["first"] is None else str(r["first"]) for r in runs)
        print(f"| {m} | {reached[m]} of {len(runs)} | {firsts} | "
              f"{statistics.median(r['best'] for r in runs):.3f} | "
              f"{statistics.median(r['seconds'] for r in runs):.1f} |")
    if args.check:
        ok = (reached.get("novelty", 0) >= args.min_novelty
              and reached.get("ga", 0) <= args.max_ga)
        print(f"floor (novelty >= {args.min_novelty}, ga <= {args.max_ga}): "
              f"{'met' if ok else 'NOT met'}")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
