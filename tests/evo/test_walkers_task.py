"""The walkers task: training terrains per episode, the fitness terms, replay on other
ground for longer, and bad input."""

import json

import numpy as np
import pytest

from common.config import build
from evo.backends import ProcessBackend, SerialBackend
from evo.config import EvolveConfig
from evo.rollout import run_episode
from evo.tasks import TaskSpec
from nn.io import load_model
from sims.walker_world import WalkerWorld, WalkerWorldConfig
from tests.conftest import assert_user_error

TERRAINS = ["procedural:1:1", "procedural:2:0.5", "procedural:3:0"]


def walker_cfg(**walkers):
    raw = {"task": "walkers", "population": 6, "generations": 2, "seed": 3,
           "policy": {"hidden": [6]},
           "walkers": {"world": {"max_time": 1.5, "ground_sensors": 3}, **walkers}}
    return build(EvolveConfig, raw, "test: ")


def spec_of(cfg):
    return TaskSpec("walkers", cfg.cars, cfg.walkers, cfg.policy)


def test_each_episode_walks_its_training_terrain_and_backends_agree():
    cfg = walker_cfg(terrains=TERRAINS, fall_penalty=5.0)
    spec = spec_of(cfg)
    serial = SerialBackend(spec)
    task = serial.task
    assert [task.variant(s) for s in (6, 7, 8)] == TERRAINS
    assert task.world(2, 7).config.terrain == "procedural:2:0.5"
    thetas = np.random.default_rng(0).normal(0, 0.5, (5, task.network().num_params))
    # an independent reference: the world built by hand on the episode's terrain
    net = task.network()
    for seed in (6, 7):
        world = WalkerWorld("biped", 5, WalkerWorldConfig(
            max_time=1.5, ground_sensors=3, terrain=TERRAINS[seed % 3]))
        info, _ = run_episode(world, net, thetas, seed)
        want = info["distance"] - 5.0 * info["fallen"]
        np.testing.assert_array_equal(serial.evaluate(thetas, seed=seed)["fitness"], want)
    a = serial.evaluate(thetas, seed=7)
    with ProcessBackend(spec, workers=2) as pe:
        b = pe.evaluate(thetas, seed=7)
    np.testing.assert_array_equal(a["fitness"], b["fitness"])


def test_fresh_terrains_give_every_episode_new_ground_and_keep_few_worlds():
    from evo.tasks import FRESH_TERRAINS

    cfg = walker_cfg(terrains=["procedural:*:1", "procedural:*:0.5"])
    task = spec_of(cfg).build()
    # consecutive episode seeds take the entries in turn, each pair on a new terrain seed
    got = [task.variant(s) for s in range(10, 16)]
    assert got == [f"procedural:{FRESH_TERRAINS + k}:{d}" for k in (5, 6, 7)
                   for d in ("1", "0.5")]
    assert all(int(v.split(":")[1]) >= FRESH_TERRAINS
               for v in map(task.variant, [0, 2**31, 2**32 - 1]))
    for s in range(10, 30):
        world = task.world(2, s)
        assert world.config.terrain == task.variant(s)
    assert len(task._worlds) == task.world_cache  # the newest only, not one per episode
    # the same ground as that terrain named outright
    named = spec_of(walker_cfg(terrains=[task.variant(13)])).build()
    np.testing.assert_array_equal(task.world(2, 13).ground, named.world(2, 0).ground)


def test_target_speed_caps_the_distance_that_counts():
    task = spec_of(walker_cfg(fall_penalty=3.0, target_speed=2.0)).build()  # 1.5-s episodes
    info = {"distance": np.array([2.0, 4.0, 4.0, -1.0]),
            "fallen": np.array([False, False, True, False]),
            "time_alive": np.array([1.5, 1.5, 1.0, 1.5])}
    np.testing.assert_allclose(task.fitness(info), [2.0, 3.0, 3.0 - 3.0, -1.0])


def test_bad_fresh_terrain_is_one_line(cli):
    r = cli("evolve", "walkers", "--headless", "--set", "walkers.terrains=[procedural:*:2]")
    assert_user_error(r, "procedural:*:2", "DIFFICULTY")


def test_fitness_is_distance_less_fall_penalty_plus_alive_bonus():
    task = spec_of(walker_cfg(fall_penalty=3.0, alive_bonus=0.5)).build()
    info = {"distance": np.array([2.0, 4.0]), "fallen": np.array([False, True]),
            "time_alive": np.array([10.0, 1.0])}
    np.testing.assert_allclose(task.fitness(info), [2.0 + 5.0, 4.0 - 3.0 + 0.5])


def test_replay_walks_other_ground_for_as_long_as_asked(tmp_path, cli):
    out = tmp_path / "walk"
    w = cli("evolve", "walkers", "--generations", "2", "--population", "6", "--headless",
            "--quiet", "--set", "walkers.world.max_time=1", "--set",
            "walkers.world.ground_sensors=3", "--set", "policy.hidden=[6]", "--out", str(out))
    assert w.returncode == 0, w.stderr
    best = out / "best.npz"
    rep = cli("replay", str(best), "--headless", "--json", "--time", "3", "--terrain",
              "procedural:9:1")
    assert rep.returncode == 0, rep.stderr
    got = json.loads(rep.stdout)
    # the same walk by hand: the saved network on that ground for 3 s
    net, _ = load_model(best)
    world = WalkerWorld("biped", 1, WalkerWorldConfig(max_time=3.0, ground_sensors=3,
                                                      terrain="procedural:9:1"))
    info, _ = run_episode(world, net, net.theta[None, :].astype(np.float64), seed=0)
    assert got["distance"] == pytest.approx(float(info["distance"][0]))
    assert got["fallen"] == bool(info["fallen"][0])
    assert got["time"] == pytest.approx(float(info["time_alive"][0]))
    if not got["fallen"]:
        assert got["time"] == pytest.approx(3.0)
    text = cli("replay", str(best), "--headless", "--time", "0.5").stdout
    assert text.startswith("distance: ") and text.rstrip().endswith("time: 0.50 s")
    assert_user_error(cli("replay", str(best), "--headless", "--terrain", "hills"), "hills")
    assert_user_error(cli("replay", str(best), "--headless", "--time", "0"), "--time")
    assert_user_error(cli("replay", str(best), "--headless", "--track", "oval"),
                      "--track applies to cars")


@pytest.mark.parametrize("args,fragment", [
    (["--set", "walkers.terrains=[procedural:1, hills]"], "hills"),
    (["--set", "walkers.terrains=[procedural:1:3]"], "DIFFICULTY"),
    (["--set", "walkers.world.terrain=procedural:x"], "terrain"),
    (["--set", "walkers.fall_penalty=-1"], "fall_penalty"),
    (["--set", "walkers.alive_bonus=-1"], "alive_bonus"),
    (["--set", "walkers.world.ground_sensors=-1"], "ground_sensors"),
    (["--set", "walkers.world.ground_roughness=0.1", "--set",
      "walkers.world.terrain=procedural:1"], "flat terrain only"),
])
def test_bad_walkers_input_exits_2(cli, args, fragment):
    assert_user_error(cli("evolve", "walkers", "--headless", "--quiet", *args), fragment)
