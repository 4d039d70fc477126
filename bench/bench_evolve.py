"""Evolution benchmarks: generations and seconds until the first lap, and process-pool
speed-up.

    .venv/bin/python bench/bench_evolve.py laps [--seeds 5] [--set KEY=VALUE ...]
    .venv/bin/python bench/bench_evolve.py pool [--population 100 400 1000] [--repeats 5]
    .venv/bin/python bench/bench_evolve.py split [--population 100 400 1000] [--repeats 5]
    .venv/bin/python bench/bench_evolve.py generalise [--seeds 3] [--tracks 10]
    .venv/bin/python bench/bench_evolve.py walkers [--seeds 3] [--generations 100]

``laps`` runs ``configs/cars.yaml`` with ``until_lap`` for each seed and reports the
generation (counted from 1, as in ``fitness.csv``) at which the best car first completes a
lap, and the wall time, with medians.  ``pool`` first evolves a population for a few
generations (so it holds the mutated clones of good drivers that evolution evaluates most of
the time, not random policies that crash at once), then evaluates that population serially
(pinned to each of the pool's cores in turn: the cores of a shared machine often run at
different speeds) and with a 2-worker process pool (workers started beforehand),
alternating, and reports car-steps per second and the ratio, for each population size given.
``split`` times, in one process on one core, the whole population's episode against each
half's (the most two workers can gain) and a step with one car.  ``generalise`` evolves
``configs/cars.yaml`` for each seed and replays its best car once on procedural tracks it
never saw (``procedural:100`` onwards), counting laps.
``walkers`` evolves ``configs/walkers.yaml`` and reports the best distance in body lengths.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def laps(args) -> None:
    from common.config import load_config, named_config
    from evo.config import EvolveConfig
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
        # the lapping generation as fitness.csv and `evolve --until-lap` number it (from 1)
        g = run.rows[-1]["generation"] if status == "lap" else float("inf")
        gens.append(g)
        secs.append(dt)
        print(f"| {seed} | {g} | {dt:.1f} |", flush=True)
    print(f"\nmedian generations to first lap: {statistics.median(gens)}; "
          f"median seconds: {statistics.median(secs):.1f}; worst: {max(gens)} generations, "
          f"{max(secs):.1f} s")


def pool(args) -> None:
    from common.config import load_config, named_config
    from evo.backends import ProcessBackend, SerialBackend
    from evo.config import EvolveConfig
    from evo.run import EvolutionRun, ask_rng, generation_seeds
    from evo.tasks import TaskSpec

    # The serial reference runs pinned to each of the pool's cores in turn: on a shared
    # machine one core is often much slower than the other, and where an unpinned serial
    # run lands would decide the ratio.  Speed-up: pool rate over the mean of the per-core
    # serial rates of the same repeat (median over repeats).
    everything = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_setaffinity") else []
    cores = everything[: args.workers] or [None]
    print(f"process pool of {args.workers} workers vs one worker (serial, pinned to each core "
          f"in turn), {args.repeats} repeats; car-steps/s, medians")
    cols = " | ".join("serial" if c is None else f"serial, core {c}" for c in cores)
    print(f"| population | episodes per genome | {cols} | process pool | speed-up |")
    print("|---:|---:|" + "---:|" * len(cores) + "---:|---:|")
    for population in args.population:
        cfg = load_config(EvolveConfig, named_config("cars"),
                          [f"population={population}", f"generations={args.warmup}", *args.set])
        spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
        serial = SerialBackend(spec)
        run = EvolutionRun(cfg, os.path.join(args.out, f"warmup{population}"))
        run.run()
        thetas = run.strategy.ask(ask_rng(cfg.seed, run.generation))
        procs = ProcessBackend(spec, workers=args.workers)
        procs.evaluate(thetas[: args.workers], 0)  # start the workers
        serial.evaluate(thetas[:2], 0)
        rate_s = {c: [] for c in cores}
        rate_p, ratios = [], []
        for r in range(args.repeats):
            seeds = generation_seeds(cfg.seed, run.generation + r, cfg.episodes)
            for c in cores:
                if c is not None:
                    os.sched_setaffinity(0, {c})
                rate_s[c].append(_rate(serial, thetas, seeds))
            if everything:
                os.sched_setaffinity(0, everything)
            rate_p.append(_rate(procs, thetas, seeds))
            ratios.append(rate_p[-1] / statistics.mean(rate_s[c][-1] for c in cores))
        procs.close()
        cols = " | ".join(f"{statistics.median(rate_s[c]):,.0f}" for c in cores)
        print(f"| {population} | {cfg.episodes} | {cols} | {statistics.median(rate_p):,.0f} | "
              f"{statistics.median(ratios):.2f}x |", flush=True)


def _rate(backend, thetas, seeds) -> float:
    """Car-steps per second of one evaluation."""
    t0 = time.perf_counter()
    res = backend.evaluate(thetas, seeds)
    return int(res["agent_steps"]) / (time.perf_counter() - t0)


def split(args) -> None:
    """What splitting one episode in two can gain, measured in one process on one core (so
    unaffected by how fast the machine's cores are at the moment): the whole population's
    evaluation against each half's, and the cost of a step with a single car."""
    import numpy as np

    from common.config import load_config, named_config
    from evo.backends import SerialBackend
    from evo.config import EvolveConfig
    from evo.run import EvolutionRun, ask_rng, generation_seeds
    from evo.tasks import TaskSpec

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"serial, one core, {args.repeats} repeats alternating; seconds, medians")
    print("| population | whole | first half | second half | bound for 2 workers | "
          "one car: us per step |")
    print("|---:|---:|---:|---:|---:|---:|")
    for population in args.population:
        cfg = load_config(EvolveConfig, named_config("cars"),
                          [f"population={population}", f"generations={args.warmup}", *args.set])
        ev = SerialBackend(TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy))
        run = EvolutionRun(cfg, os.path.join(args.out, f"warmup{population}"))
        run.run()
        thetas = run.strategy.ask(ask_rng(cfg.seed, run.generation))
        half = population // 2
        seeds = generation_seeds(cfg.seed, run.generation, cfg.episodes)
        best = int(np.argmax(ev.evaluate(thetas, seeds)["fitness"]))
        parts = {"whole": thetas, "first": thetas[:half], "second": thetas[half:],
                 "one": thetas[best:best + 1]}
        times = {k: [] for k in parts}
        steps = 0
        for _ in range(args.repeats):
            for k, th in parts.items():
                t0 = time.perf_counter()
                res = ev.evaluate(th, seeds)
                times[k].append(time.perf_counter() - t0)
                steps = int(res["agent_steps"]) if k == "one" else steps
        t = {k: statistics.median(v) for k, v in times.items()}
        print(f"| {population} | {t['whole']:.2f} | {t['first']:.2f} | {t['second']:.2f} | "
              f"{t['whole'] / max(t['first'], t['second']):.2f}x | "
              f"{t['one'] / steps * 1e6:.0f} |", flush=True)


def replay_on(best: str, track: str) -> dict:
    import numpy as np

    from evo.rollout import run_episode
    from neuroevo.commands.evolve import load_policy

    task, net, _ = load_policy(best, track)
    info, _ = run_episode(task.world(1), net, net.theta[None, :].astype(np.float64), seed=0)
    return {k: float(np.asarray(info[k])[0]) for k in ("laps", "progress", "crashed")}


def generalise(args) -> None:
    from common.config import load_config, named_config
    from evo.config import EvolveConfig
    from evo.run import EvolutionRun

    tracks = [f"procedural:{100 + i}" + (f":{args.difficulty:g}" if args.difficulty != 0.5
                                         else "") for i in range(args.tracks)]
    tracks += args.also  # e.g. the shipped tracks: oval default sbends hairpins technical
    names = [t.split(":")[1] if ":" in t else t for t in tracks]
    print(f"| training seed | generations | {' | '.join(names)} | lapped |")
    print("|---:|---:|" + "---:|" * len(tracks) + "---:|")
    counts = []
    for seed in range(args.seeds):
        cfg = load_config(EvolveConfig, named_config("cars"),
                          [f"seed={seed}", f"generations={args.generations}", *args.set])
        out = os.path.join(args.out, f"seed{seed}")
        EvolutionRun(cfg, out).run()
        res = [replay_on(os.path.join(out, "best.npz"), t) for t in tracks]
        lapped = sum(r["laps"] >= 1 for r in res)
        counts.append(lapped)
        cells = " | ".join("lap" if r["laps"] >= 1 else f"{r['progress']:.2f}" for r in res)
        print(f"| {seed} | {cfg.generations} | {cells} | {lapped}/{len(tracks)} |", flush=True)
    print(f"\nmedian tracks lapped: {statistics.median(counts)} of {len(tracks)} "
          f"(a number is the share of the lap driven before crashing or stalling)")


HELD_OUT = [f"procedural:{200 + i}:1" for i in range(10)]  # never used while tuning
SHIPPED = ["oval", "default", "sbends", "hairpins", "technical"]


def drive(best: str, track: str) -> dict:
    """The model ``best`` alone on ``track`` for its config's episode (seed 0): laps driven
    (progress, headroom included), whole laps, fastest lap (NaN if none)."""
    import numpy as np

    from evo.rollout import run_episode
    from neuroevo.commands.evolve import load_policy

    task, net, _ = load_policy(best, track)
    info, _ = run_episode(task.world(1), net, net.theta[None, :].astype(np.float64), seed=0)
    return {k: float(np.asarray(info[k])[0])
            for k in ("progress", "laps", "best_lap_time", "crashed")}


def lap_drop(rows) -> tuple[int, float, float]:
    """(first generation whose best car lapped every training track, its lap time, the last
    generation's): the ``best_lap_time`` column of ``fitness.csv``'s rows."""
    import math

    timed = [(r["generation"], r["best_lap_time"]) for r in rows
             if math.isfinite(r.get("best_lap_time", math.nan))]
    if not timed:
        return 0, math.nan, math.nan
    return timed[0][0], timed[0][1], rows[-1].get("best_lap_time", math.nan)


def racing(args) -> None:
    """The racing floors on the default config, per seed: training seconds, lap-time drop
    on the training tracks, and laps on held-out tracks (never used while tuning)."""
    import math

    from common.config import load_config, named_config
    from evo.config import EvolveConfig
    from evo.run import EvolutionRun

    tracks = HELD_OUT[:args.tracks] + SHIPPED
    names = [t.split(":")[1] if ":" in t else t for t in tracks]
    print(f"| seed | train s | first lap gen | lap s then | lap s last | drop | "
          f"{' | '.join(names)} | unseen lapped | shipped lapped |")
    print("|---:|---:|---:|---:|---:|---:|" + "---:|" * len(tracks) + "---:|---:|")
    drops, unseen, shipped = [], [], []
    for seed in args.seed_list or range(args.seeds):
        cfg = load_config(EvolveConfig, named_config("cars"), [f"seed={seed}", *args.set])
        out = os.path.join(args.out, f"seed{seed}")
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        run = EvolutionRun(cfg, out)
        run.run()
        secs = time.perf_counter() - t0
        gen, first, last = lap_drop(run.rows)
        drop = 1 - last / first if math.isfinite(first) else math.nan
        drops.append(drop)
        res = [drive(os.path.join(out, "best.npz"), t) for t in tracks]
        lapped = [r["laps"] >= 1 for r in res]
        unseen.append(sum(lapped[:args.tracks]))
        shipped.append(sum(lapped[args.tracks:]))
        cells = " | ".join("lap" if r["laps"] >= 1 else f"{r['progress']:.2f}" for r in res)
        print(f"| {seed} | {secs:.0f} | {gen} | {first:.1f} | {last:.1f} | {drop:.0%} | "
              f"{cells} | {unseen[-1]}/{args.tracks} | {shipped[-1]}/{len(SHIPPED)} |",
              flush=True)
    print(f"\nmedian lap-time drop {statistics.median(drops):.0%}; median unseen tracks lapped "
          f"{statistics.median(unseen)} of {args.tracks}; median shipped tracks lapped "
          f"{statistics.median(shipped)} of {len(SHIPPED)} (a number is the share of a lap "
          f"driven before crashing or stalling)")


def walkers(args) -> None:
    from common.config import load_config, named_config
    from evo.config import EvolveConfig
    from evo.run import EvolutionRun
    from sims.walker import load_creature

    print("| seed | creature | body length (m) | best distance (m) | body lengths | seconds |")
    print("|---:|---|---:|---:|---:|---:|")
    ratios = []
    for seed in range(args.seeds):
        cfg = load_config(EvolveConfig, named_config("walkers"),
                          [f"seed={seed}", f"generations={args.generations}", *args.set])
        t0 = time.perf_counter()
        run = EvolutionRun(cfg, os.path.join(args.out, f"seed{seed}"))
        run.run()
        dt = time.perf_counter() - t0
        length = load_creature(cfg.walkers.creature).body_length
        best = float(run.strategy.best_fitness)
        ratios.append(best / length)
        print(f"| {seed} | {cfg.walkers.creature} | {length:.2f} | {best:.2f} | "
              f"{best / length:.1f} | {dt:.0f} |", flush=True)
    print(f"\nmedian body lengths: {statistics.median(ratios):.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    a = sub.add_parser("laps")
    a.add_argument("--seeds", type=int, default=5)
    a.add_argument("--max-generations", type=int, default=40)
    a.add_argument("--out", default="bench/results/laps")
    a.add_argument("--set", action="append", default=[])
    b = sub.add_parser("pool")
    b.add_argument("--population", type=int, nargs="+", default=[100, 400, 1000])
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--repeats", type=int, default=5)
    b.add_argument("--warmup", type=int, default=5, help="generations evolved first")
    b.add_argument("--out", default="bench/results/pool")
    b.add_argument("--set", action="append", default=[])
    e = sub.add_parser("split")
    e.add_argument("--population", type=int, nargs="+", default=[100, 400, 1000])
    e.add_argument("--repeats", type=int, default=5)
    e.add_argument("--warmup", type=int, default=5, help="generations evolved first")
    e.add_argument("--out", default="bench/results/split")
    e.add_argument("--set", action="append", default=[])
    c = sub.add_parser("generalise")
    c.add_argument("--seeds", type=int, default=3)
    c.add_argument("--generations", type=int, default=30)
    c.add_argument("--tracks", type=int, default=10, help="unseen procedural tracks 100...")
    c.add_argument("--difficulty", type=float, default=0.5, help="of the unseen tracks")
    c.add_argument("--also", nargs="*", default=[], help="more tracks to replay on")
    c.add_argument("--out", default="bench/results/generalise")
    c.add_argument("--set", action="append", default=[])
    r = sub.add_parser("racing")
    r.add_argument("--seeds", type=int, default=5)
    r.add_argument("--seed-list", type=int, nargs="*", help="these seeds instead of 0..N-1")
    r.add_argument("--tracks", type=int, default=10, help="held-out procedural tracks 200...")
    r.add_argument("--out", default="bench/results/racing")
    r.add_argument("--set", action="append", default=[])
    d = sub.add_parser("walkers")
    d.add_argument("--seeds", type=int, default=3)
    d.add_argument("--generations", type=int, default=100)
    d.add_argument("--out", default="bench/results/walkers")
    d.add_argument("--set", action="append", default=[])
    args = ap.parse_args()
    {"laps": laps, "pool": pool, "split": split, "generalise": generalise,
     "walkers": walkers, "racing": racing}[args.what](args)


if __name__ == "__main__":
    main()
