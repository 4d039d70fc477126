"""Pictures of training: learning curves and 2-D decision boundaries (matplotlib, Agg).

Uses the object-oriented API (``Figure`` + Agg canvas): no pyplot, no global state, no
display needed.  The helpers every package's figures share are :mod:`common.plots`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from common.plots import integer_ticks, legend_outside, save_figure


def curves_figure(history: list[dict], title: str = "") -> Figure:
    """Train vs validation loss and accuracy per epoch (epochs count from 1)."""
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = [r["epoch"] for r in history]
    for key, ax, label in (("loss", ax_loss, "loss"), ("accuracy", ax_acc, "accuracy")):
        ax.plot(epochs, [r[f"train_{key}"] for r in history], "o-", ms=3, label="train")
        val = [r[f"val_{key}"] for r in history]
        if not all(math.isnan(v) for v in val):
            ax.plot(epochs, val, "s-", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    integer_ticks(ax_loss, ax_acc)
    # beside the plots' middle: the upper corner would cover the end of a long title
    legend_outside(fig, ax_loss, "outside right center")
    if title:
        fig.suptitle(title)
    return fig


def plot_curves(history: list[dict], path: str | Path, title: str = "") -> None:
    """``curves.png``: :func:`curves_figure`."""
    save_figure(curves_figure(history, title), path)


def plot_boundary(net, x: np.ndarray, y: np.ndarray, label_names: list[str], path: str | Path,
                  feature_names: tuple[str, str] = ("x0", "x1"), title: str = "",
                  resolution: int = 200) -> None:
    """Colour the plane by the network's predicted class and overlay the labelled points."""
    lo = np.minimum(x.min(axis=0), 0.0)
    hi = np.maximum(x.max(axis=0), 1.0)
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    pred = net.predict(grid).reshape(gx.shape)
    fig = Figure(figsize=(5.2, 5))
    ax = fig.subplots()
    cmap = "coolwarm"
    ax.contourf(gx, gy, pred, levels=np.arange(net.n_outputs + 1) - 0.5, cmap=cmap, alpha=0.35)
    for k, name in enumerate(label_names):
        sel = y == k
        ax.scatter(x[sel, 0], x[sel, 1], s=12, label=name, edgecolors="k", linewidths=0.3,
                   c=[k / max(1, len(label_names) - 1)] * int(sel.sum()), cmap=cmap,
                   vmin=0, vmax=1)
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.legend(loc="upper right")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, path)
