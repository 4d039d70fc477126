"""Generalised advantage estimation (Schulman et al. 2016) over ragged, batched rollouts.

A rollout is a sequence of *steps*; step ``k`` holds the samples ``starts[k]:starts[k+1]``
(one per agent that acted then: agents that are done, or idle, leave no sample).  Sample
``i`` was taken by agent ``lane[i]``; ``end[i]`` says its episode ended with it, and then
``boot[i]`` is the value of the state it ended in (0 when the episode terminated; the
critic's value of the last observation when it was cut short by a time limit).  Every
agent's samples are in time order, so walking the steps backwards carries each agent's
next value and next advantage without padding.
"""

from __future__ import annotations

import numpy as np


def gae(rewards: np.ndarray, values: np.ndarray, end: np.ndarray, boot: np.ndarray,
        lane: np.ndarray, starts: np.ndarray, n_lanes: int, gamma: float,
        lam: float) -> tuple[np.ndarray, np.ndarray]:
    """``(advantages, returns)`` of every sample:

        delta_t = r_t + gamma * V(s_{t+1}) - V(s_t)
        A_t = delta_t + gamma * lam * A_{t+1}

    with ``V(s_{t+1})`` = ``boot`` and ``A_{t+1}`` = 0 where the episode ended at ``t``;
    returns = advantages + values (the critic's targets).  An agent's last sample must end
    its episode (nothing is bootstrapped past the rollout)."""
    adv = np.zeros(len(rewards))
    next_v = np.zeros(n_lanes)
    next_a = np.zeros(n_lanes)
    for k in range(len(starts) - 2, -1, -1):
        s = slice(int(starts[k]), int(starts[k + 1]))
        i = lane[s]
        e = end[s]
        nv = np.where(e, boot[s], next_v[i])
        na = np.where(e, 0.0, next_a[i])
        a = rewards[s] + gamma * nv - values[s] + gamma * lam * na
        adv[s] = a
        next_a[i] = a
        next_v[i] = values[s]
    return adv, adv + values


def discounted_returns(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """``G_t = sum_k gamma^k r_{t+k}`` of one episode (a reference for tests and the
    REINFORCE variant's meaning: GAE with ``lam = 1`` and zero values gives these)."""
    out = np.zeros(len(rewards))
    g = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        g = rewards[t] + gamma * g
        out[t] = g
    return out


def running_returns(rewards: np.ndarray, end: np.ndarray, lane: np.ndarray,
                    starts: np.ndarray, n_lanes: int, gamma: float) -> np.ndarray:
    """The discounted return so far of every sample, ``g_t = gamma * g_{t-1} + r_t`` from 0
    at each episode's start (laid out as for :func:`gae`): what reward normalisation
    (Gymnasium's ``NormalizeReward``, SB3's ``VecNormalize``) takes the variance of."""
    out = np.zeros(len(rewards))
    g = np.zeros(n_lanes)
    for k in range(len(starts) - 1):
        s = slice(int(starts[k]), int(starts[k + 1]))
        i = lane[s]
        v = g[i] * gamma + rewards[s]
        out[s] = v
        g[i] = np.where(end[s], 0.0, v)
    return out
