"""An independent reference for gym policies: one greedy CartPole episode in a plain loop."""

import numpy as np


def greedy_episode(env, net, mean, scale, seed: int, clip: float = 5.0) -> float:
    """The return of ``net`` (logits out, argmax acts) on ``env`` reset with ``seed``, its
    observations normalised as ``clip((obs - mean) * scale)``."""
    obs, _ = env.reset(seed=seed)
    ret, done = 0.0, False
    while not done:
        x = np.clip((np.asarray(obs, np.float64) - mean) * scale, -clip, clip)
        obs, r, term, trunc, _ = env.step(int(np.argmax(net.forward(x[None, :])[0])))
        ret += r
        done = term or trunc
    return ret
