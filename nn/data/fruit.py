"""The "poisonous fruit" toy set from the original video.

Each fruit has two features, spot size and spike length (both in [0, 1]); the label says
whether it is safe (0) or poisonous (1).  ``fruit`` has a straight decision boundary,
``fruit-curved`` a wavy one.  Generated from a seed; no files involved.
"""

from __future__ import annotations

import numpy as np

from nn.data.dataset import Dataset


def boundary(spot: np.ndarray, curved: bool) -> np.ndarray:
    """Spike length at which a fruit of the given spot size turns poisonous."""
    if curved:
        return 0.5 + 0.22 * np.sin(2.0 * np.pi * spot + 0.4)
    return 0.85 - 0.7 * spot


def label(points: np.ndarray, curved: bool) -> np.ndarray:
    """1 (poisonous) where the spike length lies above the boundary."""
    return (points[:, 1] > boundary(points[:, 0], curved)).astype(np.int64)


def load_fruit(curved: bool = False, seed: int = 0, n_train: int = 800, n_test: int = 400,
               margin: float = 0.0) -> Dataset:
    """Draw ``n_train + n_test`` fruits uniformly from the unit square.

    ``margin`` removes points closer than that (vertically) to the boundary, for an
    easier set.
    """
    if n_train < 1 or n_test < 1:
        raise ValueError("n_train and n_test must be >= 1")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7_100_001]))
    need = n_train + n_test
    pts = np.empty((0, 2))
    while len(pts) < need:
        cand = rng.random((2 * need, 2))
        if margin > 0:
            cand = cand[np.abs(cand[:, 1] - boundary(cand[:, 0], curved)) >= margin]
        pts = np.concatenate([pts, cand])
    pts = pts[:need].astype(np.float32)
    y = label(pts, curved)
    name = "fruit-curved" if curved else "fruit"
    return Dataset(name=name, x_train=pts[:n_train], y_train=y[:n_train],
                   x_test=pts[n_train:], y_test=y[n_train:], label_names=["safe", "poisonous"],
                   input_shape=(2,),
                   preprocessing={"features": ["spot size", "spike length"], "scale": "0-1"})
