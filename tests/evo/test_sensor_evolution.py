"""Cars whose sensors evolve with their networks (cars.sensors: evolve): the genome, genes 0
against fixed sensors, the backends, best.npz and replay, resume, and bad input."""

import json

import numpy as np
import pytest

from common.config import build
from evo.backends import ProcessBackend, SerialBackend, combine
from evo.config import EvolveConfig
from evo.rollout import run_episode
from evo.run import EvolutionRun, ask_rng
from evo.tasks import TaskSpec
from nn.io import load_model
from sims import ray_layout
from sims.car_world import CarWorld
from sims.sensors import SensorParams
from tests.conftest import assert_user_error

WORLD = {"max_time": 6.0, "stall_time": 2.0, "start_jitter": 1.5}


def sensor_cfg(sensors="evolve", **over):
    raw = {"task": "cars", "population": 6, "generations": 2, "seed": 4,
           "policy": {"hidden": [5]},
           "cars": {"sensors": sensors, "world": WORLD, **over.pop("cars", {})}, **over}
    return build(EvolveConfig, raw, "test: ")


def spec_of(cfg):
    return TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)


def drivers(task, n: int, seed: int) -> np.ndarray:
    """(n, num_params) weights of networks that steer toward the longer side ray (so that
    how far a car gets depends on what its rays see), jittered."""
    net = task.network()
    (w1, b1), (w2, _) = net.layer_slices()
    theta = np.zeros(net.num_params)
    w = np.zeros((6, 5))
    w[[4, 0, 3, 1], 0] = [0.4, -0.4, 0.2, -0.2]  # h0 ~ 0.2 (2 (o4 - o0) + (o3 - o1))
    theta[w1] = w.ravel()
    theta[b1.start + 1] = 1.0  # h1 = tanh(1)
    out = np.zeros((5, 2))
    out[0, 1], out[1, 0] = 5.0, 0.9  # steer ~ tanh(5 h0), throttle ~ 0.6
    theta[w2] = out.ravel()
    return theta + np.random.default_rng(seed).normal(0, 0.03, (n, net.num_params))


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_the_genome_is_the_weights_then_sensor_genes_that_start_at_the_fixed_fan(tmp_path):
    run = EvolutionRun(sensor_cfg(), tmp_path / "r")
    d = run.net.num_params
    assert run.strategy.num_params == d + 10  # 5 rays: 5 angle and 5 range genes
    np.testing.assert_array_equal(run.strategy.init_params[:d], run.net.get_params())
    np.testing.assert_array_equal(run.strategy.init_params[d:], 0.0)
    first = run.strategy.ask(ask_rng(4, 0))
    np.testing.assert_array_equal(first[0, d:], 0.0)  # member 0: the fixed fan
    fixed = EvolutionRun(sensor_cfg("fixed"), tmp_path / "f")
    assert fixed.strategy.num_params == d


@pytest.mark.parametrize("cars", [{}, {"tracks": ["procedural:1", "oval"], "start_points": 2}])
def test_genes_0_drive_exactly_as_fixed_sensors(cars):
    evolve = spec_of(sensor_cfg(cars=cars)).build()
    fixed = spec_of(sensor_cfg("fixed", cars=cars)).build()
    weights = drivers(fixed, 7, seed=1)
    genomes = np.hstack([weights, np.zeros((7, 10))])
    seeds = [3, 4, 6] if cars else [3]
    _same(combine(evolve.evaluate_episodes(genomes, seeds, 2)),
          combine(fixed.evaluate_episodes(weights, seeds, 2)))


def test_each_car_reads_with_its_own_rays_and_backends_agree():
    cfg = sensor_cfg()
    spec = spec_of(cfg)
    serial = SerialBackend(spec)
    task = serial.task
    d = task.network().num_params
    genomes = np.hstack([drivers(task, 5, seed=0),
                         np.random.default_rng(0).normal(0, 0.7, (5, 10))])
    genomes[2, d:] = 0.0  # one of them the fixed fan
    got = serial.evaluate(genomes, seed=11)
    # an independent reference: each genome alone in a world of its own rays, mapped from
    # its genes by hand (angle: fan + half the spacing x tanh, range: 50 x (1 + tanh / 2))
    fan = SensorParams()
    for i, genome in enumerate(genomes):
        g = genome[d:]
        angles = fan.angles + 0.5 * (np.pi / 4) * np.tanh(g[:5])
        ranges = 50.0 * (1.0 + 0.5 * np.tanh(g[5:]))
        world = CarWorld("default", 1, cfg.cars.world, max_range=75.0)
        world.set_sensors(angles[None], ranges[None])
        info, _ = run_episode(world, task.network(), genome[None, :d], 11, i)
        assert got["fitness"][i] == info["progress"][0]
    assert np.unique(got["fitness"]).size == 5
    with ProcessBackend(spec, workers=2) as pe:
        _same(pe.evaluate(genomes, seed=11), got)
    _same(SerialBackend(spec, chunk=2).evaluate(genomes, 11), got)
    with pytest.raises(ValueError, match="sensor genes"):
        serial.evaluate(genomes[:, :d], seed=11)  # a genome without its sensors


def test_best_npz_keeps_the_rays_and_replay_drives_with_them(tmp_path, cli):
    out = tmp_path / "run"
    w = cli("evolve", "cars", "--generations", "2", "--population", "6", "--headless",
            "--quiet", "--seed", "2", "--set", "cars.sensors=evolve", "--set", "cars.tracks=[]",
            "--set", "cars.world.max_time=6", "--set", "cars.world.stall_time=2",
            "--set", "strategy.init_scale=1.0", "--out", str(out))
    assert w.returncode == 0, w.stderr
    assert "and 10 sensor genes per genome" in w.stderr
    best = out / "best.npz"
    net, meta = load_model(best)
    run = EvolutionRun.resume(out)
    d = run.net.num_params
    genome = run.strategy.best_params
    angles, ranges = ray_layout.layout(SensorParams(5, 3.14159, 50.0), genome[d:])
    assert meta["sensors"] == {"genes": genome[d:].tolist(), "angles": angles.tolist(),
                               "ranges": ranges.tolist()}
    assert np.any(genome[d:] != 0)
    np.testing.assert_array_equal(net.theta, genome[:d])
    # replay drives with those rays: the progress it scored when evaluated
    rep = cli("replay", str(best), "--headless", "--json")
    assert rep.returncode == 0, rep.stderr
    assert json.loads(rep.stdout)["progress"] == run.rows[-1]["best_ever"]
    # a best.npz that lost its rays is refused in one line
    from nn.io import save_model

    del meta["sensors"]
    save_model(tmp_path / "lost.npz", net, **meta)
    assert_user_error(cli("replay", str(tmp_path / "lost.npz"), "--headless"), "lost.npz",
                      "records no ray layout")


def test_resume_is_bit_exact_with_sensors(tmp_path):
    over = {"strategy": {"name": "es", "init_scale": 0.5}}
    full = EvolutionRun(sensor_cfg(generations=4, **over), tmp_path / "full")
    assert full.run() == "completed"
    part = EvolutionRun(sensor_cfg(generations=2, **over), tmp_path / "part")
    part.run()
    resumed = EvolutionRun.resume(tmp_path / "part", generations=4)
    resumed.run()
    assert (tmp_path / "full" / "fitness.csv").read_bytes() == \
        (tmp_path / "part" / "fitness.csv").read_bytes()
    np.testing.assert_array_equal(full.strategy.best_params, resumed.strategy.best_params)
    assert load_model(tmp_path / "full" / "best.npz")[1]["sensors"] == \
        load_model(tmp_path / "part" / "best.npz")[1]["sensors"]


@pytest.mark.parametrize("args,fragment", [
    (["evolve", "cars", "--headless", "--set", "cars.sensors=grow"], "cars.sensors"),
    (["evolve", "cars", "--headless", "--set", "cars.sensors=[evolve]"], "cars.sensors"),
    (["evolve", "cars", "--headless", "--set", "cars.sensors={n_rays: 3}"], "cars.sensors"),
    (["evolve", "cars", "--headless", "--set", "cars.sensors=evolve", "--set",
      "cars.world.sensors.fov=0"], "fov > 0"),
    (["reinforce", "cars", "--headless", "--set", "cars.sensors=evolve"], "cars.sensors"),
    (["compare", "cars", "--evolve-set", "cars.sensors=evolve"], "cars.sensors"),
    (["compare", "cars", "--reinforce-set", "cars.sensors=evolve"], "cars.sensors"),
])
def test_bad_sensor_input_exits_2(cli, args, fragment):
    assert_user_error(cli(*args, "--quiet"), fragment)
