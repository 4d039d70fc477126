"""One policy-gradient update from a batch: PPO (clipped surrogate, GAE, minibatch epochs)
or REINFORCE with a baseline (Monte-Carlo returns, one step on the whole batch)."""

from __future__ import annotations

import numpy as np

from nn.optim import Adam
from rl.collect import Batch
from rl.config import PGConfig
from rl.gae import gae
from rl.policy import ActorCritic

STATS = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_frac")


def make_optimizer(cfg: PGConfig) -> Adam:
    return Adam(lr=cfg.lr, eps=1e-5)


def update(ac: ActorCritic, opt: Adam, batch: Batch, cfg: PGConfig,
           rng: np.random.Generator) -> dict[str, float]:
    """Learn from ``batch``; returns the mean of each of :data:`STATS` over the gradient
    steps taken and ``explained_variance`` of the critic before the update."""
    reinforce = cfg.algorithm == "reinforce"
    adv, ret = gae(batch.rewards, batch.values, batch.end, batch.boot, batch.lane,
                   batch.starts, batch.n_lanes, cfg.gamma, 1.0 if reinforce else cfg.lam)
    m = batch.steps
    size = m if reinforce else min(cfg.minibatch, m)
    epochs = 1 if reinforce else cfg.epochs
    sums = dict.fromkeys(STATS, 0.0)
    n_steps = 0
    for _ in range(epochs):
        perm = rng.permutation(m)
        kls = []
        for lo in range(0, m, size):
            idx = perm[lo:lo + size]
            a = adv[idx]
            if cfg.normalize_advantages and len(a) > 1:
                a = (a - a.mean()) / (a.std() + 1e-8)
            stats = ac.loss_and_grad(batch.obs[idx], batch.actions[idx], batch.logp[idx], a,
                                     ret[idx], clip=cfg.clip, ent_coef=cfg.ent_coef,
                                     vf_coef=cfg.vf_coef, algorithm=cfg.algorithm)
            ac.clip_grad(cfg.max_grad_norm)
            opt.step(ac.theta, ac.grad)
            for k in STATS:
                sums[k] += stats[k]
            kls.append(stats["approx_kl"])
            n_steps += 1
        if cfg.target_kl > 0 and np.mean(kls) > 1.5 * cfg.target_kl:
            break
    out = {k: v / max(n_steps, 1) for k, v in sums.items()}
    var = float(np.var(ret))
    out["explained_variance"] = float(1.0 - np.var(ret - batch.values) / var) if var > 0 \
        else float("nan")
    out["gradient_steps"] = n_steps
    return out
