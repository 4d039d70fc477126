"""Control tasks in ``neuroevo compare`` (cars, walkers, gym:ENV_ID): the evolution methods
(GA, OpenAI-ES, CMA-ES, random search and, on request, the quality-diversity strategies of
:mod:`evo.qd`) and the policy-gradient learners (PPO, REINFORCE of :mod:`rl`) on the same
policy network, task and world.

Every method yields the same curve: the best score so far per generation (a learner's
iteration), with the seconds, episodes and agent-steps it took; then its best policy is
judged (:mod:`compare.judges`).  With the evolve config's ``qd.descriptors`` an evolution
method's curve also records the coverage and QD-score of an archive of what it evaluated
(a QD strategy's own).

A learner's settings come from a ``reinforce`` config (``pg``); its task sections and
policy network are the evolution config's, so every method trains the same network on the
same tracks.  Its learning rate falls linearly over the budget (seconds or agent-steps).
After each iteration the clock pauses while the greedy policy (mean actions) drives one
episode of each of the evolution config's ``episodes`` seeds (cars: each training track
once), scored as evolution scores a genome: that is the curve's "best so far", and the
best of these policies is judged at the end like the evolution methods' best genomes.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from compare.judges import judge_policy
from evo.gym_config import gym_env_id
from evo.registry import STRATEGIES
from evo.tasks import task_class
from rl.config import ReinforceConfig
from rl.run import ReinforceRun

CURVE = ("seconds", "generation", "best", "episodes", "steps")  # and cars' lap_time


def new_curve(cars: bool) -> dict[str, list]:
    """An empty curve; cars add the lap time of the best so far."""
    return {key: [] for key in (*CURVE, *(("lap_time",) if cars else ()))}


def add_point(curve: dict[str, list], *point, lap_time: float = math.nan) -> None:
    """Append one generation's ``seconds, generation, best, episodes, steps`` (and, where
    the curve has one, the lap time)."""
    for key, value in zip(CURVE, point, strict=True):
        curve[key].append(value)
    if "lap_time" in curve:
        curve["lap_time"].append(lap_time)


def run_evolution(method: str, evolve_cfg, seed: int, budget: float, tick=lambda s: None,
                  generations: int | None = None, steps: int | None = None) -> dict:
    """Evolve ``evolve_cfg.task`` with ``method`` for ``budget`` seconds, for
    ``generations`` (the same number of episodes for every method) or until ``steps``
    agent-steps: the best fitness so far per generation (with the seconds, episodes and
    agent-steps it took), then the best policy judged (:func:`judge_policy`).
    The curve's generations count from 1, as in ``fitness.csv``; the seeds are those of
    :class:`evo.run.EvolutionRun` (0-based index ``g``), so with the same configuration
    the best of generation N is the ``best_ever`` of ``fitness.csv``'s generation N."""
    from evo.archive import GridArchive
    from evo.backends import make_backend
    from evo.config import effective
    from evo.descriptors import columns
    from evo.run import ask_rng, generation_seeds, grid_spec, tell

    s = evolve_cfg.strategy
    settings = getattr(s, method.replace("-", "_"))
    # the policy the method evolves (neat: a node graph); the judge rebuilds that one
    evolve_cfg = effective(dataclasses.replace(evolve_cfg,
                                               strategy=dataclasses.replace(s, name=method)))
    pop = evolve_cfg.population + (evolve_cfg.population % 2 if method == "es" else 0)
    if method == "cmaes":
        pop = max(pop, 2)  # CMA-ES recombines the best pop // 2
    names = tuple(evolve_cfg.qd.descriptors)
    spec = evolve_cfg.task_spec(evolve_cfg.policy, pop, names)
    backend = make_backend("serial", spec)
    task = backend.task
    net = task.network()
    net.init_params(np.random.default_rng(np.random.SeedSequence([seed, 7])))
    init = task.initial_genome(net.get_params())  # walkers may evolve body genes too
    grid = grid_spec(evolve_cfg.qd, task.describer.ranges if names else [])
    cls = STRATEGIES[method]
    strategy = cls(len(init), pop, settings, init_params=init, init_scale=s.init_scale,
                   **({"grid": grid} if cls.uses_descriptors else {}),
                   **({"graph": net.layers[0]} if cls.needs_graph else {}))
    archive = (strategy.archive if cls.uses_descriptors else
               GridArchive(grid, len(init)) if grid is not None else None)
    cars = task_class(evolve_cfg.task).laps  # a lap-time curve too
    curve = new_curve(cars)
    if archive is not None:
        curve["coverage"], curve["qd_score"] = [], []
    t0, g, episodes, agent_steps = time.perf_counter(), 0, 0, 0
    lap_time = math.nan
    while (g < generations if generations is not None
           else agent_steps < steps if steps is not None
           else time.perf_counter() - t0 < budget):
        params = strategy.ask(ask_rng(seed, g))
        result = backend.evaluate(task.genomes(params),
                                  generation_seeds(seed, g, evolve_cfg.episodes))
        fit = result["fitness"]
        desc = (np.stack([result[c] for c in columns(names)], axis=1)
                if archive is not None else None)
        improved, extra = tell(strategy, backend, task, params, fit, evolve_cfg, seed, g, desc)
        task.learn(result, improved)
        if archive is not None:
            if not cls.uses_descriptors:
                archive.add(params, fit, desc)
            curve["coverage"].append(archive.coverage)
            curve["qd_score"].append(archive.qd_score)
        if cars and improved:
            lap_time = float(result["lap_time"][int(np.argmax(fit))])
        g += 1  # generation g (counted from 1) is done
        episodes += len(params) * evolve_cfg.episodes
        agent_steps += int(result["agent_steps"]) + extra
        add_point(curve, time.perf_counter() - t0, g, strategy.best_fitness, episodes,
                  agent_steps, lap_time=lap_time)
        tick(g if generations is not None else agent_steps if steps is not None
             else curve["seconds"][-1])
    obs = None
    if gym_env_id(evolve_cfg.task) is not None:  # the normaliser the best was evaluated with
        obs = (task.best_obs_mean, task.best_obs_scale)
    return {"curve": curve, "num_params": net.num_params,
            "driver": judge_policy(evolve_cfg, strategy.best_params, obs)}


def greedy_fitness(run: ReinforceRun, task, seeds: list[int]) -> tuple[float, dict]:
    """The mean fitness of ``run``'s greedy policy over episodes ``seeds`` (one agent each,
    in worlds of ``task``, a copy of the run's, as a genome is scored) and the mean of its
    statistics."""
    params = run.ac.actor.get_params()
    theta = params[None, :]
    if run.gym:
        mean, scale = run.obs_stats()
        theta = np.hstack([params, mean, scale])[None, :]
    else:  # pg.obs_norm: the normalisation it learnt with, folded into the network
        theta = run.greedy_params(params, *run.trained_obs)[None, :]
    res = task.evaluate_episodes(theta, seeds)
    stats = {k: float(np.mean([r[k][0] for r in res])) for k in task.columns}
    return float(np.mean([r["fitness"][0] for r in res])), stats


def run_pg(evolve_cfg, pg_cfg: ReinforceConfig, seed: int, budget: float,
           tick=lambda s: None, steps: int | None = None) -> dict:
    """Learn ``evolve_cfg.task`` with ``pg_cfg.pg`` (its ``algorithm``: PPO or REINFORCE)
    for ``budget`` training seconds (or ``steps`` agent-steps): a result like
    :func:`run_evolution`'s."""
    cfg = dataclasses.replace(
        pg_cfg, task=evolve_cfg.task, seed=seed, policy=evolve_cfg.policy,
        cars=evolve_cfg.cars, walkers=evolve_cfg.walkers, gym=evolve_cfg.gym,
        total_steps=steps or 10**12,
        pg=dataclasses.replace(pg_cfg.pg, anneal_lr=False, eval_episodes=0))  # scored here
    run = ReinforceRun(cfg, None)
    judge = run.spec.build()  # its own worlds: the learner's stay built
    lr0 = cfg.pg.lr
    cars = task_class(cfg.task).laps  # a lap-time curve too
    n_eval = max(evolve_cfg.episodes, 1)
    eval_seeds = list(range(n_eval))
    curve = new_curve(cars)
    best, best_params, best_obs, lap_time = -math.inf, run.ac.actor.get_params(), None, math.nan
    episodes = 0
    while (run.env_steps < steps if steps is not None else run.seconds < budget):
        done = run.env_steps / steps if steps is not None else run.seconds / budget
        run.opt.lr = lr0 * max(1.0 - done, 0.0) + 1e-12
        row = run.step()  # counts its own seconds; the evaluation below is not counted
        episodes += row["episodes"]
        fitness, stats = greedy_fitness(run, judge, eval_seeds)
        if fitness > best:
            best, best_params = fitness, run.ac.actor.get_params()
            if not run.gym:
                best_params = run.greedy_params(best_params, *run.trained_obs)
            best_obs = run.obs_stats() if run.gym else None
            if cars:
                lap_time = stats["lap_time"]
        add_point(curve, run.seconds, run.iteration, best, episodes, run.env_steps,
                  lap_time=lap_time)
        tick(run.env_steps if steps is not None else run.seconds)
    judged = judge_policy(evolve_cfg, best_params,
                          best_obs if gym_env_id(cfg.task) is not None else None)
    return {"curve": curve, "num_params": run.ac.actor.num_params, "driver": judged,
            "algorithm": cfg.pg.algorithm}
