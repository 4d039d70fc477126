"""``neuroevo compare``: evolution versus gradient descent on the same network (the
comparison itself is the :mod:`compare` package)."""

from __future__ import annotations

import sys
from pathlib import Path

from common.config import ConfigError, load_config, named_config
from common.errors import EXIT_INTERRUPTED
from compare.config import (
    CAR_METHODS,
    CLASSIFICATION,
    METHODS,
    QD_METHODS,
    CompareConfig,
    check_control,
    choose_methods,
    dataset_of,
    is_control,
)
from evo.gym_config import gym_env_id
from neuroevo.runs import new_run_dir


def compare_task(value: str) -> str:
    """The TASK argument: a dataset task, cars, walkers or gym:ENV_ID."""
    import argparse

    if value in CLASSIFICATION or is_control(value):
        return value
    raise argparse.ArgumentTypeError(
        f"invalid choice: {value!r} (choose from {', '.join(CLASSIFICATION)}, cars, walkers, "
        f"gym:ENV_ID)")


def control_configs(args):
    """The evolve config and the reinforce config of a control task's comparison."""
    from evo.config import EvolveConfig
    from neuroevo.task_configs import gym_config_path, load_task_config, reinforce_config_path
    from rl.config import ReinforceConfig

    gym = gym_env_id(args.task) is not None
    path = Path(args.evolve_config) if args.evolve_config else \
        gym_config_path(args.task) if gym else named_config(args.task)
    overrides = list(args.evolve_set)
    if gym and not args.evolve_config:
        overrides.insert(0, f"task={args.task}")
    evolve_cfg = load_task_config(EvolveConfig, path, overrides, args.task)
    path = Path(args.reinforce_config) if args.reinforce_config else \
        reinforce_config_path(args.task)
    overrides = list(args.reinforce_set)
    if gym and not args.reinforce_config:
        overrides.insert(0, f"task={args.task}")
    return evolve_cfg, load_task_config(ReinforceConfig, path, overrides, args.task)


def compare_cmd(args) -> int:
    from compare.report import terminal_tables
    from compare.run import CompareInterrupted, compare

    control = is_control(args.task)
    if args.budget_seconds <= 0 or args.seeds < 1 or args.first_seed < 0:
        raise ConfigError("--budget-seconds must be > 0, --seeds >= 1 and --first-seed >= 0")
    if args.generations is not None and (not control or args.generations < 1):
        raise ConfigError("--generations N (N >= 1) applies to cars, walkers and gym tasks")
    if args.budget_steps is not None and (not control or args.budget_steps < 1):
        raise ConfigError("--budget-steps N (N >= 1) applies to cars, walkers and gym tasks")
    if args.generations is not None and args.budget_steps is not None:
        raise ConfigError("give --generations or --budget-steps, not both")
    methods = choose_methods(args.task, args.methods, args.generations)
    cfg = load_config(CompareConfig, Path(args.config) if args.config else
                      named_config("compare"), args.set)
    data = evolve_cfg = pg_cfg = None
    if control:
        evolve_cfg, pg_cfg = control_configs(args)
        check_control(methods, evolve_cfg, pg_cfg)
    elif args.evolve_config or args.evolve_set or args.reinforce_config or args.reinforce_set:
        raise ConfigError("--evolve-config, --evolve-set, --reinforce-config and "
                          "--reinforce-set apply to cars, walkers and gym tasks")
    else:
        from nn.data import load_dataset

        options = {}
        if args.subset:
            if args.task.startswith("fruit"):
                raise ConfigError("--subset applies to mnist and fashion")
            options["n_train"] = args.subset
        data = load_dataset(dataset_of(args.task), data_dir=args.data_dir, seed=0, **options)
    out = new_run_dir(args.out, f"compare-{args.task.replace(':', '-').replace('/', '-')}",
                      force=args.force, resumable=False)
    each = (f"{args.generations} generations" if args.generations is not None
            else f"{args.budget_steps:,} agent-steps" if args.budget_steps is not None
            else f"{args.budget_seconds:g} s")
    print(f"comparing on {args.task}: {each} per method, {args.seeds} seed(s) -> {out}",
          file=sys.stderr)
    try:
        compare(args.task, out, args.budget_seconds, args.seeds, cfg, data, evolve_cfg,
                progress=not args.quiet, methods=methods, generations=args.generations,
                steps=args.budget_steps, pg_cfg=pg_cfg, first_seed=args.first_seed)
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
    print(terminal_tables((out / "report.md").read_text()))
    print(f"report: {out / 'report.md'}")
    return 0


def add_commands(sub) -> None:
    """Register ``neuroevo compare``."""
    c = sub.add_parser("compare", help="evolution vs gradient descent on the same network",
                       description="Train the same network by gradient descent and by "
                       "evolution with the same budget, and write compare.png, report.md "
                       "and results.json. Datasets: backprop (SGD, Adam), a genetic algorithm "
                       "and evolution strategies. Control tasks (cars, walkers, gym:ENV_ID): "
                       "GA, ES, CMA-ES, random search and policy gradients (PPO) on the same "
                       "policy network, at equal seconds or equal environment steps.")
    c.add_argument("task", type=compare_task, metavar="TASK",
                   help=f"what to learn: a dataset ({', '.join(CLASSIFICATION)}; mnist-cnn: "
                   "MNIST with a small convolutional network, configured under cnn:), or a "
                   "control task: cars, walkers, gym:ENV_ID")
    c.add_argument("--budget-seconds", type=float, default=30.0, metavar="N",
                   help="training seconds per method and seed (default 30)")
    c.add_argument("--budget-steps", type=int, metavar="N", help="control tasks: N "
                   "agent-steps (environment steps) per method and seed instead of seconds")
    c.add_argument("--generations", type=int, metavar="N", help="control tasks: N "
                   "generations per evolution method and seed (the same number of episodes "
                   "for each; policy gradients sit this one out) instead of --budget-seconds")
    c.add_argument("--seeds", type=int, default=1, metavar="K", help="repeats (default 1)")
    c.add_argument("--first-seed", type=int, default=0, metavar="S", help="the repeats' "
                   "seeds are S, S+1, ... (default 0): more seeds later, or one comparison "
                   "split over machines")
    c.add_argument("--methods", metavar="M,M", help="only these methods, comma-separated "
                   f"(default all: {', '.join(METHODS)}; control tasks: "
                   f"{', '.join(CAR_METHODS)}, ppo; on request reinforce, neat (NEAT: "
                   "growing topologies, strategy.neat of the evolve config) and the "
                   f"quality-diversity strategies {', '.join(QD_METHODS)}, which need the "
                   "evolve config's qd.descriptors; with descriptors the report adds every "
                   "method's archive coverage and QD-score)")
    c.add_argument("--subset", type=int, metavar="N", help="mnist/fashion: first N training "
                   "images only")
    c.add_argument("--config", metavar="FILE", help="YAML (default configs/compare.yaml)")
    c.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="override a compare config value, e.g. --set hidden=[32] (repeatable)")
    c.add_argument("--evolve-config", "--cars-config", dest="evolve_config", metavar="FILE",
                   help="control tasks: the evolve config (default configs/TASK.yaml: "
                   "population, episodes, the policy network, training tracks, world)")
    c.add_argument("--evolve-set", "--cars-set", dest="evolve_set", metavar="KEY=VALUE",
                   action="append", default=[], help="control tasks: override an evolve "
                   "config value, e.g. --evolve-set population=30")
    c.add_argument("--reinforce-config", metavar="FILE", help="control tasks: the reinforce "
                   "config whose pg settings PPO uses (default configs/reinforce-TASK.yaml; "
                   "its task and policy sections give way to the evolve config's)")
    c.add_argument("--reinforce-set", metavar="KEY=VALUE", action="append", default=[],
                   help="control tasks: override a reinforce config value, e.g. "
                   "--reinforce-set pg.lr=0.001")
    c.add_argument("--data-dir", metavar="DIR", help="a folder holding the dataset's files")
    c.add_argument("--out", metavar="DIR", help="output folder (default runs/compare-TASK-TIME)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.add_argument("--force", action="store_true",
                   help="replace the comparison that --out already holds (default: refuse)")
    c.set_defaults(func="neuroevo.commands.compare:compare_cmd")
