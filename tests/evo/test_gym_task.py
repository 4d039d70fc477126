"""Evolving Gymnasium environments (``neuroevo evolve gym:ENV_ID``): rollouts against plain
single-environment loops, chunks and backends agree, resume is exact, bad input exits 2."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from common.config import build
from evo.backends import ProcessBackend, SerialBackend
from evo.config import EvolveConfig
from evo.gym_config import GymConfig
from evo.registry import STRATEGIES
from evo.rollout import PolicyConfig
from evo.tasks import TaskSpec
from tests.conftest import assert_user_error, run_cli


def cli(capsys, *args):
    """``neuroevo ARGS`` in this process (what run_cli gives, without a Python start)."""
    from types import SimpleNamespace

    from neuroevo.cli import main

    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)

gym = pytest.importorskip("gymnasium", reason="the gym extra: pip install -e '.[gym]'")

from evo.gym_task import GymTask, ObsNorm, member_seed, vector_seed  # noqa: E402


def cartpole(population=6, **cfg) -> GymTask:
    return GymTask("CartPole-v1", GymConfig(**cfg), PolicyConfig(hidden=[4]), population)


def genomes(task: GymTask, n: int, seed=0, scale=1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0, scale, (n, task.network().num_params))


def plain_episode(env, theta, task, mean, scale, state=None, seed=None):
    """An independent reference: one environment, one genome, one forward a step."""
    net = task.network().clone()
    net.set_params(theta)
    obs, _ = env.reset(seed=seed)
    if state is not None:  # start from a given state (a vector sub-environment's)
        env.unwrapped.state = np.array(state, np.float64)
        obs = np.array(state, np.float32)
    ret, steps = 0.0, 0
    while steps < task.max_steps:
        x = np.clip((np.asarray(obs, np.float64) - mean) * scale, -5, 5)
        out = net.forward(x[None, :])[0]
        obs, r, term, trunc, _ = env.step(int(np.argmax(out)))
        ret += r
        steps += 1
        if term or trunc:
            break
    return ret, steps


def test_vector_rollout_equals_single_environments_from_the_same_starts():
    task = cartpole(population=6)
    assert task.vectorized
    params = genomes(task, 6, scale=2.0)
    mean, scale = np.array([0.01, 0.1, -0.02, 0.3]), np.array([2.0, 1.5, 3.0, 0.8])
    thetas = np.hstack([params, np.tile(mean, (6, 1)), np.tile(scale, (6, 1))])
    seeds = [11, 12]
    res = task.evaluate_episodes(thetas, seeds)
    # the starts: the same vector environment layout, reset with the same seed
    vec = gym.make_vec("CartPole-v1", num_envs=12, vectorization_mode="vector_entry_point")
    starts, _ = vec.reset(seed=vector_seed(seeds, 6))
    starts = vec.unwrapped.state.T.copy()  # (12, 4) float64
    env = gym.make("CartPole-v1")
    lengths = []
    for e in range(2):
        for m in range(6):
            ret, steps = plain_episode(env, params[m], task, mean, scale, starts[e * 6 + m])
            assert res[e]["fitness"][m] == ret and res[e]["steps"][m] == steps
            lengths.append(steps)
    assert len(set(lengths)) > 2  # the genomes do differ


def test_loop_rollout_equals_single_environments_with_member_seeds():
    task = cartpole(population=5, vectorize="loop", obs_norm=False)
    assert not task.vectorized
    params = genomes(task, 5, seed=1, scale=2.0)
    res = task.evaluate_episodes(task.genomes(params), [7], first_member=3)[0]
    env = gym.make("CartPole-v1")
    for j in range(5):
        ret, steps = plain_episode(env, params[j], task, np.zeros(4), np.ones(4),
                                   seed=member_seed(7, 3 + j))
        assert res["fitness"][j] == ret and res["steps"][j] == steps
        # the observation sums: every observation the policy saw
        assert res["obs_count"][j] == steps


@pytest.mark.xdist_group("ray")  # one Ray at a time (make test runs the suite on every core)
@pytest.mark.parametrize("vectorize", ["auto", "loop"])
def test_chunks_process_pool_and_ray_agree(vectorize):
    cfg = build(EvolveConfig, {"task": "gym:CartPole-v1", "population": 7,
                               "gym": {"vectorize": vectorize}}, "test: ")
    spec = TaskSpec(cfg.task, cfg.cars, cfg.walkers, cfg.policy, cfg.gym, cfg.population)
    serial = SerialBackend(spec)
    thetas = serial.task.genomes(genomes(serial.task, 7, scale=2.0))
    a = serial.evaluate(thetas, [3, 4])
    b = SerialBackend(spec, chunk=3).evaluate(thetas, [3, 4])
    with ProcessBackend(spec, workers=2) as pe:
        c = pe.evaluate(thetas, [3, 4])
    others = [b, c]
    if vectorize == "auto":  # and Ray (once: a local Ray takes seconds to start)
        pytest.importorskip("ray", reason="the ray extra: pip install -e '.[ray]'")
        from evo.backends import RayBackend

        with RayBackend(spec, workers=2) as rb:
            others.append(rb.evaluate(thetas, [3, 4]))
    for other in others:
        for key in ("fitness", "steps", "obs_sum", "obs_sumsq", "obs_count"):
            np.testing.assert_array_equal(a[key], other[key])


def test_obs_norm_matches_mean_and_variance_of_all_data():
    rng = np.random.default_rng(0)
    batches = [rng.normal(3, 2, (n, 3)) * [1, 10, 0.1] for n in (5, 40, 1, 17)]
    norm = ObsNorm(3)
    for b in batches:
        norm.update(b.sum(0), (b * b).sum(0), len(b))
    data = np.concatenate(batches)
    np.testing.assert_allclose(norm.mean, data.mean(0), rtol=1e-12)
    np.testing.assert_allclose(1 / norm.scale(), data.std(0), rtol=1e-9)
    const = ObsNorm(1)
    const.update(np.array([6.0]), np.array([12.0]), 3)
    assert const.scale()[0] == 0  # a constant observation: the policy sees 0


def test_actions_fill_the_spaces():
    pend = GymTask("Pendulum-v1", GymConfig(), PolicyConfig(), 4)  # Box(-2, 2, (1,))
    a = pend.to_actions(np.array([[-1.0], [0.0], [1.0], [0.5]]))
    assert a.dtype == np.float32 and a.shape == (4, 1)
    np.testing.assert_allclose(a[:, 0], [-2, 0, 2, 1])
    cart = cartpole()
    np.testing.assert_array_equal(cart.to_actions(np.array([[0.1, 0.3], [0.2, -0.5]])),
                                  [1, 0])
    assert cart.dims == (4, 2) and pend.dims == (3, 1)


def pendulum_episode(env, theta, task, seed, reward_min=None, stall=0):
    """An independent reference for a continuous task: one environment, one genome, the
    training rules written out (raise each reward to reward_min; stop after ``stall`` steps
    without a new high of the return)."""
    net = task.network().clone()
    net.set_params(theta)
    obs, _ = env.reset(seed=seed)
    ret, steps, high, since = 0.0, 0, -np.inf, 0
    while steps < task.max_steps:
        out = net.forward(np.asarray(obs, np.float64)[None, :])[0]
        obs, r, term, trunc, _ = env.step(np.array([2.0 * out[0]], np.float32))
        ret += r if reward_min is None else max(r, reward_min)
        steps += 1
        if term or trunc:
            break
        if ret > high:
            high, since = ret, 0
        else:
            since += 1
        if stall and since >= stall:
            break
    return ret, steps


def test_training_rules_stall_and_reward_floor_against_a_plain_loop():
    # Pendulum pays <= 0 every step: the return's high is its first step, so a stall rule
    # of k steps ends every training episode after k + 1 steps
    task = GymTask("Pendulum-v1", GymConfig(obs_norm=False, obs_clip=0, stall_steps=15,
                                              reward_min=-1.0),
                   PolicyConfig(hidden=[4]), 4)
    params = genomes(task, 4, seed=2, scale=1.5)
    res = task.evaluate_episodes(task.genomes(params), [5])[0]
    env = gym.make("Pendulum-v1")
    clipped = False
    for j in range(4):
        ret, steps = pendulum_episode(env, params[j], task, member_seed(5, j), -1.0, 15)
        assert steps == 16 and res["steps"][j] == steps
        assert res["fitness"][j] == pytest.approx(ret, rel=1e-12, abs=1e-12)
        true_ret, _ = pendulum_episode(env, params[j], task, member_seed(5, j), None, 15)
        clipped |= true_ret < ret - 1e-9  # some step paid less than -1
    assert clipped
    # replays and evaluations play whole episodes with the true reward
    from evo.gym_task import evaluate_policy

    full = evaluate_policy(task, params[0], np.zeros(3), np.ones(3), 1, seed=member_seed(5, 0))
    ret, steps = pendulum_episode(env, params[0], task, member_seed(5, 0))
    assert steps == 200 and full[0] == pytest.approx(ret, rel=1e-12)
    # CartPole pays +1 a step: its return always rises, so the stall rule never ends it
    plain, stalling = cartpole(population=4), cartpole(population=4, stall_steps=3)
    thetas = plain.genomes(genomes(plain, 4, seed=4, scale=2.0))
    a = stalling.evaluate_episodes(thetas, [1])
    b = plain.evaluate_episodes(thetas, [1])
    np.testing.assert_array_equal(a[0]["steps"], b[0]["steps"])
    assert b[0]["steps"].max() > 4


def fitness_rows(path):
    with open(path / "fitness.csv") as f:
        return list(csv.reader(f))


ARGS = ("--population", "8", "--seed", "3", "--quiet", "--headless",
        "--set", "episodes=2", "--set", "policy.hidden=[4]")


def test_same_seed_same_fitness_serial_process_and_resumed(tmp_path, capsys):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert cli(capsys, "evolve", "gym:CartPole-v1", "--generations", "4", "--out", str(a),
               *ARGS).returncode == 0
    p = cli(capsys, "evolve", "gym:CartPole-v1", "--generations", "4", "--out", str(b),
            "--backend", "process", "--workers", "2", *ARGS)
    assert p.returncode == 0, p.stderr
    assert cli(capsys, "evolve", "gym:CartPole-v1", "--generations", "2", "--out", str(c),
               *ARGS).returncode == 0
    p = cli(capsys, "evolve", "gym:CartPole-v1", "--resume", str(c), "--generations", "4",
            "--quiet", "--headless")
    assert p.returncode == 0, p.stderr
    rows = fitness_rows(a)
    assert len(rows) == 5 and fitness_rows(b) == rows and fitness_rows(c) == rows
    from common.files import read_npz

    ca, _ = read_npz(a / "checkpoint.npz", "checkpoint", "", ValueError)
    cc, _ = read_npz(c / "checkpoint.npz", "checkpoint", "", ValueError)
    assert ca["task/obs_norm/count"] > 0
    for key in set(ca) - {"timing"}:  # everything but the clock
        np.testing.assert_array_equal(ca[key], cc[key], err_msg=key)
    # the saved model carries the normaliser of its best genome; replay reads it
    p = cli(capsys, "replay", str(a / "best.npz"), "--episodes", "3", "--json", "--headless")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["episodes"] == 3 and len(out["returns"]) == 3
    assert out["mean_return"] == pytest.approx(np.mean(out["returns"]))
    assert out["std_return"] == pytest.approx(np.std(out["returns"]))
    from nn.io import load_model

    _, meta = load_model(a / "best.npz")
    assert len(meta["obs_mean"]) == 4 and len(meta["obs_scale"]) == 4


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_every_strategy_evolves_a_gym_environment(strategy, tmp_path):
    from evo.run import EvolutionRun

    # quality-diversity strategies spread over the episode length and the mean cart position
    qd = ({"descriptors": ["episode_length", "mean_obs_0"], "cells": [5, 4]}
          if STRATEGIES[strategy].uses_descriptors else {})
    cfg = build(EvolveConfig, {"task": "gym:CartPole-v1", "population": 6, "generations": 2,
                               "strategy": {"name": strategy}, "policy": {"hidden": [3]},
                               "qd": qd}, "test: ")
    run = EvolutionRun(cfg, tmp_path)
    assert run.run() == "completed"
    assert len(run.rows) == 2 and run.rows[-1]["best"] >= 8  # CartPole pays 1 a step
    assert (tmp_path / "best.npz").is_file()
    if qd:
        from evo.archive import read_archive

        archive = read_archive(tmp_path / "archive.npz").archive
        np.testing.assert_allclose([archive.spec.low, archive.spec.high], [[0, -4.8], [1, 4.8]],
                                   rtol=1e-6)  # float32 observation bounds
        steps = archive.descriptors[archive.filled, 0] * run.task.max_steps
        np.testing.assert_allclose(steps, np.round(steps))  # whole episodes
        assert archive.best == run.strategy.best_fitness


def test_continuous_actions_in_the_loop(tmp_path):
    from evo.run import EvolutionRun

    cfg = build(EvolveConfig, {"task": "gym:Pendulum-v1", "population": 4, "generations": 1,
                               "gym": {"max_steps": 20}}, "test: ")
    run = EvolutionRun(cfg, tmp_path)
    run.run()
    assert run.rows[0]["best_steps"] == 20 and run.rows[0]["best"] < 0


def test_bad_gym_input_is_one_line(tmp_path, capsys):
    assert_user_error(cli(capsys, "evolve", "gym:CartPol-v1", "--out", str(tmp_path / "x")),
                      "CartPol-v1", "did you mean")
    assert_user_error(cli(capsys, "evolve", "gymm", "--out", str(tmp_path / "y")),
                      "gymm", "gym:ENV_ID")
    assert_user_error(cli(capsys, "evolve", "gym:Blackjack-v1", "--out", str(tmp_path / "z")),
                      "not supported")
    assert_user_error(cli(capsys, "evolve", "gym:CartPole-v1", "--out", str(tmp_path / "w"),
                          "--set", "gym.vectorize=fast"), "gym.vectorize")
    assert_user_error(cli(capsys, "evolve", "gym:CartPole-v1", "--out", str(tmp_path / "v"),
                          "--set", "gym.stall_steps=-1"), "gym.stall_steps")
    assert_user_error(cli(capsys, "evolve", "gym:CartPole-v1", "--out", str(tmp_path / "u"),
                          "--set", "gym.reward_min=nan"), "gym.reward_min")
    assert_user_error(cli(capsys, "evolve", "gym:CartPole-v1", "--track", "default"),
                      "--track")


def test_without_the_extra_the_command_names_it(tmp_path):
    fake = tmp_path / "site" / "gymnasium"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named gymnasium')\n")
    import os

    from tests.conftest import REPO

    env = {"PYTHONPATH": f"{tmp_path / 'site'}{os.pathsep}{REPO}"}
    line = assert_user_error(run_cli("evolve", "gym:CartPole-v1", "--out",
                                     str(tmp_path / "r"), env=env), "pip install -e '.[gym]'")
    if sys.prefix != sys.base_prefix:  # in a virtual environment: its pip, not the PATH's
        pip = line.split(" install -e")[0].rsplit(" ", 1)[-1]
        assert pip.endswith("bin/pip") and (REPO / pip).resolve() == \
            (Path(sys.executable).parent / "pip").resolve(), line


def test_shipped_gym_configs_name_their_environment():
    from common.config import load_config
    from common.resources import shipped_dir
    from neuroevo.task_configs import gym_config_path

    paths = sorted(shipped_dir().glob("gym-*.yaml"))
    assert {p.stem for p in paths} >= {"gym-CartPole-v1", "gym-LunarLander-v3",
                                       "gym-BipedalWalker-v3"}
    for path in paths:
        cfg = load_config(EvolveConfig, path, [])
        assert cfg.task == f"gym:{path.stem[4:]}"
        assert gym_config_path(cfg.task) == path
        gym.spec(path.stem[4:])  # a real environment id
    assert gym_config_path("gym:Pendulum-v1").name == "gym.yaml"
