"""Policy files: the ``best.npz`` that ``evolve`` and ``reinforce`` write and ``replay``,
``export-creature`` and the benchmarks read.  Every policy file is written by
:func:`save_policy` and read by :func:`read_policy` (or, for a look at its task only,
:func:`policy_task`).

A policy file is a model file of :mod:`nn.io` (the network's ``theta``, no pickles, written
atomically through :mod:`common.files`), so its format version is the model format's:
:func:`nn.io.read_model_file` refuses a version it does not read, in one line.  Its JSON
metadata holds, after the network's own keys and in this order:

- ``kind``: ``"policy"``; ``task``: ``cars``, ``walkers`` or ``gym:ENV_ID``;
  ``task_config``: that task's config section (:class:`evo.tasks.CarsConfig`,
  :class:`evo.tasks.WalkersConfig` or :class:`evo.gym_config.GymConfig`, as a mapping);
- what the task adds (``Task.model_meta`` and ``Task.genome_meta``: a gym task's observation
  normaliser ``obs_mean``, ``obs_scale``, ``obs_clip``, ``max_steps``; an evolved body
  ``body`` or evolved rays ``sensors``);
- ``policy``: the :class:`evo.rollout.PolicyConfig` mapping; ``fitness``: the score;
- where it came from: ``generation`` (evolve), or ``iteration`` and ``trained_by``
  (reinforce);
- ``input_shape`` ``[n_inputs]`` and ``label_names`` ``[]``.

A section missing from an older or hand-made file reads as its defaults; a section that is
not valid, a file that is no policy, or a policy whose evolved body or rays are missing is a
:class:`nn.errors.ModelFileError` with one line naming the file.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np

from common.config import ConfigError, build
from common.errors import UserError
from evo.gym_config import GymConfig, gym_env_id
from evo.rollout import PolicyConfig
from evo.tasks import TASKS, CarsConfig, WalkersConfig, task_class
from nn.errors import ModelFileError
from nn.io import load_model, read_model_file, save_model

KIND = "policy"
NOT_A_POLICY = "not a policy written by neuroevo evolve or reinforce"


def save_policy(path: str | os.PathLike, net, *, task: str, task_config, policy,
                fitness: float, extra: dict | None = None, **origin) -> None:
    """Write ``net`` as the policy file ``path`` (atomically).  ``task_config`` and
    ``policy`` are the config sections (dataclasses); ``extra``: what the task adds
    (``Task.model_meta``, ``Task.genome_meta``); ``origin``: ``generation=`` (evolve), or
    ``iteration=`` and ``trained_by=`` (reinforce)."""
    save_model(path, net, kind=KIND, task=task, task_config=dataclasses.asdict(task_config),
               **(extra or {}), policy=dataclasses.asdict(policy), fitness=float(fitness),
               **origin, input_shape=[net.n_inputs], label_names=[])


def policy_task(path: str | os.PathLike) -> str | None:
    """The task of the policy file ``path`` (``cars``, ``walkers``, ``gym:ENV_ID``), or
    None where ``path`` is not a readable policy file (:func:`read_policy` then says why);
    reads the metadata without building the network."""
    try:
        _, meta = read_model_file(path)
    except ModelFileError:
        return None
    task = meta.get("task")
    known = task in TASKS or gym_env_id(str(task)) is not None
    return task if meta.get("kind") == KIND and isinstance(task, str) and known else None


@dataclass(frozen=True)
class PolicyFile:
    """A policy file, read and checked: the network and what its metadata says."""

    path: str
    net: object  # nn.network.Network
    meta: dict  # the whole metadata
    task: str  # cars, walkers or gym:ENV_ID
    policy: PolicyConfig
    config: CarsConfig | WalkersConfig | GymConfig  # the task's config section
    body: object | None = None  # walkers.body: evolve: the evolved creature (CreatureSpec)
    sensors: tuple[np.ndarray, np.ndarray] | None = None  # cars.sensors: evolve: the rays

    @property
    def obs_norm(self) -> tuple[np.ndarray, np.ndarray] | None:
        """A gym policy's observation normaliser ``(mean, scale)`` as recorded (None where
        the file has none; :func:`neuroevo.gym_replay.load_gym_policy` checks its size)."""
        if "obs_mean" not in self.meta or "obs_scale" not in self.meta:
            return None
        try:
            return (np.asarray(self.meta["obs_mean"], np.float64),
                    np.asarray(self.meta["obs_scale"], np.float64))
        except (TypeError, ValueError):
            raise ModelFileError(f"{self.path}: its observation normaliser is not two lists "
                                 f"of numbers") from None


def read_policy(path: str | os.PathLike, tasks: tuple[str, ...] | None = None) -> PolicyFile:
    """Read the policy file ``path``; ``tasks``: the task kinds the caller takes (``cars``,
    ``walkers``, ``gym``; None: any).  Errors are one-line :class:`ModelFileError`."""
    net, meta = load_model(path)
    task = meta.get("task")
    try:
        cls = task_class(task) if isinstance(task, str) else None
    except ValueError:
        cls = None
    if meta.get("kind") != KIND or cls is None or (
            tasks is not None and cls.section not in tasks):
        raise ModelFileError(f"{path}: {NOT_A_POLICY}")
    kind = cls.section
    try:
        policy = build(PolicyConfig, meta.get("policy", {}), f"{path}: policy")
        config = build(cls.config_class, meta.get("task_config", {}), f"{path}: {kind}")
    except ConfigError as e:
        raise ModelFileError(str(e)) from None
    return PolicyFile(str(path), net, meta, task, policy, config,
                      body=evolved_body(path, meta, config),
                      sensors=evolved_sensors(path, meta, config))


def evolved_body(path, meta: dict, config):
    """The creature a walkers policy evolved (``walkers.body: evolve``), as its metadata
    records it; None for a model of a fixed body (or not of walkers: ``config``, its task
    section, is no :class:`WalkersConfig`)."""
    from sims.walker import parse_creature

    if not isinstance(config, WalkersConfig) or config.body == "fixed":
        return None
    body = meta.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("creature"), dict):
        raise ModelFileError(f"{path}: evolved with walkers.body: {config.body}, but "
                             f"it records no body")
    try:
        return parse_creature(dict(body["creature"]), f"{path}: body")
    except UserError as e:
        raise ModelFileError(str(e)) from None


def evolved_sensors(path, meta: dict, cars: CarsConfig):
    """The rays a cars policy evolved (``cars.sensors: evolve``), ``(angles (R,), ranges
    (R,))`` as its metadata records them, checked against ``cars`` (its config); None for a
    model of fixed sensors (or not of cars)."""
    if not isinstance(cars, CarsConfig) or cars.sensors == "fixed":
        return None
    rec = meta.get("sensors")
    params = cars.world.sensors
    try:
        layout = tuple(np.asarray(rec[k], np.float64) for k in ("angles", "ranges"))
    except (TypeError, KeyError, ValueError):
        raise ModelFileError(f"{path}: evolved with cars.sensors: {cars.sensors}, but it "
                             f"records no ray layout") from None
    from sims import ray_layout

    top = ray_layout.max_range(params)
    if any(a.shape != (params.n_rays,) for a in layout) or not (
            np.all(np.abs(layout[0]) <= np.pi) and np.all(layout[1] > 0)
            and np.all(layout[1] <= top)):
        raise ModelFileError(f"{path}: its evolved ray layout is not {params.n_rays} angles "
                             f"in [-pi, pi] and ranges in (0, {top:g}] m")
    return layout
