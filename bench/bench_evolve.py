"""Evolution benchmarks: generations and seconds until the first lap, and process-pool
speed-up.

    .venv/bin/python bench/bench_evolve.py laps [--seeds 5] [--set KEY=VALUE ...]
    .venv/bin/python bench/bench_evolve.py pool [--population 100] [--repeats 5]

``laps`` runs ``configs/cars.yaml`` with ``until_lap`` for each seed and reports the
generation (counted from 1) at which the best car first completes a lap, and the wall time,
with medians.  ``pool`` first evolves a population for a few generations (so it holds the
mutated clones of good drivers that evolution evaluates most of the time, not random
policies that crash at once), then evaluates that population serially and with a 2-worker
process pool (workers started beforehand), alternating, and reports car-steps per second and
the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def laps(args) -> None:
    from evo.config import load_config, named_config
    from evo.evolve_config import EvolveConfig
    from evo.run import EvolutionRun

    gens, secs = [], []
    print("| seed | generations to first lap | seconds |")
    print("|---:|---:|---:|")
    for seed in range(args.seeds):
        over = [f"seed={seed}", "until_lap=true", f"generations={args.max_generations}",
                *args.set]
        cfg = load_config(EvolveConfig, named_config("cars"), over)
        out = os.path.join(args.out, f"seed{seed}")
        t0 = time.perf_counter()
        run = EvolutionRun(cfg, out)
        status = run.run()
        dt = time.perf_counter() - t0
        g = run.generation if status == "lap" else float("inf")
        gens.append(g)
        secs.append(dt)
        print(f"| {seed} | {g} | {dt:.1f} |", flush=True)
    print(f"\nmedian generations to first lap: {statistics.median(gens)}; "
          f"median seconds: {statistics.median(secs):.1f}; worst: {max(gens)} generations, "
          f"{max(secs):.1f} s")


def pool(args) -> None:
    from evo.config import load_config, named_config
    from evo.evaluate import ProcessEvaluator, SerialEvaluator
    from evo.evolve_config import EvolveConfig
    from evo.run import EvolutionRun, ask_rng
    from evo.tasks import TaskSpec

    cfg = load_config(EvolveConfig, named_config("cars"),
                      [f"population={args.population}", f"generations={args.warmup}", *args.set])
    spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
    serial = SerialEvaluator(spec)
    run = EvolutionRun(cfg, os.path.join(args.out, "warmup"))
    run.run()
    thetas = run.strategy.ask(ask_rng(cfg.seed, run.generation))
    procs = ProcessEvaluator(spec, workers=args.workers)
    procs.evaluate(thetas[: args.workers], 0)  # start the workers
    serial.evaluate(thetas[:2], 0)
    rate_s, rate_p = [], []
    for r in range(args.repeats):
        for ev, rates in ((serial, rate_s), (procs, rate_p)):
            t0 = time.perf_counter()
            res = ev.evaluate(thetas, r)
            rates.append(int(res["agent_steps"]) / (time.perf_counter() - t0))
    procs.close()
    ms, mp_ = statistics.median(rate_s), statistics.median(rate_p)
    print(f"population {args.population} after {args.warmup} generations, {args.repeats} "
          f"repeats, default track")
    print("| evaluator | car-steps/s (median) |")
    print("|---|---:|")
    print(f"| serial | {ms:,.0f} |")
    print(f"| process pool, {args.workers} workers | {mp_:,.0f} |")
    print(f"\nspeed-up: {mp_ / ms:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    a = sub.add_parser("laps")
    a.add_argument("--seeds", type=int, default=5)
    a.add_argument("--max-generations", type=int, default=40)
    a.add_argument("--out", default="bench/results/laps")
    a.add_argument("--set", action="append", default=[])
    b = sub.add_parser("pool")
    b.add_argument("--population", type=int, default=100)
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--repeats", type=int, default=5)
    b.add_argument("--warmup", type=int, default=5, help="generations evolved first")
    b.add_argument("--out", default="bench/results/pool")
    b.add_argument("--set", action="append", default=[])
    args = ap.parse_args()
    laps(args) if args.what == "laps" else pool(args)


if __name__ == "__main__":
    main()
