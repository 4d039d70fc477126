"""What PPO needs to walk (rl): observation normalisation (running statistics, folded into
best.npz), reward normalisation by the running std of the discounted return, the walker
fitness's fall penalty and alive bonus as rewards, several terrains a round, and best.npz
chosen by a greedy evaluation that ``neuroevo replay`` repeats exactly.  Determinism and
resume with all of it: tests/rl/test_run.py (kind ``walkers-pg``)."""

from __future__ import annotations

import numpy as np
import pytest

from common.config import ConfigError, build
from nn.io import load_model
from rl.config import ReinforceConfig
from rl.gae import running_returns
from rl.policy import fold_obs_norm
from rl.run import ReinforceRun
from tests.rl.test_run import cli_json, small_cfg


class Capture:
    """Wraps a run's collector: keeps every batch as collected (rewards before any
    normalisation) with the normalisation it was collected with."""

    def __init__(self, run):
        self.collect = run.collector.collect
        self.batches, self.norms, self.rewards = [], [], []
        run.collector.collect = self

    def __call__(self, ac, want, seed, it, rng, norm=None, player=None):
        batch = self.collect(ac, want, seed, it, rng, norm, player)
        self.batches.append(batch)
        self.norms.append(norm)
        self.rewards.append(batch.rewards.copy())
        return batch


def episodes_of(batch):
    """Each episode's sample indices in time order."""
    out = []
    for lane in range(batch.n_lanes):
        mine = np.flatnonzero(batch.lane == lane)
        if len(mine):
            out.extend(np.split(mine, np.flatnonzero(batch.end[mine])[:-1] + 1))
    return out


def test_observation_statistics_are_numpys_mean_and_variance():
    run = ReinforceRun(small_cfg("walkers-pg"), None)
    cap = Capture(run)
    run.step()
    run.step()
    first, second = cap.batches
    mean0, scale0, clip0 = cap.norms[0]
    assert clip0 == 0.0 and (mean0 == 0).all() and (scale0 == 1).all()
    mean1, scale1, _ = cap.norms[1]
    # the first iteration saw raw observations; the normaliser then holds their moments
    np.testing.assert_allclose(mean1, first.obs.mean(axis=0), rtol=1e-10, atol=1e-12)
    std = first.obs.std(axis=0)
    live = std > 1e-6
    assert live.sum() >= first.obs.shape[1] - 3
    np.testing.assert_allclose(scale1[live], 1.0 / std[live], rtol=1e-8)
    assert (scale1[~live] == 0).all()
    # the second saw (raw - mean) * scale; after it the normaliser has both iterations
    raw = np.concatenate([first.obs[:, live], second.obs[:, live] / scale1[live] + mean1[live]])
    np.testing.assert_allclose(run.norm.mean[live], raw.mean(axis=0), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(run.norm.m2[live] / run.norm.count, raw.var(axis=0),
                               rtol=1e-7, atol=1e-10)
    assert run.norm.count == first.steps + second.steps


def test_rewards_are_divided_by_the_running_std_of_the_discounted_return():
    cfg = small_cfg("walkers-pg")
    run = ReinforceRun(cfg, None)
    cap = Capture(run)
    run.step()
    run.step()
    returns = []
    for batch, raw in zip(cap.batches, cap.rewards):
        g = np.empty(batch.steps)
        for ep in episodes_of(batch):  # g_t = gamma g_{t-1} + r_t, by hand
            acc = 0.0
            for i in ep:
                acc = cfg.pg.gamma * acc + raw[i]
                g[i] = acc
        np.testing.assert_allclose(running_returns(raw, batch.end, batch.lane, batch.starts,
                                                   batch.n_lanes, cfg.pg.gamma), g,
                                   rtol=1e-12, atol=1e-12)
        returns.append(g)
        var = np.var(np.concatenate(returns))  # this batch's included
        np.testing.assert_allclose(batch.rewards, raw / np.sqrt(var + 1e-8), rtol=1e-9)
    assert run.ret_norm.count == sum(len(g) for g in returns)


def test_walker_returns_are_the_evolution_fitness():
    cfg = small_cfg("walkers-pg", pg__init_log_std=-2.0)  # some fall within 2 s, some not
    run = ReinforceRun(cfg, None)
    from rl.run import rng_for

    batch = run.collector.collect(run.ac, 500, cfg.seed, 0, rng_for(0, 0, 6))
    eps = batch.episodes
    fitness = eps["distance"] - 5.0 * eps["fallen"] + 0.5 * eps["time_alive"]
    np.testing.assert_allclose(eps["fitness"], fitness, rtol=1e-12, atol=1e-12)
    # a fall costs its penalty on the step it happens, every step up earns the bonus
    np.testing.assert_allclose(np.sort(eps["return"]), np.sort(fitness), rtol=1e-9,
                               atol=1e-9)
    assert eps["fallen"].any() and not eps["fallen"].all()
    for ep in episodes_of(batch):
        assert batch.end[ep[-1]] and not batch.end[ep[:-1]].any()
    # two worlds a round (2 walkers in each), on both training terrains
    assert run.collector.n == 4 and len(eps["return"]) % 4 == 0
    assert {v for _, v in run.collector._worlds} == set(cfg.walkers.terrains)


def test_folded_normalisation_gives_the_same_actions():
    cfg = small_cfg("walkers-pg")
    run = ReinforceRun(cfg, None)
    rng = np.random.default_rng(3)
    n = run.ac.obs_dim
    mean, scale = rng.normal(size=n), rng.uniform(0.2, 3.0, n)
    scale[1] = 0.0  # a constant observation: the policy sees 0
    x = rng.normal(size=(50, n)) * 2
    params = run.ac.actor.get_params()
    want = run.ac.policy_network(params).forward((x - mean) * scale)
    net = run.ac.policy_network(params)
    fold_obs_norm(net, mean, scale)
    np.testing.assert_allclose(net.forward(x), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(run.greedy_params(params, mean, scale), net.get_params())


def test_best_replays_as_it_was_evaluated(tmp_path, capsys):
    cfg = small_cfg("walkers-pg")
    run = ReinforceRun(cfg, tmp_path)
    assert run.run() == "completed"
    net, meta = load_model(tmp_path / "best.npz")
    assert meta["fitness"] == run.best_score
    assert run.best_score == max(r["greedy_fitness"] for r in run.rows)
    # evaluation episode i walks terrain i (seed % 2); replay walks it alone from seed 0
    fits = []
    for terrain in cfg.walkers.terrains:
        got = cli_json(capsys, "replay", str(tmp_path / "best.npz"), "--json", "--headless",
                       "--terrain", terrain)
        fits.append(got["distance"] - 5.0 * got["fallen"] + 0.5 * got["time"])
    assert float(np.mean(fits)) == meta["fitness"]
    np.testing.assert_array_equal(net.theta, run.best_theta)


def test_evaluations_every_n_iterations_and_the_last():
    run = ReinforceRun(small_cfg("walkers-pg", pg__eval_every=2), None)
    while run.env_steps < run.cfg.total_steps:
        run.step()
    n = len(run.rows)
    assert n >= 3
    evaluated = [i + 1 for i, r in enumerate(run.rows) if not np.isnan(r["greedy_fitness"])]
    assert evaluated == sorted({*range(2, n + 1, 2), n})
    assert run.best_score == max(run.rows[i - 1]["greedy_fitness"] for i in evaluated)


@pytest.mark.parametrize("task, key, value, says", [
    ("gym:CartPole-v1", "obs_norm", True, "gym.obs_norm"),
    ("cars", "worlds", 2, "applies to walkers"),
    ("gym:CartPole-v1", "eval_episodes", 2, "applies to cars and walkers"),
    ("walkers", "eval_episodes", -1, ">= 0"),
    ("walkers", "worlds", 0, ">= 1"),
])
def test_bad_options_are_one_line_errors(task, key, value, says):
    raw = {"task": task, "pg": {key: value}}
    with pytest.raises(ConfigError, match=f"pg.{key}") as e:
        build(ReinforceConfig, raw, "test: ")
    assert says in str(e.value) and "\n" not in str(e.value)
