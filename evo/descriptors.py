"""Behaviour descriptors: what a quality-diversity run spreads its archive over.

Each task offers named descriptors, each computed from an episode's ``info`` (the world's
per-agent statistics; a gym task's per-episode result) and averaged over a genome's
episodes like every result column, each with a natural range ``[low, high]`` that
``qd.bounds`` may narrow or widen:

===================== ======== =================================================================
cars
``mean_speed``        m/s      mean |forward speed| over the steps the car drove, 0..max_speed
``mean_abs_steering``          mean |steer| over those steps, 0..1
``mean_lateral``      m        mean offset from the centerline (> 0 left), +-half the track width
``final_x``           m        where the car's episode ended, x (novelty search on a course:
``final_y``           m        Lehman & Stanley's maze descriptor), the tracks' extent
walkers
``foot_contact_<i>``           share of the steps up that foot ``i`` (the creature's ``feet``,
                               counted from 0) touched the ground, 0..1
``mean_torso_angle``  rad      mean torso angle from the rest pose while up, -pi/2..pi/2
gym:ENV_ID
``episode_length``             the episode's steps / the step limit, 0..1
``mean_obs_<i>``               mean of observation component ``i`` over the episode; its range
                               is the observation space's (set ``qd.bounds`` where unbounded)
===================== ======== =================================================================

To add one: write a function ``(task, info) -> (n,) array`` and register it with its
range in :data:`CARS`, :data:`WALKERS` or :data:`GYM` (a name ending ``_<i>`` is a family:
``range_of`` and ``value`` then also receive ``i``); ``info`` holds what the task's world
reports (``sims.car_world.CarWorld.info``, ``sims.walker_world.WalkerWorld.info``) or, for
gym tasks, ``steps``, ``obs_sum`` and ``obs_count`` per genome.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Descriptor:
    """A family of descriptors: ``value(task, info, i)`` -> (n,), ``range_of(task, i)`` ->
    (low, high) (``i``: the number of a ``_<i>`` name, else None); ``count(task)``: how
    many members a family has (None: not a family)."""

    value: Callable
    range_of: Callable
    count: Callable | None = None
    doc: str = ""


def _col(key):
    return lambda task, info, i: np.asarray(info[key], np.float64)


def _car_mean(key):
    """The mean over the steps a car drove of the world's per-step sum ``key``."""
    def value(task, info, i):
        steps = np.maximum(np.rint(np.asarray(info["time_alive"]) / task.cfg.world.dt), 1.0)
        return np.asarray(info[key], np.float64) / steps
    return value


CARS = {
    "mean_speed": Descriptor(_car_mean("sum_speed"),
                             lambda t, i: (0.0, float(t.cfg.world.car.max_speed)),
                             doc="m/s"),
    "mean_abs_steering": Descriptor(_car_mean("sum_abs_steering"), lambda t, i: (0.0, 1.0)),
    "mean_lateral": Descriptor(_car_mean("sum_lateral"), lambda t, i: (-t.half_width,
                                                                     t.half_width), doc="m"),
    "final_x": Descriptor(_col("final_x"), lambda t, i: (t.extent[0], t.extent[2]), doc="m"),
    "final_y": Descriptor(_col("final_y"), lambda t, i: (t.extent[1], t.extent[3]), doc="m"),
}

WALKERS = {
    "foot_contact_": Descriptor(lambda t, info, i: np.asarray(info[f"foot_contact_{i}"],
                                                              np.float64),
                                lambda t, i: (0.0, 1.0), count=lambda t: len(t.creature.feet)),
    "mean_torso_angle": Descriptor(_col("mean_torso_angle"),
                                   lambda t, i: (-math.pi / 2, math.pi / 2), doc="rad"),
}


def _obs_range(task, i):
    lo = float(task.observation_space.low.reshape(-1)[i])
    hi = float(task.observation_space.high.reshape(-1)[i])
    return lo, hi


GYM = {
    "episode_length": Descriptor(
        lambda t, info, i: np.asarray(info["steps"], np.float64) / t.max_steps,
        lambda t, i: (0.0, 1.0)),
    "mean_obs_": Descriptor(
        lambda t, info, i: np.asarray(info["obs_sum"], np.float64)[:, i]
        / np.maximum(np.asarray(info["obs_count"], np.float64), 1.0),
        _obs_range, count=lambda t: t.obs_dim),
}


def parse(name: str, table: dict[str, Descriptor]) -> tuple[Descriptor, int | None] | None:
    """``name`` -> (its family, member number or None), or None if unknown to the task
    (the member's range is checked by :func:`resolve`, which needs the task)."""
    reg = table
    if name in reg and reg[name].count is None:
        return reg[name], None
    m = re.fullmatch(r"(.*_)(\d+)", name)
    if m and m.group(1) in reg and reg[m.group(1)].count is not None:
        return reg[m.group(1)], int(m.group(2))
    return None


def known_names(table: dict[str, Descriptor]) -> list[str]:
    """The names of ``table`` (a task's ``behaviours``), a family's as ``name_<i>``."""
    return [f"{k}<i>" if d.count is not None else k for k, d in table.items()]


class Describer:
    """The chosen descriptors of a built task: ``values(info) -> {name: (n,)}`` and their
    natural ranges.  A member number beyond its family (foot_contact_5 of a biped) is a
    ``ValueError`` naming it."""

    def __init__(self, task, task_name: str, names):
        self.names = tuple(names)
        self._parts = []
        for name in self.names:
            found = parse(name, task.behaviours)
            if found is None:
                raise ValueError(f"unknown descriptor {name!r} for {task_name} (known: "
                                 f"{', '.join(known_names(task.behaviours))})")
            desc, i = found
            if i is not None and i >= desc.count(task):
                raise ValueError(f"descriptor {name!r}: {task_name} has only "
                                 f"{desc.count(task)} of them (numbered from 0)")
            self._parts.append((desc, i))
        self.ranges = [desc.range_of(task, i) for desc, i in self._parts]
        self._task = task

    def values(self, info) -> dict[str, np.ndarray]:
        return {f"desc_{n}": desc.value(self._task, info, i)
                for n, (desc, i) in zip(self.names, self._parts)}


def columns(names) -> list[str]:
    """The result keys of descriptors ``names``."""
    return [f"desc_{n}" for n in names]
