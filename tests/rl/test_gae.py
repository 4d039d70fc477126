"""Generalised advantage estimation (rl.gae) against numbers worked out by hand, against
discounted returns, and against a plain per-agent, per-episode reference on ragged,
interleaved rollouts."""

from __future__ import annotations

import numpy as np
import pytest

from rl.gae import discounted_returns, gae


def one_lane(rewards, values, end, boot, gamma, lam):
    """gae() of a single agent acting at every step (one sample a step)."""
    n = len(rewards)
    return gae(np.asarray(rewards, float), np.asarray(values, float),
               np.asarray(end, bool), np.asarray(boot, float), np.zeros(n, np.int64),
               np.arange(n + 1), 1, gamma, lam)


def test_hand_computed_episodes_of_one_agent():
    # gamma = 0.9, lam = 0.8, so gamma * lam = 0.72.  One agent, two episodes in a row:
    # a terminated 3-step one (nothing after it: bootstrap 0), then a 4-step one cut short
    # by a time limit, bootstrapped from the value 3.0 of the state it stopped in.
    rewards = [1.0, 1.0, 1.0, 1.0, 0.0, 2.0, 1.0]
    values = [0.2, 0.4, 0.6, 0.5, 1.0, 1.5, 2.0]
    end = [False, False, True, False, False, False, True]
    boot = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0]
    adv, ret = one_lane(rewards, values, end, boot, gamma=0.9, lam=0.8)
    # episode 1:  delta_2 = 1 + 0 - 0.6 = 0.4
    #             delta_1 = 1 + 0.9 * 0.6 - 0.4 = 1.14
    #             delta_0 = 1 + 0.9 * 0.4 - 0.2 = 1.16
    #   A_2 = 0.4, A_1 = 1.14 + 0.72 * 0.4 = 1.428, A_0 = 1.16 + 0.72 * 1.428 = 2.18816
    # episode 2:  delta_3 = 1 + 0.9 * 3.0 - 2.0 = 1.7   (the bootstrap value)
    #             delta_2 = 2 + 0.9 * 2.0 - 1.5 = 2.3
    #             delta_1 = 0 + 0.9 * 1.5 - 1.0 = 0.35
    #             delta_0 = 1 + 0.9 * 1.0 - 0.5 = 1.4
    #   A_3 = 1.7, A_2 = 2.3 + 0.72 * 1.7 = 3.524, A_1 = 0.35 + 0.72 * 3.524 = 2.88728,
    #   A_0 = 1.4 + 0.72 * 2.88728 = 3.4788416
    expected = [2.18816, 1.428, 0.4, 3.4788416, 2.88728, 3.524, 1.7]
    np.testing.assert_allclose(adv, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ret, np.add(expected, values), rtol=0, atol=1e-12)
    # nothing leaks across the episode boundary: the first episode alone gives the same
    a1, _ = one_lane(rewards[:3], values[:3], end[:3], boot[:3], 0.9, 0.8)
    np.testing.assert_allclose(a1, expected[:3], rtol=0, atol=1e-12)


def test_lam_zero_is_the_one_step_td_error():
    rewards, values = [1.0, -2.0, 0.5], [0.3, 0.7, -0.1]
    adv, _ = one_lane(rewards, values, [False, False, True], [0, 0, 4.0], 0.5, 0.0)
    # delta_t = r_t + 0.5 V(s_{t+1}) - V(s_t), the last one bootstrapped from 4.0
    np.testing.assert_allclose(adv, [1 + 0.35 - 0.3, -2 - 0.05 - 0.7, 0.5 + 2.0 + 0.1],
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("gamma", [0.99, 0.9, 1.0])
def test_lam_one_gives_discounted_returns(gamma):
    rng = np.random.default_rng(3)
    rewards = rng.normal(size=9)
    end = np.zeros(9, bool)
    end[-1] = True
    # zero values: the advantages are the discounted returns themselves
    adv, ret = one_lane(rewards, np.zeros(9), end, np.zeros(9), gamma, 1.0)
    by_hand = [sum(gamma ** k * r for k, r in enumerate(rewards[t:])) for t in range(9)]
    np.testing.assert_allclose(discounted_returns(rewards, gamma), by_hand, rtol=1e-12)
    np.testing.assert_allclose(adv, by_hand, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ret, by_hand, rtol=1e-12, atol=1e-12)
    # any values: the sum telescopes, the critic's targets are still the returns
    values = rng.normal(size=9)
    adv, ret = one_lane(rewards, values, end, np.zeros(9), gamma, 1.0)
    np.testing.assert_allclose(ret, by_hand, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(adv, np.subtract(by_hand, values), rtol=1e-10, atol=1e-12)


def reference_gae(rewards, values, end, boot, lane, n_lanes, gamma, lam):
    """Straightforward GAE: each agent's samples in order, cut into episodes, each episode
    walked backwards on its own."""
    adv = np.full(len(rewards), np.nan)
    for agent in range(n_lanes):
        mine = [i for i in range(len(rewards)) if lane[i] == agent]
        episodes, current = [], []
        for i in mine:
            current.append(i)
            if end[i]:
                episodes.append(current)
                current = []
        assert not current, "an agent's last sample ends its episode"
        for ep in episodes:
            a_next = 0.0
            for j in range(len(ep) - 1, -1, -1):
                i = ep[j]
                v_next = boot[i] if j == len(ep) - 1 else values[ep[j + 1]]
                delta = rewards[i] + gamma * v_next - values[i]
                a_next = delta + gamma * lam * a_next
                adv[i] = a_next
    return adv


def ragged_rollout(order_in_step):
    """Two agents (and an idle third) stepped together, as the collectors record them:
    agent 0 plays a 5-step episode that terminates, sits out one step (its environment
    resetting: a step with no sample at all), then plays 3 steps cut short by a time
    limit; agent 1 plays one 4-step episode that terminates and is done."""
    steps = []  # per step: the (agent, end, truncated) of the samples taken
    for t in range(9):
        row = []
        if t < 5:
            row.append((0, t == 4, False))
        elif t >= 6:
            row.append((0, t == 8, t == 8))
        if t < 4:
            row.append((1, t == 3, False))
        steps.append(order_in_step(row))
    lane = np.array([s[0] for row in steps for s in row], np.int64)
    end = np.array([s[1] for row in steps for s in row], bool)
    trunc = np.array([s[2] for row in steps for s in row], bool)
    starts = np.concatenate([[0], np.cumsum([len(row) for row in steps])])
    return lane, end, trunc, starts


@pytest.mark.parametrize("order", ["sorted", "reversed"])
@pytest.mark.parametrize("gamma,lam", [(0.9, 0.8), (0.99, 0.95), (0.97, 1.0)])
def test_ragged_lanes_match_a_per_agent_reference(order, gamma, lam):
    flip = (lambda row: row) if order == "sorted" else (lambda row: row[::-1])
    lane, end, trunc, starts = ragged_rollout(flip)
    assert len(starts) == 10 and starts[5] == starts[6]  # step 5: nobody acted
    assert lane.tolist().count(0) == 8 and lane.tolist().count(1) == 4
    rng = np.random.default_rng(11)
    m = len(lane)
    rewards, values = rng.normal(size=m), rng.normal(size=m)
    boot = np.where(trunc, rng.normal(size=m), 0.0)
    adv, ret = gae(rewards, values, end, boot, lane, starts, 3, gamma, lam)
    ref = reference_gae(rewards, values, end, boot, lane, 3, gamma, lam)
    np.testing.assert_allclose(adv, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ret, ref + values, rtol=1e-12, atol=1e-12)
    # the bootstrap value matters (and only where an episode was cut short)
    boot2 = boot + np.where(trunc, 1.0, 0.0)
    adv2, _ = gae(rewards, values, end, boot2, lane, starts, 3, gamma, lam)
    changed = np.flatnonzero(np.abs(adv2 - adv) > 1e-12)
    assert set(lane[changed]) == {0} and changed.size == 3  # agent 0's second episode
