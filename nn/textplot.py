"""A 2-D decision map drawn with characters, for terminals without a display."""

from __future__ import annotations

import numpy as np

REGION = " .:-=+"  # background per predicted class (cycled)
POINT = "ox*#@%"  # marker per true class (cycled); capital when misclassified


def decision_map(net, x: np.ndarray, y: np.ndarray, width: int = 64, height: int = 22,
                 lo=(0.0, 0.0), hi=(1.0, 1.0)) -> str:
    """Rows of text: the plane coloured by the network's class, with the points on top.

    A point shows its true class's marker (``o``, ``x``...), upper-cased where the
    network gets it wrong.
    """
    cx = lo[0] + (np.arange(width) + 0.5) / width * (hi[0] - lo[0])
    cy = hi[1] - (np.arange(height) + 0.5) / height * (hi[1] - lo[1])  # top row = high y
    gx, gy = np.meshgrid(cx, cy)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    pred = net.predict(grid).reshape(height, width)
    chars = np.array([REGION[k % len(REGION)] for k in range(net.n_outputs)])[pred]
    point_pred = net.predict(x)
    col = np.clip(((x[:, 0] - lo[0]) / (hi[0] - lo[0]) * width).astype(int), 0, width - 1)
    row = np.clip(((hi[1] - x[:, 1]) / (hi[1] - lo[1]) * height).astype(int), 0, height - 1)
    for r, c, t, p in zip(row, col, y, point_pred):
        m = POINT[t % len(POINT)]
        chars[r, c] = m.upper() if p != t else m
    border = "+" + "-" * width + "+"
    return "\n".join([border, *("|" + "".join(line) + "|" for line in chars), border])
