"""NEAT's picture: species sizes over generations, a stacked area plot (``species.png``)."""

from __future__ import annotations

import numpy as np


def species_figure(history, title: str = ""):
    """``history``: rows ``(generation, species id, size)`` (:attr:`NEAT.history`); one
    band per species, stacked in order of founding, so a band that thins out and ends is a
    species that shrank and died."""
    from matplotlib.figure import Figure

    from common.plots import integer_ticks

    h = np.asarray(history, np.int64).reshape(-1, 3)
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    if len(h):
        gens = np.unique(h[:, 0])
        keys = np.unique(h[:, 1])
        sizes = np.zeros((len(keys), len(gens)))
        sizes[np.searchsorted(keys, h[:, 1]), np.searchsorted(gens, h[:, 0])] = h[:, 2]
        ax.stackplot(gens, sizes, linewidth=0.3, edgecolor="white")
        ax.set_xlim(gens[0], gens[-1] if len(gens) > 1 else gens[0] + 1)
        ax.set_ylim(0, sizes.sum(axis=0).max())
    ax.set_xlabel("generation")
    ax.set_ylabel("genomes per species")
    ax.set_title(title or "species sizes")
    integer_ticks(ax)
    return fig
