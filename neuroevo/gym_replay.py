"""``neuroevo replay MODEL`` for a model evolved on a Gymnasium environment (``gym:ENV_ID``).

Headless (``--headless``, ``--json``, or no display): ``--episodes`` episodes run together
(one batched policy forward a step), episode i reset with seed ``--seed + i``, and the mean
and standard deviation of their returns are printed.  With a window, the first episode is
also shown: the environment's ``rgb_array`` frames beside the usual panel
(:mod:`neuroevo.gym_view`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from common.config import ConfigError
from evo.gym_config import gym_env_id
from evo.policy_file import policy_task, read_policy
from nn.errors import ModelFileError


def is_gym_model(path: str) -> bool:
    """Whether ``path`` is a policy evolved on a gym task (a bad file is reported by the
    usual loader)."""
    return gym_env_id(policy_task(path) or "") is not None


def load_gym_policy(path: str):
    """``(task, theta, obs_mean, obs_scale, meta)`` of a gym ``best.npz``, checked against
    its environment."""
    from evo.gym_task import GymTask

    pf = read_policy(path, ("gym",))
    net, env_id = pf.net, gym_env_id(pf.task)
    task = GymTask(env_id, pf.config, pf.policy)
    if net.n_inputs != task.obs_dim or net.n_outputs != task.act_dim:
        raise ModelFileError(f"{path}: the network takes {net.n_inputs} inputs and gives "
                             f"{net.n_outputs} outputs, but {env_id} has {task.obs_dim} "
                             f"observations and {task.act_dim} action outputs")
    mean, scale = pf.obs_norm or (np.zeros(task.obs_dim), np.ones(task.obs_dim))
    if mean.shape != (task.obs_dim,) or scale.shape != (task.obs_dim,):
        raise ModelFileError(f"{path}: the observation normaliser does not match {env_id}")
    theta = np.asarray(net.theta, np.float64)
    return task, theta, mean, scale, pf.meta


def replay_gym(args) -> int:
    from evo.gym_task import evaluate_policy

    episodes = 1 if args.episodes is None else args.episodes
    if episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {episodes}")
    task, theta, mean, scale, meta = load_gym_policy(args.model)
    view = None
    if not args.headless or args.screenshot is not None:
        from neuroevo.gym_view import open_view

        view = open_view(task, theta, mean, scale, meta, args)
    if view is not None:
        try:
            view.play(seed=args.seed)
        finally:
            view.close()
    returns = evaluate_policy(task, theta, mean, scale, episodes, args.seed)
    result = {"env": task.env_id, "episodes": episodes, "mean_return": float(returns.mean()),
              "std_return": float(returns.std()), "returns": [float(r) for r in returns]}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{task.env_id}: {episodes} episode{'s' * (episodes > 1)}, mean return "
              f"{result['mean_return']:.2f} (std {result['std_return']:.2f})")
    if view is not None and view.screenshot_saved is not None:
        print(f"screenshot: {view.screenshot_saved}", file=sys.stderr)
    return 0


def model_name(path: str) -> str:
    return Path(path).name
