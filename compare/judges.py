"""The judges of ``neuroevo compare``'s control tasks: how good a method's best policy is,
on episodes (and, for cars, tracks) no method trained on."""

from __future__ import annotations

import dataclasses

import numpy as np

UNSEEN_TRACKS = ("oval", "default", "sbends", "hairpins", "technical")  # shipped tracks
JUDGE_EPISODES = 20  # gym: episodes a policy is judged on (seeds 10,000 onwards)


def judge_policy(evolve_cfg, params: np.ndarray, obs=None) -> dict:
    """How good the policy ``params`` is, on episodes no method trained on: cars:
    :func:`judge_driver`; walkers: ``{"train": {"distance": ...}}``, the mean over three
    episodes; gym: ``{"train": {"return": ...}}``, the mean over :data:`JUDGE_EPISODES`
    episodes, with the observation normaliser ``obs = (mean, scale)``."""
    from evo.tasks import task_class

    cls = task_class(evolve_cfg.task)
    if cls.laps:
        return judge_driver(evolve_cfg, params)
    spec = evolve_cfg.task_spec(evolve_cfg.policy, JUDGE_EPISODES)
    task = spec.build()
    theta = np.asarray(params, np.float64)[None, :]
    if cls.world_task:  # walkers
        res = task.evaluate_episodes(theta, [10_000, 10_001, 10_002])
        return {"train": {"distance": float(np.mean([r["fitness"][0] for r in res]))}}
    from evo.gym_task import evaluate_policy

    mean, scale = obs if obs is not None else (np.zeros(task.obs_dim), np.ones(task.obs_dim))
    ret = evaluate_policy(task, theta[0], mean, scale, JUDGE_EPISODES, seed=10_000)
    return {"train": {"return": float(np.mean(ret))}}


def judge_driver(evolve_cfg, params: np.ndarray) -> dict:
    """The driver ``params`` alone, once on each training track (``cars.tracks``, or
    ``cars.track``) and once on each shipped track it did not train on: for each set,
    ``laps`` (mean progress in laps within the episode: how far it drives), ``lap_time``
    (mean of its fastest lap per track, NaN unless it laps every one), ``lapped`` and
    ``tracks`` (how many it laps, of how many); and ``default_lapped``, whether it laps the
    shipped ``default`` track."""
    cars = evolve_cfg.cars
    train = list(cars.tracks) or [cars.track]
    sets = {"train": train, "unseen": [t for t in UNSEEN_TRACKS if t not in train]}
    out = {}
    for name, tracks in sets.items():
        judge = dataclasses.replace(cars, tracks=tracks, start_points=1)
        task = dataclasses.replace(evolve_cfg, cars=judge).task_spec(evolve_cfg.policy).build()
        # seed i drives tracks[i % len(tracks)]: each track once
        res = task.evaluate_episodes(np.asarray(params, np.float64)[None, :],
                                     list(range(len(tracks))))
        progress = [float(r["progress"][0]) for r in res]
        laps = [float(r["laps"][0]) for r in res]
        times = [float(r["lap_time"][0]) for r in res]
        out[name] = {"laps": float(np.mean(progress)), "lap_time": float(np.mean(times)),
                     "lapped": int(sum(v >= 1 for v in laps)), "tracks": len(tracks)}
        if "default" in tracks:
            out["default_lapped"] = laps[tracks.index("default")] >= 1
    return out
