"""Walkers on ground they never saw: train the walkers config per seed, then let its best
walker walk 60 s on held-out procedural terrains at the top difficulty.

    .venv/bin/python bench/bench_walkers.py train [--seeds 10 11 12 13 14] [--budget 900]
        [--config FILE] [--set KEY=VALUE ...] [--out runs/bench-walkers] [--parallel 1]
    .venv/bin/python bench/bench_walkers.py measure RUN_DIR/best.npz [...]

``train`` runs ``neuroevo evolve walkers --headless`` for each seed in a subprocess (with
``--parallel 2`` two seeds at once, one core each), stops it with Ctrl-C (it saves and
exits) if it is still going after ``--budget`` seconds, then measures its ``best.npz``.
``measure`` replays a model alone, once per terrain (the episode seed 0), for ``--time``
seconds on each of ``--terrains`` (default: ``procedural:100..104:1``, set aside before any
tuning, never trained on) and on flat ground; a walk counts if the walker is still up at
the end. Prints a markdown table per model and, for ``train``, the medians over seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

HELD_OUT = [f"procedural:{100 + i}:1" for i in range(5)]  # never trained or tuned on


def walk(best: str, terrain: str, seconds: float) -> dict:
    """The model ``best`` alone on ``terrain`` for ``seconds``: distance (m), fallen, time
    alive (s)."""
    import numpy as np

    from evo.rollout import run_episode
    from neuroevo.commands.evolve import load_policy

    task, net, _ = load_policy(best, terrain=terrain, max_time=seconds)
    info, _ = run_episode(task.world(1), net, net.theta[None, :].astype(np.float64), seed=0)
    return {"distance": float(info["distance"][0]), "fallen": bool(info["fallen"][0]),
            "time": float(info["time_alive"][0])}


def measure(best: str, terrains: list[str], seconds: float) -> dict:
    rows = {t: walk(best, t, seconds) for t in ["flat", *terrains]}
    held = [rows[t] for t in terrains]
    up = [r for r in held if not r["fallen"]]
    return {"model": best, "rows": rows,
            "held_out_up": len(up), "held_out": len(held),
            "median_distance": statistics.median(r["distance"] for r in held),
            "flat": rows["flat"]}


def print_measure(m: dict, terrains: list[str]) -> None:
    cells = " | ".join(
        f"{r['distance']:.1f} m" + ("" if not r["fallen"] else f" (fell {r['time']:.1f} s)")
        for r in m["rows"].values())
    print(f"| {m['model']} | {cells} | {m['held_out_up']}/{m['held_out']} |", flush=True)


def header(terrains: list[str]) -> None:
    names = ["flat"] + [t.split(":")[1] for t in terrains]
    print(f"| model | {' | '.join(names)} | up after the whole time (held-out) |")
    print("|---|" + "---:|" * (len(names) + 1))


def train_one(seed: int, args, out: Path) -> tuple[str, float, bool]:
    cmd = [sys.executable, "-m", "neuroevo", "evolve", "walkers", "--headless", "--quiet",
           "--seed", str(seed), "--out", str(out), "--force"]
    if args.config:
        cmd += ["--config", args.config]
    for s in args.set:
        cmd += ["--set", s]
    env = dict(os.environ)
    if args.parallel > 1:
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    secs, stopped = run_for(cmd, args.budget, env)
    return str(out / "best.npz"), secs, stopped


def run_for(cmd: list[str], budget: float, env: dict, cwd=None) -> tuple[float, bool]:
    """Run ``cmd``; past ``budget`` seconds send it Ctrl-C (a run saves and exits) and wait.
    Returns (seconds, whether the budget stopped it)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    stopped = False
    try:
        proc.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        proc.wait()
        stopped = True
    return time.perf_counter() - t0, stopped


def train(args) -> None:
    from concurrent.futures import ThreadPoolExecutor

    out = Path(args.out)
    with ThreadPoolExecutor(args.parallel) as pool:
        runs = list(pool.map(lambda s: train_one(s, args, out / f"seed{s}"), args.seeds))
    header(args.terrains)
    results = []
    for seed, (best, secs, stopped) in zip(args.seeds, runs):
        m = measure(best, args.terrains, args.time)
        m["model"] = f"seed {seed} ({secs:.0f} s{', budget' if stopped else ''})"
        print_measure(m, args.terrains)
        results.append(m)
    up = statistics.median(m["held_out_up"] for m in results)
    dist = statistics.median(m["median_distance"] for m in results)
    print(f"\nmedian over seeds: up after {args.time:g} s on {up} of {len(args.terrains)} "
          f"held-out terrains; median distance on them {dist:.1f} m")
    print(json.dumps({"seeds": args.seeds, "held_out_up": [m["held_out_up"] for m in results],
                      "median_distance": [round(m["median_distance"], 2) for m in results]}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--seeds", type=int, nargs="+", default=[10, 11, 12, 13, 14])
    t.add_argument("--budget", type=float, default=900.0, help="training seconds per seed")
    t.add_argument("--config", help="config file (default configs/walkers.yaml)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    t.add_argument("--out", default="runs/bench-walkers")
    t.add_argument("--parallel", type=int, default=1, help="seeds trained at once")
    m = sub.add_parser("measure")
    m.add_argument("models", nargs="+")
    for p in (t, m):
        p.add_argument("--terrains", nargs="+", default=HELD_OUT)
        p.add_argument("--time", type=float, default=60.0, help="seconds on each terrain")
    args = ap.parse_args()
    if args.cmd == "train":
        train(args)
    else:
        header(args.terrains)
        for best in args.models:
            mm = measure(best, args.terrains, args.time)
            print_measure(mm, args.terrains)


if __name__ == "__main__":
    main()
