"""Which config a control task's command reads (``evolve``, ``reinforce``, ``compare``):
the TASK argument (cars, walkers or gym:ENV_ID), the shipped config of a task, and loading a
config checked to be for the task the command names."""

from __future__ import annotations

import argparse
from pathlib import Path

from common.config import ConfigError, load_config, named_config
from evo.gym_config import gym_env_id
from evo.kinds import WORLD_TASKS


def task_name(value: str) -> str:
    """The TASK argument: cars, walkers or gym:ENV_ID (the id is checked when the task is
    built, where Gymnasium is needed)."""
    if value in WORLD_TASKS or (gym_env_id(value) or "").strip():
        return value
    # worded like argparse's own, so the parser adds its suggestion
    raise argparse.ArgumentTypeError(
        f"invalid choice: {value!r} (choose from {', '.join(WORLD_TASKS)}, gym:ENV_ID)")


def gym_config_path(task: str) -> Path:
    """The shipped config of a gym task: ``configs/gym-ENV_ID.yaml`` where there is one,
    else the generic ``configs/gym.yaml``."""
    from common.resources import shipped_file

    return shipped_file("", f"gym-{gym_env_id(task)}") or named_config("gym")


def reinforce_config_path(task: str) -> Path:
    """``configs/reinforce-TASK.yaml``; a gym task's ``configs/reinforce-ENV_ID.yaml`` where
    there is one, else the generic ``configs/reinforce-gym.yaml``."""
    from common.resources import shipped_file

    env_id = gym_env_id(task)
    if env_id is None:
        return named_config(f"reinforce-{task}")
    return shipped_file("", f"reinforce-{env_id}") or named_config("reinforce-gym")


def load_task_config(cls, path: Path, overrides: list[str], task: str,
                     options: list[tuple[str, str]] = ()):
    """``cls`` (an evolve or reinforce config) from ``path`` with ``overrides`` and the
    command's ``options`` (:func:`common.config.load_config`); a file for another task than
    the command's ``task`` is one line."""
    cfg = load_config(cls, path, overrides, options)
    if cfg.task != task:
        raise ConfigError(f"{path}: task is {cfg.task!r}, but the command asked for {task!r}")
    return cfg
