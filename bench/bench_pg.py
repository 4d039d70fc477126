"""Benchmarks of policy-gradient learning (``neuroevo reinforce``).

    .venv/bin/python bench/bench_pg.py cartpole [--seeds 5] [--steps 100000] [--max-train-s S]
    .venv/bin/python bench/bench_pg.py cars [--seeds 1] [--steps N] [--set KEY=VALUE]

``cartpole``: for each seed, ``neuroevo reinforce gym:CartPole-v1`` with the shipped config
(``configs/reinforce-CartPole-v1.yaml``) in a subprocess, for at most ``--steps``
environment steps in all: the run is given ``--steps`` minus the most the last iteration
can overrun (each of the agents finishing the episode under way: agents x 500 steps), so
the steps it used, read back from ``returns.csv``, never exceed ``--steps``.  Then the
saved ``best.npz`` plays 100 episodes (seeds 10000 onwards, never seen in training), acting
greedily (the argmax of its logits), and their mean return is the seed's score.  Prints
each seed and the median.  ``--max-train-s S``: the floor for its speed; exits with
status 1 when the median training time exceeds S seconds (the test suite once asserted
40k steps in under 30 s: --steps 44000 gives the run 40k; add --max-train-s 30).

``cars``: ``neuroevo reinforce cars`` with the shipped config (``configs/reinforce-cars.yaml``:
the ten procedural training tracks of ``configs/cars.yaml``; ``--steps``: another total than
its 10 million), then its ``best.npz`` judged
as ``neuroevo compare cars`` judges a driver: once on each training track and on each
shipped track (laps driven, lap time, tracks lapped).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's packages, not an installed copy
EVAL_SEED = 10_000
CARTPOLE_MAX_EPISODE = 500


def reinforce(task: str, out: Path, seed: int, steps: int, sets=()) -> float:
    """``neuroevo reinforce TASK`` in a subprocess; returns its wall-clock seconds."""
    cmd = [sys.executable, "-m", "neuroevo", "reinforce", task, "--seed", str(seed),
           "--steps", str(steps), "--out", str(out), "--quiet"]
    for s in sets:
        cmd += ["--set", s]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True)
    return time.perf_counter() - t0


def rows(out: Path) -> list[dict]:
    with open(out / "returns.csv") as f:
        return list(csv.DictReader(f))


def cartpole(args) -> None:
    from common.config import load_config
    from evo.gym_task import evaluate_policy
    from neuroevo.gym_replay import load_gym_policy
    from rl.config import ReinforceConfig

    cfg = load_config(ReinforceConfig, ROOT / "configs" / "reinforce-CartPole-v1.yaml")
    budget = args.steps - cfg.pg.agents * CARTPOLE_MAX_EPISODE
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            out = Path(tmp) / f"seed{seed}"
            wall = reinforce("gym:CartPole-v1", out, seed, budget)
            table = rows(out)
            used = int(table[-1]["env_steps"])
            assert used <= args.steps, (used, args.steps)
            task, theta, mean, scale, _ = load_gym_policy(str(out / "best.npz"))
            ret = evaluate_policy(task, theta, mean, scale, 100, EVAL_SEED)
            first = next((int(r["env_steps"]) for r in table
                          if float(r["return_mean"]) >= 475), None)
            res = {"seed": seed, "steps_used": used, "train_s": round(
                float(table[-1]["seconds"]), 1), "wall_s": round(wall, 1),
                "mean_return_100": float(ret.mean()),
                "first_iteration_mean_475_at_steps": first}
            print(json.dumps(res), flush=True)
            results.append(res)
    med = statistics.median(r["mean_return_100"] for r in results)
    train_s = statistics.median(r["train_s"] for r in results)
    print(json.dumps({"median_mean_return_100": med, "seeds": args.seeds,
                      "max_steps": args.steps, "median_train_s": train_s}))
    if args.max_train_s is not None and train_s > args.max_train_s:
        print(f"slower than the floor: median {train_s} s > {args.max_train_s:g} s")
        raise SystemExit(1)


def cars(args) -> None:
    from common.config import load_config
    from compare.judges import judge_driver
    from evo.config import EvolveConfig
    from evo.policy_file import read_policy
    from rl.config import ReinforceConfig

    evolve_cfg = load_config(EvolveConfig, ROOT / "configs" / "cars.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            out = Path(tmp) / f"seed{seed}"
            steps = args.steps or load_config(
                ReinforceConfig, ROOT / "configs" / "reinforce-cars.yaml").total_steps
            wall = reinforce("cars", out, seed, steps, args.set)
            table = rows(out)
            net = read_policy(out / "best.npz", ("cars",)).net
            judged = judge_driver(evolve_cfg, np.asarray(net.theta, np.float64))
            print(json.dumps({"seed": seed, "steps": int(table[-1]["env_steps"]),
                              "train_s": round(float(table[-1]["seconds"]), 1),
                              "wall_s": round(wall, 1),
                              "last_laps_mean": float(table[-1]["laps_mean"]),
                              "judged": judged}, default=float), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cartpole")
    c.add_argument("--seeds", type=int, default=5)
    c.add_argument("--steps", type=int, default=100_000)
    c.add_argument("--max-train-s", type=float,
                   help="fail (exit 1) when the median training time exceeds this")
    c.set_defaults(func=cartpole)
    k = sub.add_parser("cars")
    k.add_argument("--seeds", type=int, default=1)
    k.add_argument("--steps", type=int, default=None)
    k.add_argument("--set", action="append", default=[])
    k.set_defaults(func=cars)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
