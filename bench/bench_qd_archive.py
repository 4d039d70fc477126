"""How many of an archive's elites really do the job: the floors of the QD runs.

    .venv/bin/python bench/bench_qd_archive.py RUN/archive.npz [--time 20]

Cars: every elite drives every training track of its run's config (``cars.tracks``, one
episode each, all in one world, like a generation) for the config's episode time; an elite
counts if it laps every one of them. Walkers: all elites at once, each its own walker, on
the run's ``walkers.world.terrain`` for ``--time`` seconds (default 20); an elite counts
if it walks at least ``--distance`` m (default 20). Prints
the archive's size, coverage, the count, and the run's wall-clock from its timing.csv.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def main(argv=None) -> int:
    from common.config import build, parse_yaml
    from evo.archive import read_archive
    from evo.config import EvolveConfig
    from evo.tasks import TaskSpec, task_class

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("archive")
    p.add_argument("--time", type=float, default=20.0, help="walkers: seconds of walk")
    p.add_argument("--distance", type=float, default=20.0, help="walkers: metres to count")
    args = p.parse_args(argv)
    found = read_archive(args.archive)
    cfg = build(EvolveConfig, parse_yaml(found.meta["config"]), f"{args.archive}: config: ")
    archive = found.archive
    genomes, fitness = _elites(archive)
    n = len(genomes)
    cls = task_class(cfg.task)
    if cls.laps:  # cars
        tracks = cfg.cars.tracks or [cfg.cars.track]
        spec = TaskSpec(cfg.task, cfg.cars, cfg.walkers, cfg.policy, cfg.gym, n)
        task = spec.build()
        results = task.evaluate_episodes(genomes, list(range(len(tracks))))
        laps = np.stack([r["laps"] for r in results])  # (tracks, n)
        ok = (laps >= 1).all(axis=0)
        what = f"lap every one of the {len(tracks)} training tracks"
    elif cls.world_task:  # walkers
        walkers = replace(cfg.walkers, terrains=[],
                          world=replace(cfg.walkers.world, max_time=args.time))
        spec = TaskSpec(cfg.task, cfg.cars, walkers, cfg.policy, cfg.gym, n)
        task = spec.build()
        res = task.evaluate(genomes, 0)
        ok = res["distance"] >= args.distance
        what = (f"walk at least {args.distance:g} m in {args.time:g} s on "
                f"{cfg.walkers.world.terrain} ground")
    else:
        print(f"bench_qd_archive: {cfg.task} archives are not measured here", file=sys.stderr)
        return 2
    seconds = _run_seconds(Path(args.archive).parent / "timing.csv")
    print(f"{args.archive}: {cfg.task}, {cfg.strategy.name}, generation "
          f"{found.meta.get('generation')}, {seconds:.0f} s of generations")
    print(f"elites: {n} of {int(np.prod(archive.spec.cells))} cells; best fitness "
          f"{fitness.max():.3f}")
    print(f"elites that {what}: {int(ok.sum())}")
    return 0


def _elites(archive) -> tuple[np.ndarray, np.ndarray]:
    """The filled cells' genomes ``(n, D)`` and fitness ``(n,)``."""
    state = archive.state_dict()  # the filled cells only
    return np.asarray(state["genomes"], np.float64), np.asarray(state["fitness"], np.float64)


def _run_seconds(path: Path) -> float:
    if not path.is_file():
        return float("nan")
    with open(path) as f:
        return sum(float(r["seconds"]) for r in csv.DictReader(f))


if __name__ == "__main__":
    raise SystemExit(main())
