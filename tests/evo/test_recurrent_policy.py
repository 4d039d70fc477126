"""Recurrent evolution policies (``policy.recurrent``): the network make_policy builds, the
state an episode keeps per agent (against each agent run alone), determinism, evolve and
replay through the command line, gym tasks, and the policy-gradient commands' refusal."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from common.config import ConfigError, build
from evo.config import EvolveConfig
from evo.rollout import PolicyConfig, make_policy
from evo.tasks import TaskSpec
from nn.io import load_model
from tests.conftest import assert_user_error

SMALL = {"population": 6, "generations": 2, "seed": 4, "episodes": 1,
         "policy": {"hidden": [6], "recurrent": 4},
         "cars": {"tracks": [], "world": {"max_time": 4.0, "stall_time": 2.0}},
         "walkers": {"terrains": [], "world": {"max_time": 2.0}}}


def cfg_for(task: str, **over) -> EvolveConfig:
    return build(EvolveConfig, {**SMALL, "task": task, **over}, "test: ")


def test_policy_config_recurrent():
    assert PolicyConfig().recurrent == 0
    net = make_policy(5, 2, PolicyConfig(hidden=[8, 6], recurrent=3))
    assert net.recurrent and net.describe() == "dense8-dense6-rnn3-dense2"
    assert net.activations == ["tanh", "tanh", "tanh", "tanh"]
    assert net.num_params == (5 * 8 + 8) + (8 * 6 + 6) + (6 * 3 + 9 + 3) + (3 * 2 + 2)
    plain = make_policy(5, 2, PolicyConfig(hidden=[8, 6]))
    assert plain.is_mlp and not plain.recurrent  # recurrent: 0 is the perceptron as before
    assert make_policy(5, 2, PolicyConfig(hidden=[], recurrent=3)).describe() == "rnn3-dense2"
    with pytest.raises(ConfigError, match=r"policy\.recurrent: must be >= 0"):
        build(EvolveConfig, {"policy": {"recurrent": -1}}, "test: ")
    with pytest.raises(ConfigError, match=r"policy\.recurrent"):
        build(EvolveConfig, {"policy": {"recurrent": "many"}}, "test: ")


@pytest.mark.parametrize("task_name", ["cars", "walkers"])
def test_each_agent_keeps_its_own_state_as_others_finish(task_name):
    """A batched episode, where agents finish at different steps (and the policy is handed
    on to the others with their states), scores every member as it scores alone."""
    cfg = cfg_for(task_name)
    task = TaskSpec(task_name, cfg.cars, cfg.walkers, cfg.policy).build()
    net = task.network()
    rng = np.random.default_rng(0)
    thetas = rng.normal(0.0, 0.8, (6, net.num_params))
    together = task.evaluate(thetas, seed=11)
    # the agents did not all stop together, so the alive set changed during the episode
    assert len(np.unique(together["time_alive"])) > 1, together["time_alive"]
    for i in range(len(thetas)):
        alone = task.evaluate(thetas[i:i + 1], seed=11, first_member=i)
        assert alone["fitness"][0] == together["fitness"][i], i
        assert alone["time_alive"][0] == together["time_alive"][i], i


def test_the_state_matters_and_starts_from_zero_each_episode():
    cfg = cfg_for("walkers")
    task = TaskSpec("walkers", cfg.cars, cfg.walkers, cfg.policy).build()
    net = task.network()
    thetas = np.random.default_rng(1).normal(0.0, 0.8, (4, net.num_params))
    first = task.evaluate(thetas, seed=2)["fitness"]
    np.testing.assert_array_equal(task.evaluate(thetas, seed=2)["fitness"], first)
    # the same weights with the recurrent weights Wh zeroed: a different walk
    w, _ = net.layer_slices()[1]
    rnn = net.layers[1]
    no_memory = thetas.copy()
    no_memory[:, w.start + rnn.n_in * rnn.n_out:w.stop] = 0.0
    assert not np.array_equal(task.evaluate(no_memory, seed=2)["fitness"], first)


def run_cli_evolve(cli, out, *extra):
    return cli("evolve", "walkers", "--generations", "2", "--population", "8", "--seed", "3",
               "--set", "policy.recurrent=4", "--set", "walkers.world.max_time=2",
               "--set", "episodes=1", "--set", "walkers.terrains=[]", "--headless",
               "--quiet", "--out", str(out), *extra)


def test_evolve_walkers_with_memory_then_replay_best(tmp_path, cli):
    proc = run_cli_evolve(cli, tmp_path / "a")
    assert proc.returncode == 0, proc.stderr
    net, meta = load_model(tmp_path / "a" / "best.npz")
    assert meta["policy"]["recurrent"] == 4
    assert net.recurrent and [s for s in meta["layers"] if "rnn" in s] == [
        {"rnn": 4, "activation": "tanh"}]
    with open(tmp_path / "a" / "fitness.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    best = max(rows, key=lambda r: float(r["best"]))
    rep = cli("replay", str(tmp_path / "a" / "best.npz"), "--headless", "--json")
    assert rep.returncode == 0, rep.stderr
    assert json.loads(rep.stdout)["distance"] == pytest.approx(float(best["best_distance"]),
                                                               rel=1e-12, abs=1e-12)
    # same seed, same numbers
    again = run_cli_evolve(cli, tmp_path / "b")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "b" / "fitness.csv").read_bytes() == \
        (tmp_path / "a" / "fitness.csv").read_bytes()


def test_reinforce_and_compare_refuse_recurrent_policies(tmp_path, cli):
    assert_user_error(cli("reinforce", "walkers", "--set", "policy.recurrent=4", "--quiet",
                          "--out", str(tmp_path / "r")), "policy.recurrent", "evolution only")
    assert not (tmp_path / "r").exists()
    assert_user_error(cli("compare", "walkers", "--evolve-set", "policy.recurrent=4",
                          "--methods", "ga,ppo", "--budget-steps", "100", "--out",
                          str(tmp_path / "c")), "policy.recurrent=4", "ppo")
    from rl.policy import ActorCritic

    with pytest.raises(ValueError, match="recurrent"):
        ActorCritic(4, 2, False, PolicyConfig(recurrent=3), [8])


def test_a_gym_task_steps_a_recurrent_policy_like_a_plain_loop():
    pytest.importorskip("gymnasium", reason="the gym extra: pip install -e '.[gym]'")
    import gymnasium

    from evo.gym_config import GymConfig
    from evo.gym_task import GymTask, member_seed

    task = GymTask("CartPole-v1", GymConfig(max_steps=60, vectorize="loop"),
                   PolicyConfig(hidden=[4], recurrent=3), 3)
    net = task.network()
    assert net.recurrent
    params = np.random.default_rng(5).normal(0.0, 1.0, (3, net.num_params))
    got = task.evaluate_episodes(task.genomes(params), [7])[0]
    env = gymnasium.make("CartPole-v1")
    for i, theta in enumerate(params):  # one environment, the whole history each step
        one = net.clone()
        one.set_params(theta)
        obs, _ = env.reset(seed=member_seed(7, i))
        seen, ret = [], 0.0
        for _ in range(task.max_steps):
            seen.append(np.clip(np.asarray(obs, np.float64), -5, 5))
            out = one.forward(np.array(seen)[None])[0, -1]
            obs, r, term, trunc, _ = env.step(int(np.argmax(out)))
            ret += r
            if term or trunc:
                break
        assert got["fitness"][i] == pytest.approx(ret), i


def test_the_window_network_panel_reads_a_recurrent_policy():
    """nn.members.member_activations (no window needed): the recurrent layer shows its
    input weights and its response from a zero state."""
    from nn.members import member_activations

    net = make_policy(5, 2, PolicyConfig(hidden=[6], recurrent=3))
    theta = np.random.default_rng(6).normal(size=net.num_params)
    obs = np.random.default_rng(7).normal(size=5)
    weights, acts = member_activations(net, theta, obs)
    assert [w.shape for w in weights] == [(5, 6), (6, 3), (3, 2)]
    assert [len(a) for a in acts] == [5, 6, 3, 2]
    np.testing.assert_allclose(acts[-1], net.member_policy(theta[None])(obs[None])[0],
                               rtol=1e-12)
    one = net.clone()
    one.set_params(theta)
    np.testing.assert_array_equal(weights[1], one.layers[1].Wx)
