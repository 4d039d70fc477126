"""Tasks know themselves: the registry maps each name to its class, and what differs per task
(its config section, score columns, replay summary, renderer) comes from the class, with
the numbers the episodes give."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from common.config import build
from evo import kinds
from evo.config import EvolveConfig
from evo.gym_task import GymTask
from evo.rollout import PolicyConfig
from evo.tasks import KINDS, TASKS, CarTask, TaskSpec, WalkerTask, task_class
from rl.config import ReinforceConfig


def test_the_registry_names_every_world_task_once():
    assert TASKS == kinds.WORLD_TASKS == tuple(KINDS)
    assert KINDS == {"cars": CarTask, "walkers": WalkerTask}
    for name, cls in KINDS.items():
        assert task_class(name) is cls and cls.name == name
    assert task_class("gym:CartPole-v1") is GymTask
    with pytest.raises(ValueError, match="unknown task 'boats'"):
        task_class("boats")


@pytest.mark.parametrize("schema", [EvolveConfig, ReinforceConfig])
@pytest.mark.parametrize("name", [*TASKS, "gym:CartPole-v1"])
def test_a_task_names_its_config_section(schema, name):
    cfg = build(schema, {"task": name}, "test: ")
    cls = task_class(name)
    section = getattr(cfg, cls.section)
    assert isinstance(section, cls.config_class)
    spec = TaskSpec(name, cfg.cars, cfg.walkers, cfg.policy, cfg.gym)
    assert spec.task_config is section


def episode_of(task, seed=0):
    """One agent of the zero genome for one episode: its result and info."""
    genome = task.initial_genome(np.zeros(task.network().num_params))[None, :]
    (ep,) = list(task.episodes(genome, [seed]))
    from evo.rollout import finish

    info, steps = finish(ep.gen)
    return ep.results((info, steps))[0], info, ep.world


def short_cars():
    cfg = build(EvolveConfig, {"cars": {"world": {"max_time": 2.0}}}, "test: ")
    return CarTask(cfg.cars, PolicyConfig())


def short_walkers():
    cfg = build(EvolveConfig, {"task": "walkers", "walkers": {"world": {"max_time": 1.0}}},
                "test: ")
    return WalkerTask(cfg.walkers, PolicyConfig())


def test_the_replay_summary_of_a_car_is_its_episode():
    task = short_cars()
    result, info, world = episode_of(task)
    out, line = task.replay_result(info)
    assert json.loads(json.dumps(out)) == out  # --json
    assert out["progress"] == float(info["progress"][0]) == result["progress"][0]
    assert out["laps"] == 0 and out["lap_time"] is None  # 2 s: no lap
    assert out["time"] == pytest.approx(float(result["time_alive"][0]))
    assert line == (f"progress: {out['progress']:.4f} laps: 0 crashed: "
                    f"{'yes' if out['crashed'] else 'no'} time: {out['time']:.2f} s")
    lines, state, unit = task.replay_summary(world, world.info())
    assert lines[0] == f"track    {world.track.name}"
    assert state in ("crashed", "stalled", "time up") and unit == " laps"


def test_the_replay_summary_of_a_walker_is_its_episode():
    task = short_walkers()
    result, info, world = episode_of(task)
    out, line = task.replay_result(info)
    assert out == {"distance": float(result["distance"][0]),
                   "fallen": bool(result["fallen"][0]), "time": float(info["time_alive"][0])}
    assert line.startswith(f"distance: {out['distance']:.2f} fallen: ")
    lines, state, unit = task.replay_summary(world, world.info())
    assert lines == [f"creature {world.spec.name}", f"distance {out['distance']:.2f} m"]
    assert unit == " m" and state in ("fallen", "time up")


def test_score_rows_have_the_score_columns():
    eps = {"fitness": np.array([0.5, 1.25]), "lap_time": np.array([np.nan, 40.0]),
           "distance": np.array([3.0, -1.0])}
    cars = short_cars().score_row(eps)
    assert tuple(cars) == CarTask.score_columns
    assert cars == {"laps_mean": 0.875, "laps_best": 1.25, "lap_time": 40.0}
    assert math.isnan(short_cars().score_row({**eps, "lap_time": np.array([np.nan] * 2)})
                      ["lap_time"])
    walkers = short_walkers().score_row(eps)
    assert tuple(walkers) == WalkerTask.score_columns
    assert walkers == {"distance_mean": 1.0, "distance_best": 3.0}
    assert GymTask.score_columns == () and GymTask.score == "return"


def test_labels_and_evolved_extras():
    cars = short_cars()
    assert cars.fitness_label == " (laps)"
    goal = CarTask(dataclasses.replace(cars.cfg, objective="goal", track="maze"), PolicyConfig())
    assert goal.fitness_label == " (closeness to the goal)"
    assert short_walkers().fitness_label == " (m)"
    assert CarTask.evolved_extras(cars.cfg) is None
    assert CarTask.evolved_extras(dataclasses.replace(cars.cfg, sensors="evolve")) == \
        "cars.sensors=evolve"
    walkers = short_walkers().cfg
    assert WalkerTask.evolved_extras(dataclasses.replace(walkers, body="evolve")) == \
        "walkers.body=evolve"
    assert CarTask.place == "track" and WalkerTask.place == "terrain"
    assert CarTask.replay_section(cars.cfg, "oval", 7.0).track == "oval"
    moved = WalkerTask.replay_section(walkers, "procedural:4", 3.0).world
    assert (moved.terrain, moved.max_time, moved.ground_roughness) == ("procedural:4", 3.0, 0.0)
