"""``neuroevo compare``: evolution versus gradient descent on the same network (the
comparison itself is :mod:`evo.compare`)."""

from __future__ import annotations

import sys
from pathlib import Path

from common.config import ConfigError, load_config, named_config
from evo.compare import CAR_METHODS, METHODS, TASKS, CompareConfig, compare, methods_for
from neuroevo.runs import default_out


def compare_cmd(args) -> int:
    if args.budget_seconds <= 0 or args.seeds < 1:
        raise ConfigError("--budget-seconds must be > 0 and --seeds >= 1")
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
    out = Path(args.out) if args.out else default_out(f"compare-{args.task}")
    data = evolve_cfg = None
    if args.task == "cars":
        from evo.config import EvolveConfig

        evolve_cfg = load_config(EvolveConfig, named_config("cars"))
    else:
        from nn.data import load_dataset

        options = {}
        if args.subset:
            if args.task.startswith("fruit"):
                raise ConfigError("--subset applies to mnist and fashion")
            options["n_train"] = args.subset
        data = load_dataset(args.task, data_dir=args.data_dir, seed=0, **options)
    print(f"comparing on {args.task}: {args.budget_seconds:g} s per method, {args.seeds} "
          f"seed(s) -> {out}", file=sys.stderr)
    compare(args.task, out, args.budget_seconds, args.seeds, cfg, data, evolve_cfg,
            progress=not args.quiet, methods=methods)
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
                       "write compare.png, report.md and results.json. For cars: GA vs ES vs "
                       "random search.")
    c.add_argument("task", choices=list(TASKS))
    c.add_argument("--budget-seconds", type=float, default=30.0, metavar="N",
                   help="training seconds per method and seed (default 30)")
    c.add_argument("--seeds", type=int, default=1, metavar="K", help="repeats (default 1)")
    c.add_argument("--methods", metavar="M,M", help="only these methods, comma-separated "
                   f"(default all: {', '.join(METHODS)}; cars: {', '.join(CAR_METHODS)})")
    c.add_argument("--subset", type=int, metavar="N", help="mnist/fashion: first N training "
                   "images only")
    c.add_argument("--config", metavar="FILE", help="YAML (default configs/compare.yaml)")
    c.add_argument("--set", metavar="KEY=VALUE", action="append", default=[])
    c.add_argument("--data-dir", metavar="DIR")
    c.add_argument("--out", metavar="DIR", help="output folder (default runs/compare-TASK-TIME)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func="neuroevo.commands.compare:compare_cmd")
