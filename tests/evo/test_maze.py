"""The goal objective of the cars task on the deceptive maze (configs/cars-maze.yaml)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from common.config import load_config
from common.resources import shipped_file
from evo.archive import read_archive
from evo.config import EvolveConfig
from evo.run import EvolutionRun
from evo.tasks import TaskSpec
from tests.conftest import assert_user_error

FAST = ["population=6", "generations=3", "cars.world.max_time=6", "qd.cells=[8,5]"]


def maze_cfg(*sets):
    return load_config(EvolveConfig, shipped_file("", "cars-maze"), [*FAST, *sets])


def maze_task(cfg):
    spec = TaskSpec(cfg.task, cfg.cars, cfg.walkers, cfg.policy, cfg.gym, cfg.population,
                    tuple(cfg.qd.descriptors))
    return spec.build()


def test_fitness_is_closeness_to_the_goal_and_one_when_reached():
    task = maze_task(maze_cfg())
    info = {"goal_distance": np.array([30.0, 15.0, 45.0, 3.5]),
            "goal_start": np.array([30.0, 30.0, 30.0, 30.0]),
            "reached": np.array([False, False, False, True])}
    np.testing.assert_array_equal(task.fitness(info), [0.0, 0.5, -0.5, 1.0])
    assert task.columns[-2:] == ("goal_distance", "reached")


def test_a_car_that_never_moves_scores_zero_and_ends_at_the_start():
    cfg = maze_cfg()
    task = maze_task(cfg)
    zero = np.zeros((2, task.network().num_params))  # throttle and steer tanh(0) = 0
    res = task.evaluate(zero, seed=0)
    np.testing.assert_array_equal(res["fitness"], [0.0, 0.0])
    np.testing.assert_allclose(res["desc_final_x"], 0.0, atol=1e-9)
    np.testing.assert_allclose(res["desc_final_y"], 0.0, atol=1e-9)
    assert not res["reached"].any() and res["goal_distance"] == pytest.approx(30.0)
    # the descriptors' natural ranges are the course's extent
    lo_x, lo_y, hi_x, hi_y = task.track.bounds()
    assert task.describer.ranges == [(lo_x, hi_x), (lo_y, hi_y)]


def test_same_genomes_same_results():
    task = maze_task(maze_cfg())
    rng = np.random.default_rng(5)
    thetas = rng.normal(0, 1, (5, task.network().num_params))
    a, b = task.evaluate(thetas, seed=0), maze_task(maze_cfg()).evaluate(thetas, seed=0)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


@pytest.mark.parametrize("strategy", ["novelty", "ga"])
def test_maze_run_resumes_bit_for_bit(tmp_path, strategy):
    full = EvolutionRun(maze_cfg(f"strategy.name={strategy}"), tmp_path / "full")
    full.run()
    EvolutionRun(maze_cfg(f"strategy.name={strategy}", "generations=2"), tmp_path / "part").run()
    EvolutionRun.resume(tmp_path / "part", generations=3).run()
    for name in ("fitness.csv", "qd.csv"):
        assert (tmp_path / "full" / name).read_bytes() == (tmp_path / "part" / name).read_bytes()
    a, b = (read_archive(tmp_path / p / "archive.npz").archive for p in ("full", "part"))
    np.testing.assert_array_equal(a.fitness, b.fitness)
    np.testing.assert_array_equal(a.genomes, b.genomes)


def test_replay_reports_the_goal(tmp_path, cli):
    out = tmp_path / "run"
    sets = [a for f in FAST for a in ("--set", f)]
    res = cli("evolve", "cars", "--config", str(shipped_file("", "cars-maze")), "--headless",
              "--quiet", "--out", str(out), *sets)
    assert res.returncode == 0, res.stderr
    rep = cli("replay", str(out / "best.npz"), "--headless", "--json")
    assert rep.returncode == 0, rep.stderr
    result = json.loads(rep.stdout.strip().splitlines()[-1])
    best = float(np.loadtxt(out / "fitness.csv", delimiter=",", skiprows=1, ndmin=2)[:, -1].max())
    fitness = 1.0 if result["reached"] else 1.0 - result["goal_distance"] / 30.0
    assert fitness == pytest.approx(best, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("sets,words", [
    (["cars.objective=goal"], ["objective goal", "has no goal"]),
    (["cars.objective=finish"], ["cars.objective"]),
    (["cars.track=maze", "qd.descriptors=[final_x,final_z]", "qd.cells=[4,4]",
      "strategy.name=novelty"], ["final_z"]),
])
def test_bad_goal_settings_are_one_line_exit_2(cli, sets, words):
    args = ["evolve", "cars", "--headless", "--generations", "1"]
    for s in sets:
        args += ["--set", s]
    assert_user_error(cli(*args), *words)
