"""``neuroevo compare``: evolution versus gradient descent on the same network (the
comparison itself is :mod:`evo.compare`)."""

from __future__ import annotations

import sys
from pathlib import Path

from common.config import ConfigError, load_config, named_config
from common.errors import EXIT_INTERRUPTED
from evo.compare import (
    CAR_METHODS,
    METHODS,
    TASKS,
    CompareConfig,
    CompareInterrupted,
    compare,
    dataset_of,
    methods_for,
)
from neuroevo.runs import new_run_dir


def compare_cmd(args) -> int:
    if args.budget_seconds <= 0 or args.seeds < 1:
        raise ConfigError("--budget-seconds must be > 0 and --seeds >= 1")
    if args.generations is not None and (args.task != "cars" or args.generations < 1):
        raise ConfigError("--generations N (N >= 1) applies to cars only")
    methods = None
    if args.methods:
        # in the order given, each once
        methods = tuple(dict.fromkeys(m.strip() for m in args.methods.split(",") if m.strip()))
        known = methods_for(args.task)
        unknown = [m for m in methods if m not in known]
        if unknown or not methods:
            raise ConfigError(f"--methods {args.methods}: {args.task} knows "
                              f"{', '.join(known)}")
    cfg = load_config(CompareConfig, Path(args.config) if args.config else
                      named_config("compare"), args.set)
    data = evolve_cfg = None
    if args.task == "cars":
        from evo.config import EvolveConfig

        evolve_cfg = load_config(EvolveConfig, Path(args.cars_config) if args.cars_config
                                 else named_config("cars"), args.cars_set)
    elif args.cars_config or args.cars_set:
        raise ConfigError("--cars-config and --cars-set apply to cars only")
    if args.task != "cars":
        from nn.data import load_dataset

        options = {}
        if args.subset:
            if args.task.startswith("fruit"):
                raise ConfigError("--subset applies to mnist and fashion")
            options["n_train"] = args.subset
        data = load_dataset(dataset_of(args.task), data_dir=args.data_dir, seed=0, **options)
    out = new_run_dir(args.out, f"compare-{args.task}", force=args.force, resumable=False)
    each = (f"{args.generations} generations" if args.generations is not None
            else f"{args.budget_seconds:g} s")
    print(f"comparing on {args.task}: {each} per method, {args.seeds} seed(s) -> {out}",
          file=sys.stderr)
    try:
        compare(args.task, out, args.budget_seconds, args.seeds, cfg, data, evolve_cfg,
                progress=not args.quiet, methods=methods, generations=args.generations)
    except CompareInterrupted as e:
        if e.finished:
            print(f"\nneuroevo: interrupted: kept the {e.finished} of {e.total} runs that "
                  f"finished ({out / 'report.md'}, compare.png, results.json)",
                  file=sys.stderr)
        else:
            if not any(out.iterdir()):
                out.rmdir()
            print("\nneuroevo: interrupted before any run finished: nothing was saved",
                  file=sys.stderr)
        return EXIT_INTERRUPTED
    report = (out / "report.md").read_text()
    table = [ln for ln in report.splitlines() if ln.startswith("|")]
    print("\n".join(table))
    print(f"report: {out / 'report.md'}")
    return 0


def add_commands(sub) -> None:
    """Register ``neuroevo compare``."""
    c = sub.add_parser("compare", help="evolution vs gradient descent on the same network",
                       description="Train the same network by backprop (SGD, Adam), a genetic "
                       "algorithm and evolution strategies with the same wall-clock budget, and "
                       "write compare.png, report.md and results.json. For cars: GA, ES, CMA-ES "
                       "and random search.")
    c.add_argument("task", choices=list(TASKS), help="what to learn: a dataset (mnist-cnn: "
                   "MNIST with a small convolutional network, configured under cnn:), or cars")
    c.add_argument("--budget-seconds", type=float, default=30.0, metavar="N",
                   help="training seconds per method and seed (default 30)")
    c.add_argument("--generations", type=int, metavar="N", help="cars: N generations per "
                   "method and seed (the same number of episodes for each) instead of "
                   "--budget-seconds")
    c.add_argument("--seeds", type=int, default=1, metavar="K", help="repeats (default 1)")
    c.add_argument("--methods", metavar="M,M", help="only these methods, comma-separated "
                   f"(default all: {', '.join(METHODS)}; cars: {', '.join(CAR_METHODS)})")
    c.add_argument("--subset", type=int, metavar="N", help="mnist/fashion: first N training "
                   "images only")
    c.add_argument("--config", metavar="FILE", help="YAML (default configs/compare.yaml)")
    c.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="override a compare config value, e.g. --set hidden=[32] (repeatable)")
    c.add_argument("--cars-config", metavar="FILE", help="cars: the evolve config (default "
                   "configs/cars.yaml: population, episodes, training tracks, world)")
    c.add_argument("--cars-set", metavar="KEY=VALUE", action="append", default=[],
                   help="cars: override an evolve config value, e.g. --cars-set population=30")
    c.add_argument("--data-dir", metavar="DIR", help="a folder holding the dataset's files")
    c.add_argument("--out", metavar="DIR", help="output folder (default runs/compare-TASK-TIME)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.add_argument("--force", action="store_true",
                   help="replace the comparison that --out already holds (default: refuse)")
    c.set_defaults(func="neuroevo.commands.compare:compare_cmd")
