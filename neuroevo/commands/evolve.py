"""``neuroevo evolve`` and ``neuroevo replay``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from common.config import ConfigError, named_config
from common.errors import EXIT_INTERRUPTED
from common.interrupt import TimeLimit
from evo.config import EvolveConfig
from evo.gym_config import gym_env_id
from evo.policy_file import read_policy
from evo.rollout import episode, make_policy, run_episode
from evo.tasks import KINDS, TASKS, CarsConfig, TaskSpec, WalkersConfig, task_class
from neuroevo.runs import (
    add_time_limit,
    claim_run_dir,
    lock_run_dir,
    run_dir,
    time_limit_message,
)
from neuroevo.task_configs import gym_config_path, load_task_config, task_name
from neuroevo.window_options import add_window_options, check_window_args, open_watch
from nn.errors import ModelFileError

CARS_ONLY = (("track", "--track"), ("until_lap", "--until-lap"))  # options walkers refuse


def resolve(args) -> EvolveConfig:
    if not task_class(args.task).laps:
        for attr, flag in CARS_ONLY:
            if getattr(args, attr):
                raise ConfigError(f"{flag} applies to cars, not {args.task}")
    gym = gym_env_id(args.task) is not None
    if args.config:
        path = Path(args.config)
    else:
        path = gym_config_path(args.task) if gym else named_config(args.task)
    overrides = list(args.set)
    if gym and not args.config:  # the generic gym config: the command names the env
        overrides.insert(0, f"task={args.task}")
    options = []  # (the option as given, the override it makes)
    for flag, key in (("generations", "generations"), ("population", "population"),
                      ("seed", "seed"), ("workers", "evaluation.workers"),
                      ("backend", "evaluation.backend"), ("address", "evaluation.address"),
                      ("track", "cars.track")):
        value = getattr(args, flag)
        if value is not None:
            options.append((f"--{flag} {value}", f"{key}={value}"))
    if args.until_lap:
        options.append(("--until-lap", "until_lap=true"))
    return load_task_config(EvolveConfig, path, overrides, args.task, options)


def evolve(args) -> int:
    from evo.run import EvolutionRun, ProgressReporter

    check_window_args(args)
    reporters = [] if args.quiet else [ProgressReporter()]
    lock = None  # the run folder's lock, held while this process writes it
    try:
        if args.resume:
            fixed = [flag for flag, given in (
                ("--config", args.config), ("--set", args.set), ("--population",
                args.population is not None), ("--seed", args.seed is not None), ("--track",
                args.track is not None), ("--until-lap", args.until_lap), ("--out", args.out),
                ("--force", args.force)) if given]
            if fixed:
                raise ConfigError(f"--resume continues a run with its own config, so "
                                  f"{fixed[0]} does not apply; only --generations, "
                                  f"--time-limit, --workers, --backend and --address may "
                                  f"change")
            evaluation = {k: v for k, v in (("workers", args.workers),
                                             ("backend", args.backend),
                                             ("address", args.address)) if v is not None}
            lock = lock_run_dir(args.resume)
            run = EvolutionRun.resume(args.resume, args.generations, evaluation, reporters,
                                      task=args.task)
        else:
            cfg = resolve(args)
            out = run_dir(args.out, args.task.replace(":", "-").replace("/", "-"),
                          force=args.force)
            run = EvolutionRun(cfg, out, reporters)  # checks the track or creature files
            lock = claim_run_dir(out, force=args.force)
        run.time_limit = TimeLimit(args.time_limit)
        return _evolve_in_window(run, args)
    finally:
        if lock is not None:
            lock.release()


def _evolve_in_window(run, args) -> int:
    if gym_env_id(run.cfg.task) is None:
        watch = open_watch(run.task, args, f"neuroevo: evolve {run.cfg.task}", run.out,
                           "evolving")
    else:  # a gym run: its generations' best genomes, in the environment's own frames
        from neuroevo.gym_watch import open_gym_watch

        watch = open_gym_watch(run, args)
    try:
        return _evolve(run, watch, args)
    except KeyboardInterrupt:  # a second Ctrl-C: the generation under way is dropped
        print(f"\nneuroevo: interrupted {_since(run)}; resume with --resume {run.out}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if watch is not None:
            watch.close()


def _since(run) -> str:
    """Where a stopped run stands; generations count from 1, as fitness.csv numbers them."""
    return (f"after generation {run.generation}" if run.generation
            else "before generation 1 finished")


def _evolve(run, watch, args) -> int:
    genes = run.strategy.num_params - run.net.num_params  # evolved body or sensor genes
    kind = run.task.gene_kind
    size = f"{run.net.num_params} weights"
    if run.cfg.policy.graph:  # neat: a graph padded to max_hidden hidden nodes
        layer = run.net.layers[0]
        size = (f"{run.cfg.policy.graph} graphs of {layer.n_in} inputs, {layer.n_out} "
                f"outputs and up to {layer.hidden} hidden nodes")
    print(f"evolving {run.cfg.task} with {run.cfg.strategy.name}: population "
          f"{run.cfg.population}, {size}"
          f"{f' and {genes} {kind} genes' if genes else ''} per genome, "
          f"{run.cfg.evaluation.backend} evaluation -> {run.out}", file=sys.stderr)
    if run.generation >= run.cfg.generations:
        print(f"neuroevo: {run.out} already has its {run.generation} generations; "
              f"--generations N continues it to N", file=sys.stderr)
    backend = None
    gym = gym_env_id(run.cfg.task) is not None
    if watch is not None and gym:
        from evo.backends import make_backend
        from neuroevo.gym_watch import GymWindowBackend

        e = run.cfg.evaluation
        backend = GymWindowBackend(run, watch, make_backend(e.backend, run.spec, e.workers,
                                                            e.address))
    elif watch is not None:
        from neuroevo.watch import WindowBackend

        backend = WindowBackend(run, watch)
    status = run.run(backend)
    if watch is not None and args.screenshot and watch.screenshot_saved is None:
        if np.isfinite(run.strategy.best_fitness):  # the run ended before --frames frames
            watch.best_ever = (run.strategy.best_params, run.strategy.best_fitness)
        watch.capture(args.screenshot)
    last = run.rows[-1] if run.rows else None
    if last:
        laps = f"  laps: {int(last['best_laps'])}" if "best_laps" in last else ""
        print(f"generations: {run.generation}  best fitness: {last['best']:.4f}  "
              f"best ever: {run.strategy.best_fitness:.4f}{laps}")
        print(f"best: {run.out / 'best.npz'}")
    if watch is not None and watch.screenshot_saved is not None:
        print(f"screenshot: {watch.screenshot_saved}")
        return 0
    when = _since(run)
    if status == "time":
        print(time_limit_message(run.time_limit, f"generation {run.generation} of "
                                 f"{run.cfg.generations}", run.out), file=sys.stderr)
        return 0
    if watch is not None and watch.closed:
        print(f"neuroevo: window closed {when}; resume with --resume {run.out}",
              file=sys.stderr)
        return 0
    if status == "interrupted":
        print(f"neuroevo: interrupted {when}; resume with --resume {run.out}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if status == "lap":
        print(f"first lap completed in generation {last['generation']}")  # from 1, as csv
    if watch is not None:
        watch.on_quit = watch.interrupted = None
        if gym:
            from neuroevo.gym_watch import show_best

            show_best(run, watch)
        sys.stdout.flush()
        try:  # the run is complete: Ctrl-C now only closes the window
            print("neuroevo: the run is complete; the window stays open (R: replay the best, "
                  "Esc: close it)", file=sys.stderr, flush=True)
            watch.linger()  # the window stays until Esc; R replays the best-ever genome
        except KeyboardInterrupt:
            print(file=sys.stderr)
    return 0


def load_policy(path: str, track: str | None = None, terrain: str | None = None,
                max_time: float | None = None):
    """A ``best.npz`` from ``evolve``: ``(task, network, meta)``, checked against its world;
    ``track`` (cars) or ``terrain`` (walkers) replaces the task's own, ``max_time`` (s) its
    episode length.  A walker whose body evolved walks with that body, a car whose sensors
    evolved reads with those rays."""
    pf = read_policy(path, TASKS)
    net, meta, policy = pf.net, pf.meta, pf.policy
    cls = task_class(pf.task)
    place = {"track": track, "terrain": terrain}[cls.place]  # (the other: _replay refuses it)
    section = cls.replay_section(pf.config, place, max_time)
    spec = dataclasses.replace(TaskSpec(pf.task, CarsConfig(), WalkersConfig(), policy),
                               **{cls.section: section})
    body, rays = pf.body, pf.sensors
    if rays is not None:  # the network reads with the rays it evolved with, now fixed
        from evo.tasks import CarTask

        task = CarTask(dataclasses.replace(spec.cars, sensors="fixed"), policy, rays)
    elif body is None:
        task = spec.build()
    else:  # the network drives the body it evolved with, now fixed
        from evo.tasks import WalkerTask

        task = WalkerTask(dataclasses.replace(spec.walkers, body="fixed"), policy, body)
    obs_dim, act_dim = task.dims
    if net.n_inputs != obs_dim or net.n_outputs != act_dim:
        raise ModelFileError(f"{path}: the network takes {net.n_inputs} inputs and gives "
                             f"{net.n_outputs} outputs, but this {meta['task']} world has "
                             f"{obs_dim} observations and {act_dim} actions")
    return task, net, meta


def cell_arg(value: str) -> tuple[int, ...]:
    """``--cell I,J``: grid coordinates, integers separated by commas."""
    try:
        cell = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 3,7, got {value!r}") from None
    return cell


def replay(args) -> int:
    is_archive = Path(args.model).name.endswith("archive.npz") or args.cell is not None
    if not is_archive:
        return _replay(args)
    if args.cell is None:
        raise ConfigError(f"{args.model}: an archive holds many elites: choose one with "
                          f"--cell I,J")
    if args.episodes is not None:
        raise ConfigError("--episodes applies to gym models, not archive cells")
    import tempfile

    from evo.run import elite_policy

    with tempfile.TemporaryDirectory(prefix="neuroevo-cell-") as tmp:
        model = Path(tmp) / "elite.npz"
        elite = elite_policy(args.model, args.cell, model)
        names = ", ".join(f"{k} {v:.4g}" for k, v in elite["descriptors"].items())
        print(f"cell {','.join(map(str, args.cell))}: fitness {elite['fitness']:.4g}, "
              f"{names}", file=sys.stderr)
        args.model = str(model)
        return _replay(args)


def _replay(args) -> int:
    check_window_args(args)
    from neuroevo.gym_replay import is_gym_model, replay_gym

    if is_gym_model(args.model):
        if args.track is not None or args.terrain is not None or args.time is not None:
            raise ConfigError("--track, --terrain and --time apply to cars and walkers, "
                              "not gym models")
        return replay_gym(args)
    if args.episodes is not None:
        raise ConfigError("--episodes applies to gym models (cars and walkers replay one "
                          "episode)")
    if args.time is not None and not args.time > 0:
        raise ConfigError(f"--time must be > 0 seconds, got {args.time:g}")
    task, net, meta = load_policy(args.model, args.track, args.terrain, args.time)
    for place, value in (("track", args.track), ("terrain", args.terrain)):
        if value is not None and task.place != place:
            takers = " and ".join(n for n, c in KINDS.items() if c.place == place)
            raise ConfigError(f"--{place} applies to {takers} ({task.name} take "
                              f"--{task.place})")
    world = task.world(1)
    policy = make_policy(*task.dims, task.policy)
    policy.set_params(net.theta)
    thetas = policy.theta[None, :].astype(np.float64)
    watch = open_watch(task, args, f"neuroevo: replay {Path(args.model).name}", Path("."),
                       "replaying", net=policy, speed=1.0)
    try:
        if watch is None:
            info, _ = run_episode(world, policy, thetas, seed=0)
        else:
            from evo.rollout import finish
            from neuroevo.watch import EvaluationAborted

            watch.set_panel("replay", Path(args.model).name)
            watch.mode = "single"
            watch.heading = f"replay: {Path(args.model).name}"
            fitness = float(meta.get("fitness", float("nan")))
            watch.best_ever = (thetas[0], fitness)
            gen = episode(world, policy, thetas, seed=0)
            try:
                info, _ = watch.play(gen, world, thetas, nested_replay=False)
            except EvaluationAborted:  # Esc or --screenshot: the episode ends undrawn
                info, _ = finish(gen)
        _print_replay(task, info, args.json)
        if watch is not None and watch.screenshot_saved is not None:
            print(f"screenshot: {watch.screenshot_saved}", file=sys.stderr)
        elif watch is not None and not watch.closed:
            sys.stdout.flush()
            watch.linger()  # the window stays until Esc; R replays the episode
    finally:
        if watch is not None:
            watch.close()
    return 0


def _print_replay(task, info, as_json: bool) -> None:
    result, line = task.replay_result(info)
    print(json.dumps(result) if as_json else line)


def add_commands(sub) -> None:
    """Register this module's subcommands with the ``neuroevo`` parser."""
    v = sub.add_parser("evolve", help="evolve driving cars, walking creatures or a Gymnasium "
                       "environment's policy",
                       description="Evolve the policy network's weights with a genetic "
                       "algorithm, evolution strategies or a quality-diversity strategy "
                       "(map-elites, novelty, cma-me), or its topology and weights with "
                       "NEAT (--set strategy.name=neat). Writes fitness.csv, timing.csv, "
                       "best.npz, checkpoint.npz (every generation), config.yaml and "
                       "fitness.png to --out; with qd.descriptors also archive.npz, qd.csv "
                       "and archive.png; with neat also species.png.")
    v.add_argument("task", type=task_name, metavar="TASK",
                   help="what to evolve: cars, walkers, or gym:ENV_ID, any Gymnasium "
                   "environment (e.g. gym:CartPole-v1; needs pip install -e '.[gym]')")
    v.add_argument("--config", metavar="FILE", help="YAML config (default configs/TASK.yaml; "
                   "gym:ENV_ID: configs/gym-ENV_ID.yaml, else configs/gym.yaml)")
    v.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="override a config value, e.g. --set strategy.name=es (repeatable)")
    v.add_argument("--generations", type=int, metavar="N",
                   help="generations to run (with --resume: the new total)")
    v.add_argument("--population", type=int, metavar="N", help="genomes per generation")
    v.add_argument("--workers", type=int, metavar="N", help="worker processes (0 = all cores)")
    v.add_argument("--backend", choices=["serial", "process", "ray"],
                   help="where the population is evaluated (default: the config's, serial)")
    v.add_argument("--address", metavar="ADDR", help="Ray cluster address (--backend ray)")
    v.add_argument("--seed", type=int, metavar="N",
                   help="seeds the first population, mutations and episodes")
    v.add_argument("--track", metavar="FILE|procedural:SEED", help="track for cars")
    v.add_argument("--until-lap", action="store_true",
                   help="cars: stop after the first generation whose best car completes a lap "
                   "(on every track it drives)")
    v.add_argument("--headless", action="store_true",
                   help="no window (the default where there is no display)")
    add_window_options(v, speed_help="physics steps per frame to start the window at "
                       "(+/- change it; 1 at 60 fps is real time; default: a whole episode "
                       "in about 6 s, x10 for cars)")
    v.add_argument("--no-ghost", action="store_true",
                   help="cars: no ghost (the best genome so far, driving each episode again "
                   "as a translucent car beside the population)")
    v.add_argument("--out", metavar="DIR", help="run directory (default runs/TASK-TIME)")
    v.add_argument("--resume", metavar="DIR", help="continue the run in DIR")
    v.add_argument("--force", action="store_true",
                   help="replace the run that --out already holds (default: refuse)")
    add_time_limit(v, "generation")
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.set_defaults(func="neuroevo.commands.evolve:evolve")

    r = sub.add_parser("replay", help="run a saved policy",
                       description="Drive a saved car (or walk a saved creature) for one "
                       "episode and print how it did; a gym model runs --episodes episodes "
                       "and prints its mean return. RUN/archive.npz --cell I,J replays the "
                       "elite of one cell of a quality-diversity archive.")
    r.add_argument("model", metavar="MODEL",
                   help="a best.npz written by neuroevo evolve or reinforce, or an "
                   "archive.npz (with --cell)")
    r.add_argument("--cell", type=cell_arg, metavar="I,J",
                   help="archive.npz: the cell whose elite to replay (grid coordinates from "
                   "0, one per descriptor)")
    r.add_argument("--track", metavar="FILE|procedural:SEED", help="another track (cars)")
    r.add_argument("--terrain", metavar="flat|procedural:SEED[:DIFFICULTY]",
                   help="another ground (walkers)")
    r.add_argument("--time", type=float, metavar="S",
                   help="episode length in seconds (default: the training episode's)")
    r.add_argument("--headless", action="store_true",
                   help="no window (the default where there is no display)")
    add_window_options(r, speed_help="physics steps per frame (+/- change it; default 1: "
                       "real time at 60 fps)")
    r.add_argument("--episodes", type=int, metavar="N",
                   help="gym models: episodes to run (default 1); the window shows the first")
    r.add_argument("--seed", type=int, default=0, metavar="N",
                   help="gym models: episode i is reset with seed N + i (default 0)")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.set_defaults(func="neuroevo.commands.evolve:replay")
