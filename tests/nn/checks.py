"""Helpers shared by the nn tests: finite-difference gradients and model-file surgery."""

from __future__ import annotations

import json

import numpy as np


def numeric_grad(f, theta, eps=1e-6):
    """Central finite differences of the scalar ``f()`` with respect to ``theta`` (changed
    in place one entry at a time, then restored)."""
    g = np.zeros_like(theta)
    for i in range(theta.size):
        old = theta[i]
        theta[i] = old + eps
        hi = f()
        theta[i] = old - eps
        lo = f()
        theta[i] = old
        g[i] = (hi - lo) / (2 * eps)
    return g


def rewrite(path, theta=None, meta=None):
    """Rewrite a model file with another ``theta`` and/or metadata entries, as a damaged or
    foreign file would be (plain ``np.savez``, not the project's writer)."""
    with np.load(path, allow_pickle=False) as z:
        t, m = z["theta"], json.loads(str(z["meta"]))
    if meta:
        m.update(meta)
    np.savez(path, theta=t if theta is None else theta, meta=np.array(json.dumps(m)))
