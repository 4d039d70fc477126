"""``neuroevo reinforce``: one policy learns from its own rollouts by policy gradients."""

from __future__ import annotations

import sys
from pathlib import Path

from common.config import ConfigError
from common.errors import EXIT_INTERRUPTED
from common.interrupt import TimeLimit
from evo.gym_config import gym_env_id
from neuroevo.runs import (
    add_time_limit,
    claim_run_dir,
    lock_run_dir,
    run_dir,
    time_limit_message,
)
from neuroevo.task_configs import load_task_config, reinforce_config_path, task_name
from neuroevo.window_options import add_window_options, check_window_args, open_watch


def resolve(args):
    from rl.config import ReinforceConfig

    path = Path(args.config) if args.config else reinforce_config_path(args.task)
    overrides = list(args.set)
    if gym_env_id(args.task) is not None and not args.config:
        overrides.insert(0, f"task={args.task}")
    options = [(f"{flag} {value}", f"{key}={value}") for flag, value, key in (
        ("--steps", args.steps, "total_steps"), ("--seed", args.seed, "seed"),
        ("--algorithm", args.algorithm, "pg.algorithm")) if value is not None]
    return load_task_config(ReinforceConfig, path, overrides, args.task, options)


def reinforce(args) -> int:
    from rl.run import ProgressReporter, ReinforceRun

    check_window_args(args)
    reporters = [] if args.quiet else [ProgressReporter()]
    if args.steps is not None and args.steps < 1:
        raise ConfigError(f"--steps must be >= 1, got {args.steps}")
    lock = None  # the run folder's lock, held while this process writes it
    try:
        if args.resume:
            fixed = [flag for flag, given in (
                ("--config", args.config), ("--set", args.set),
                ("--seed", args.seed is not None), ("--algorithm", args.algorithm),
                ("--out", args.out), ("--force", args.force)) if given]
            if fixed:
                raise ConfigError(f"--resume continues a run with its own config, so "
                                  f"{fixed[0]} does not apply; only --steps and --time-limit "
                                  f"may change")
            lock = lock_run_dir(args.resume)
            run = ReinforceRun.resume(args.resume, args.steps, reporters, task=args.task)
        else:
            cfg = resolve(args)
            from evo.tasks import task_class

            cls = task_class(cfg.task)
            extras = cls.evolved_extras(getattr(cfg, cls.section))  # PPO trains one network
            if extras is not None:
                raise ConfigError(f"{extras}: applies to evolution only (neuroevo evolve); "
                                  f"policy gradients train the network alone")
            out = run_dir(args.out,
                          f"reinforce-{args.task.replace(':', '-').replace('/', '-')}",
                          force=args.force)
            run = ReinforceRun(cfg, out, reporters)  # checks tracks, creatures, the env
            lock = claim_run_dir(out, force=args.force)
        run.time_limit = TimeLimit(args.time_limit)
        watch = None
        if gym_env_id(run.cfg.task) is None:
            watch = open_watch(run.task, args, f"neuroevo: reinforce {run.cfg.task}",
                               run.out, "learning")
        elif args.screenshot is not None:
            raise ConfigError("--screenshot applies to cars and walkers; gym runs are "
                              "headless (neuroevo replay MODEL --screenshot FILE shows a gym "
                              "model)")
        try:
            return _reinforce(run, watch, args)
        finally:
            if watch is not None:
                watch.close()
    finally:
        if lock is not None:
            lock.release()


def _reinforce(run, watch, args) -> int:
    from neuroevo.watch import EvaluationAborted, WindowPlayer

    if watch is not None:
        run.player = WindowPlayer(run, watch)
    pg = run.cfg.pg
    print(f"learning {run.cfg.task} with {pg.algorithm}: {pg.agents} agents"
          f"{' per track' if run.task.shared_world and run.collector.n > pg.agents else ''}, "
          f"{run.ac.actor.num_params} policy weights, {run.cfg.total_steps:,} steps -> "
          f"{run.out}", file=sys.stderr)
    if run.env_steps >= run.cfg.total_steps:
        print(f"neuroevo: {run.out} already has its {run.env_steps:,} steps; --steps N "
              f"continues it to N", file=sys.stderr)
    try:
        status = run.run()
    except KeyboardInterrupt:  # a second Ctrl-C: the iteration under way is dropped
        print(f"\nneuroevo: interrupted after iteration {run.iteration}; resume with "
              f"--resume {run.out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except EvaluationAborted:  # the window closed, Ctrl-C in it, or --screenshot taken
        status = "interrupted" if run.stop else "window"
        if run.rows:
            run.plot()
    if run.rows:
        last = run.rows[-1]
        extra = f"  laps: {last['laps_mean']:.3f}" if "laps_mean" in last else ""
        print(f"iterations: {run.iteration}  steps: {run.env_steps:,}  mean return: "
              f"{last['return_mean']:.3f}{extra}  best ({run.score_name}): "
              f"{run.best_score:.4f}")
        print(f"best: {run.out / 'best.npz'}")
    if watch is not None and watch.screenshot_saved is not None:
        print(f"screenshot: {watch.screenshot_saved}")
        return 0
    if status == "time":
        print(time_limit_message(run.time_limit, f"iteration {run.iteration} "
                                 f"({run.env_steps:,} of {run.cfg.total_steps:,} steps)",
                                 run.out), file=sys.stderr)
        return 0
    if status == "window":
        print(f"neuroevo: window closed after iteration {run.iteration}; resume with "
              f"--resume {run.out}", file=sys.stderr)
        return 0
    if status == "interrupted":
        print(f"neuroevo: interrupted after iteration {run.iteration}; resume with "
              f"--resume {run.out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def add_commands(sub) -> None:
    """Register ``reinforce`` with the ``neuroevo`` parser."""
    p = sub.add_parser(
        "reinforce", help="learn a policy by policy gradients (PPO) from its own rollouts",
        description="Reinforcement learning: one policy network acts in many copies of the "
        "world at once and learns from the returns of its own episodes by gradient descent "
        "(PPO, or REINFORCE with a baseline), where `evolve` breeds a population and "
        "`train` fits a labelled dataset. Cars and walkers are drawn live in a window "
        "where there is a display (--headless: not). Writes returns.csv, returns.png, "
        "best.npz (replay it with neuroevo replay), reinforce-checkpoint.npz (every "
        "iteration) and config.yaml to --out.")
    p.add_argument("task", type=task_name, metavar="TASK",
                   help="cars, walkers, or gym:ENV_ID (e.g. gym:CartPole-v1; needs pip "
                   "install -e '.[gym]')")
    p.add_argument("--config", metavar="FILE", help="YAML config (default "
                   "configs/reinforce-TASK.yaml; gym:ENV_ID: configs/reinforce-ENV_ID.yaml, "
                   "else configs/reinforce-gym.yaml)")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="override a config value, e.g. --set pg.lr=0.001 (repeatable)")
    p.add_argument("--steps", type=int, metavar="N",
                   help="environment steps to learn for (with --resume: the new total)")
    p.add_argument("--algorithm", choices=["ppo", "reinforce"],
                   help="ppo (default) or reinforce (REINFORCE with a baseline)")
    p.add_argument("--seed", type=int, metavar="N",
                   help="seeds the networks, the action noise and the episodes")
    p.add_argument("--out", metavar="DIR",
                   help="run directory (default runs/reinforce-TASK-TIME)")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR")
    p.add_argument("--force", action="store_true",
                   help="replace the run that --out already holds (default: refuse)")
    add_time_limit(p, "iteration")
    p.add_argument("--headless", action="store_true",
                   help="no window (the default where there is no display; gym runs are "
                   "always headless)")
    add_window_options(p, speed_help="physics steps per frame to start the window at "
                       "(+/- change it; 1 at 60 fps is real time; F: as fast as it computes)")
    p.add_argument("--no-ghost", action="store_true",
                   help="cars: no ghost (the best greedy policy so far, driving each episode "
                   "again as a translucent car)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func="neuroevo.commands.reinforce:reinforce")
