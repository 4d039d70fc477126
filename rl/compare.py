"""Policy gradients in ``neuroevo compare``: PPO (or REINFORCE) on the same policy network,
task and world as the evolution methods of :mod:`evo.compare`, which runs it as one of its
``runners``.

The learner's settings come from a ``reinforce`` config (``pg``); its task sections and
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

import numpy as np

from evo.compare import judge_policy
from evo.gym_config import gym_env_id
from rl.config import ReinforceConfig
from rl.run import ReinforceRun


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
    """Learn ``evolve_cfg.task`` with ``pg_cfg.pg`` for ``budget`` training seconds (or
    ``steps`` agent-steps): a result like :func:`evo.compare.run_evolution`'s."""
    cfg = dataclasses.replace(
        pg_cfg, task=evolve_cfg.task, seed=seed, policy=evolve_cfg.policy,
        cars=evolve_cfg.cars, walkers=evolve_cfg.walkers, gym=evolve_cfg.gym,
        total_steps=steps or 10**12,
        pg=dataclasses.replace(pg_cfg.pg, anneal_lr=False, eval_episodes=0))  # scored here
    run = ReinforceRun(cfg, None)
    judge = run.spec.build()  # its own worlds: the learner's stay built
    lr0 = cfg.pg.lr
    cars = cfg.task == "cars"
    n_eval = max(evolve_cfg.episodes, 1)
    eval_seeds = list(range(n_eval))
    curve = {"seconds": [], "generation": [], "best": [], "episodes": [], "steps": []}
    if cars:
        curve["lap_time"] = []
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
        curve["seconds"].append(run.seconds)
        curve["generation"].append(run.iteration)
        curve["best"].append(best)
        curve["episodes"].append(episodes)
        curve["steps"].append(run.env_steps)
        if cars:
            curve["lap_time"].append(lap_time)
        tick(run.env_steps if steps is not None else run.seconds)
    judged = judge_policy(evolve_cfg, best_params,
                          best_obs if gym_env_id(cfg.task) is not None else None)
    return {"curve": curve, "num_params": run.ac.actor.num_params, "driver": judged,
            "algorithm": cfg.pg.algorithm}


def pg_runner(evolve_cfg, pg_cfg: ReinforceConfig):
    """The ``runners`` entry of :func:`evo.compare.compare` for ``pg_cfg``'s algorithm."""
    def runner(seed, budget, tick, steps=None):
        return run_pg(evolve_cfg, pg_cfg, seed, budget, tick, steps)

    return runner
