"""Benchmarks of evolving Gymnasium environments (``neuroevo evolve gym:ENV_ID``).

    .venv/bin/python bench/bench_gym.py speed [--population N] [--episodes N] [--repeats 5]
    .venv/bin/python bench/bench_gym.py train --env CartPole-v1 [--seeds 5] [--budget 30]

``speed``: the population rollout on CartPole-v1 (``GymTask.evaluate_episodes``: one
batched policy forward and one vector-environment step a step, for every genome and
episode; the population, episodes and network of ``configs/gym-CartPole-v1.yaml``)
against a plain loop that steps one Gymnasium environment per genome and episode in Python
(``gymnasium.make``, one forward of the genome's network a step); the same genomes
(perturbations of a balancing controller, so episodes run long), agent-steps per second,
medians over repeats and the ratio of the two in the same run.

``train``: for each seed, ``neuroevo evolve gym:ENV`` with the shipped config in a
subprocess, stopped with Ctrl-C (SIGINT: it saves and exits) when the training budget is
spent; then the saved ``best.npz`` plays 100 episodes (seeds 10000 onwards, never seen in
training) and their mean return is the seed's score (with their spread, their lowest
return and how many of the 100 fall below 200).  Prints each seed and the median.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EVAL_SEED = 10_000


def balancer(policy, seed: int = 0) -> np.ndarray:
    """A CartPole-v1 genome that balances (a short GA run), for long episodes."""
    from evo.gym_config import GymConfig
    from evo.gym_task import GymTask
    from evo.registry import STRATEGIES
    from evo.run import ask_rng

    task = GymTask("CartPole-v1", GymConfig(obs_norm=False), policy, 32)
    net = task.network()
    net.init_params(np.random.default_rng(seed))
    ga = STRATEGIES["ga"](net.num_params, 32, STRATEGIES["ga"].Settings(),
                          init_params=net.get_params(), init_scale=0.5)
    for g in range(40):
        params = ga.ask(ask_rng(seed, g))
        fit = task.evaluate_episodes(task.genomes(params), [g])[0]["fitness"]
        ga.tell(params, fit)
        if ga.best_fitness >= 500:
            break
    return ga.best_params


def speed(args) -> None:
    import gymnasium

    from common.config import load_config
    from evo.config import EvolveConfig
    from evo.gym_config import GymConfig
    from evo.gym_task import GymTask

    cfg = load_config(EvolveConfig, ROOT / "configs/gym-CartPole-v1.yaml", [])
    pop = args.population or cfg.population
    k = args.episodes or cfg.episodes
    task = GymTask("CartPole-v1", GymConfig(obs_norm=False), cfg.policy, pop)
    net = task.network()
    best = balancer(cfg.policy)
    rng = np.random.default_rng(1)
    params = best + rng.normal(0, 0.05, (pop, len(best)))
    genomes = task.genomes(params)

    def ours(rep: int) -> tuple[int, float]:
        t = time.perf_counter()
        res = task.evaluate_episodes(genomes, [rep * k + e for e in range(k)])
        return sum(int(r["agent_steps"]) for r in res), time.perf_counter() - t

    envs = [gymnasium.make("CartPole-v1") for _ in range(pop)]

    def plain(rep: int) -> tuple[int, float]:
        steps = 0
        t = time.perf_counter()
        for e in range(k):
            for i, (env, theta) in enumerate(zip(envs, params)):
                policy = net.member_policy(theta[None, :])
                obs, _ = env.reset(seed=(rep * k + e) * 1000 + i)
                done = False
                while not done:
                    action = int(np.argmax(policy(np.asarray(obs, np.float64)[None, :])[0]))
                    obs, _, term, trunc, _ = env.step(action)
                    done = term or trunc
                    steps += 1
        return steps, time.perf_counter() - t

    rows = []
    for rep in range(args.repeats):
        s1, t1 = ours(rep)
        s2, t2 = plain(rep)
        rows.append((s1 / t1, s2 / t2))
        print(f"repeat {rep}: population rollout {s1 / t1:,.0f} agent-steps/s ({s1} steps), "
              f"plain loop {s2 / t2:,.0f} ({s2} steps)", file=sys.stderr)
    a = statistics.median(r[0] for r in rows)
    b = statistics.median(r[1] for r in rows)
    ratio = statistics.median(r[0] / r[1] for r in rows)
    print(json.dumps({"population": pop, "episodes": k, "ours_steps_per_s": round(a),
                      "plain_steps_per_s": round(b), "ratio": round(ratio, 2)}))


def train_one(env: str, seed: int, budget: float, out: Path, sets: list[str]) -> dict:
    cmd = [sys.executable, "-m", "neuroevo", "evolve", f"gym:{env}", "--seed", str(seed),
           "--out", str(out), "--force", "--quiet", "--headless"]
    for s in sets:
        cmd += ["--set", s]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        proc.wait(timeout=budget)
        stopped = False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)  # finishes the generation under way, saves, exits
        stopped = True
        proc.wait()
    seconds = time.perf_counter() - t0
    if not (out / "best.npz").is_file():
        raise SystemExit(f"seed {seed}: no best.npz ({proc.stderr.read().strip()})")
    from evo.gym_task import evaluate_policy
    from neuroevo.gym_replay import load_gym_policy

    task, theta, mean, scale, _ = load_gym_policy(str(out / "best.npz"))
    returns = evaluate_policy(task, theta, mean, scale, 100, EVAL_SEED)
    rows = (out / "fitness.csv").read_text().strip().splitlines()
    return {"seed": seed, "train_s": round(seconds, 1), "stopped_by_budget": stopped,
            "generations": len(rows) - 1, "mean_return": round(float(returns.mean()), 2),
            "std_return": round(float(returns.std()), 2),
            "min_return": round(float(returns.min()), 2),
            "below_200": int((returns < 200).sum())}  # of the 100 episodes


def train(args) -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            out = Path(args.keep or tmp) / f"{args.env}-seed{seed}"
            r = train_one(args.env, seed, args.budget, out, args.set)
            print(json.dumps(r), file=sys.stderr)
            results.append(r)
    med = statistics.median(r["mean_return"] for r in results)
    print(json.dumps({"env": args.env, "budget_s": args.budget, "seeds": len(results),
                      "median_mean_return": med, "runs": results}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--population", type=int, default=0, help="default: the shipped config's")
    s.add_argument("--episodes", type=int, default=0, help="default: the shipped config's")
    s.add_argument("--repeats", type=int, default=5)
    t = sub.add_parser("train")
    t.add_argument("--env", default="CartPole-v1")
    t.add_argument("--seeds", type=int, default=5)
    t.add_argument("--first-seed", type=int, default=0)
    t.add_argument("--budget", type=float, default=30.0, help="training seconds per seed")
    t.add_argument("--set", action="append", default=[], help="config override")
    t.add_argument("--keep", metavar="DIR", help="keep the run folders here")
    args = p.parse_args()
    os.chdir(ROOT)
    speed(args) if args.what == "speed" else train(args)


if __name__ == "__main__":
    main()
