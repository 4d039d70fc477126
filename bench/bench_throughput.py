"""Throughput, side by side in one run: this tree against a git ref of itself.

    .venv/bin/python bench/bench_throughput.py [--ref REF] [--parts eval pool ray ppo]
        [--repeats 5] [--population 200] [--iterations 3]

Each part prints a table of medians over ``--repeats`` (PPO: over its iterations):

- ``eval``: car-steps/s of a whole evaluation of the racing default (``configs/cars.yaml``:
  its population, ten tracks in one world) on one core, the ref's code against this tree's,
  each in a fresh subprocess, alternating; the second evaluation of the process is timed
  (the first builds the world and its tables once, as a run's first generation does).
  Both evaluate the same genomes (written by a short warm-up run, so they drive like the
  mutated clones of good drivers evolution spends its time on, not random policies that
  crash at once) with the same episode seeds.
- ``pool``: this tree's 2-worker process pool against serial on the same job at
  ``--population`` (the warm population repeated), car-steps/s and the ratio.
- ``ray``: Ray with 2 local workers against the process pool on the same job.
- ``ppo``: ``neuroevo reinforce cars`` with the shipped config
  (``configs/reinforce-cars.yaml``), ``--iterations`` iterations in each tree: seconds per
  iteration, split into collection and update, and the update's share.

``--ref`` (default ``HEAD``) is checked out with ``git worktree`` into a temporary folder
and removed afterwards.  Seconds are wall-clock; on a shared machine the alternation is
what keeps the two sides comparable, so compare ratios, not absolute rates.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def _probe_path(tree: str) -> None:
    sys.path.insert(0, tree)


def probe_eval(args) -> None:
    """In ``args.tree``: one serial evaluation of the saved genomes; prints JSON."""
    _probe_path(args.tree)
    import numpy as np

    from common.config import load_config, named_config
    from evo.backends import SerialBackend
    from evo.config import EvolveConfig
    from evo.tasks import TaskSpec

    cfg = load_config(EvolveConfig, named_config("cars"), [])
    spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
    thetas = np.load(args.thetas, allow_pickle=False)
    seeds = [int(s) for s in args.seeds.split(",")]
    backend = SerialBackend(spec)
    backend.evaluate(thetas, seeds)  # builds the world and its tables, as generation 1 does
    t0 = time.perf_counter()
    res = backend.evaluate(thetas, seeds)
    dt = time.perf_counter() - t0
    print(json.dumps({"steps": int(res["agent_steps"]), "seconds": dt,
                      "fitness": float(np.mean(res["fitness"]))}))


def probe_ppo(args) -> None:
    """In ``args.tree``: ``--iterations`` iterations of the shipped PPO on cars, timing the
    collection and the update apart; prints JSON lists."""
    _probe_path(args.tree)
    import rl.run as rl_run
    from common.config import load_config, named_config
    from rl.config import ReinforceConfig

    cfg = load_config(ReinforceConfig, named_config("reinforce-cars"), [])
    run = rl_run.ReinforceRun(cfg, None)
    times = {"collect": 0.0, "update": 0.0}

    def timed(name, f):
        def call(*a, **k):
            t0 = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                times[name] += time.perf_counter() - t0
        return call

    run.collector.collect = timed("collect", run.collector.collect)
    rl_run.update = timed("update", rl_run.update)
    rows = []
    for _ in range(args.iterations):
        times.update(collect=0.0, update=0.0)
        t0 = time.perf_counter()
        row = run.step()
        rows.append({"seconds": time.perf_counter() - t0, **times,
                     "steps": row["env_steps"] - (rows[-1]["env_total"] if rows else 0),
                     "env_total": row["env_steps"]})
    print(json.dumps(rows))


# one core: BLAS's threads would fight over the machine's cores with each other and with
# whatever else runs (small products then take 10-30 times longer under load)
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def _sub(tree: str, *argv: str) -> str:
    out = subprocess.run([sys.executable, __file__, *argv, "--tree", tree], check=True,
                         capture_output=True, text=True, cwd=tree,
                         env={**os.environ, **ONE_THREAD})
    return out.stdout.strip().splitlines()[-1]


def _warm_population(out: str, generations: int) -> tuple[str, list[int]]:
    """A few generations of the racing default; its next population and episode seeds."""
    import numpy as np

    from common.config import load_config, named_config
    from evo.config import EvolveConfig
    from evo.run import EvolutionRun, ask_rng, generation_seeds

    cfg = load_config(EvolveConfig, named_config("cars"), [f"generations={generations}"])
    run = EvolutionRun(cfg, os.path.join(out, "warmup"))
    run.run()
    thetas = run.strategy.ask(ask_rng(cfg.seed, run.generation))
    path = os.path.join(out, "thetas.npy")
    np.save(path, thetas)
    return path, [int(s) for s in generation_seeds(cfg.seed, run.generation, cfg.episodes)]


def part_eval(args, ref_tree: str, thetas: str, seeds: list[int]) -> None:
    rates = {"ref": [], "new": []}
    for _ in range(args.repeats):
        for side, tree in (("ref", ref_tree), ("new", str(HERE))):
            r = json.loads(_sub(tree, "_probe-eval", "--thetas", thetas,
                                "--seeds", ",".join(map(str, seeds))))
            rates[side].append(r["steps"] / r["seconds"])
    ref, new = statistics.median(rates["ref"]), statistics.median(rates["new"])
    ratio = statistics.median(n / r for n, r in zip(rates["new"], rates["ref"]))
    print(f"\n## eval: the racing default's whole evaluation, one core ({args.repeats} "
          f"repeats, alternating)\n")
    print(f"| {args.ref} car-steps/s | this tree car-steps/s | ratio |\n|---:|---:|---:|")
    print(f"| {ref:,.0f} | {new:,.0f} | {ratio:.2f}x |", flush=True)


def _backend_rates(args, thetas_path: str, seeds: list[int], names: list[str]) -> dict:
    import numpy as np

    from common.config import load_config, named_config
    from evo.backends import make_backend
    from evo.config import EvolveConfig
    from evo.tasks import TaskSpec

    cfg = load_config(EvolveConfig, named_config("cars"), [])
    spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
    warm = np.load(thetas_path, allow_pickle=False)
    thetas = np.resize(warm, (args.population, warm.shape[1]))
    backends = {n: make_backend(n, spec, workers=0 if n == "serial" else 2) for n in names}
    for b in backends.values():
        b.evaluate(thetas[:4], seeds[:1])  # start the workers
    rates = {n: [] for n in names}
    for _ in range(args.repeats):
        for n, b in backends.items():
            t0 = time.perf_counter()
            res = b.evaluate(thetas, seeds)
            rates[n].append(int(res["agent_steps"]) / (time.perf_counter() - t0))
    for b in backends.values():
        b.close()
    return rates


def part_pool(args, thetas: str, seeds: list[int], names: list[str]) -> None:
    rates = _backend_rates(args, thetas, seeds, names)
    base, other = names
    ratio = statistics.median(o / b for o, b in zip(rates[other], rates[base]))
    print(f"\n## {other} (2 workers) against {base}, population {args.population} "
          f"({args.repeats} repeats)\n")
    print(f"| {base} car-steps/s | {other} car-steps/s | ratio |\n|---:|---:|---:|")
    print(f"| {statistics.median(rates[base]):,.0f} | {statistics.median(rates[other]):,.0f} "
          f"| {ratio:.2f}x |", flush=True)


def part_ppo(args, ref_tree: str) -> None:
    print(f"\n## ppo: reinforce cars, shipped config, {args.iterations} iterations per side\n")
    print("| code | s per iteration | collection s | update s | update share | agent-steps |")
    print("|---|---:|---:|---:|---:|---:|")
    res = {}
    for side, tree in ((args.ref, ref_tree), ("this tree", str(HERE))):
        rows = json.loads(_sub(tree, "_probe-ppo", "--iterations", str(args.iterations)))
        med = {k: statistics.median(r[k] for r in rows) for k in ("seconds", "collect",
                                                                  "update", "steps")}
        res[side] = med
        print(f"| {side} | {med['seconds']:.2f} | {med['collect']:.2f} | {med['update']:.2f} "
              f"| {med['update'] / med['seconds']:.0%} | {med['steps']:,.0f} |", flush=True)
    a, b = res[args.ref], res["this tree"]
    print(f"\nupdate {a['update'] / b['update']:.2f}x faster; agent-steps per second "
          f"{(b['steps'] / b['seconds']) / (a['steps'] / a['seconds']):.2f}x")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd")
    e = sub.add_parser("_probe-eval")
    e.add_argument("--tree", required=True)
    e.add_argument("--thetas", required=True)
    e.add_argument("--seeds", required=True)
    g = sub.add_parser("_probe-ppo")
    g.add_argument("--tree", required=True)
    g.add_argument("--iterations", type=int, default=3)
    p.add_argument("--ref", default="HEAD", help="git ref to compare against (default HEAD)")
    p.add_argument("--parts", nargs="+", default=["eval", "pool", "ray", "ppo"],
                   choices=["eval", "pool", "ray", "ppo"])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--population", type=int, default=200, help="pool and ray parts")
    p.add_argument("--iterations", type=int, default=3, help="ppo part")
    p.add_argument("--warmup", type=int, default=5, help="generations before eval/pool/ray")
    args = p.parse_args(argv)
    if args.cmd == "_probe-eval":
        probe_eval(args)
        return 0
    if args.cmd == "_probe-ppo":
        probe_ppo(args)
        return 0
    sys.path.insert(0, str(HERE))
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        ref_tree = os.path.join(tmp, "ref")
        subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", "-q", ref_tree,
                        args.ref], check=True)
        try:
            sha = subprocess.run(["git", "-C", ref_tree, "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            print(f"ref {args.ref} = {sha}; this tree = {HERE}")
            if {"eval", "pool", "ray"} & set(args.parts):
                thetas, seeds = _warm_population(tmp, args.warmup)
            if "eval" in args.parts:
                part_eval(args, ref_tree, thetas, seeds)
            if "pool" in args.parts:
                part_pool(args, thetas, seeds, ["serial", "process"])
            if "ray" in args.parts:
                part_pool(args, thetas, seeds, ["process", "ray"])
            if "ppo" in args.parts:
                part_ppo(args, ref_tree)
        finally:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force",
                            ref_tree], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
