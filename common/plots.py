"""Figure helpers every package's pictures share (matplotlib's object-oriented API on the
Agg canvas: no pyplot, no global state, no display).  matplotlib is imported inside the
functions, so importing this module stays light; the pictures themselves live with what
they show (``nn.plots``, ``nn.report``, ``evo.run``, ``compare.figures``, ``rl.run``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from common.files import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 110) -> None:
    """``fig`` as a PNG at ``path``, written atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi))


def integer_ticks(*axes) -> None:
    """Whole-number ticks on the x axes of ``axes`` (epochs, generations): never a tick at
    generation 2.5, however few there are."""
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        # min_n_ticks=1: a single generation still gets its one whole-number tick
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10],
                                               min_n_ticks=1))


def legend_outside(fig: Figure, ax=None, loc: str = "outside right upper") -> None:
    """One legend for the whole figure, outside the axes on the right, so that it never
    covers a line.  ``fig`` must use the constrained layout (``Figure(layout=
    "constrained")``), which makes room for it.  The entries are ``ax``'s (default: the
    first axes'); figures whose axes share their labels need only one legend.  ``loc``:
    "outside right center" for a figure with a ``suptitle``, which the upper corner would
    cover."""
    ax = ax if ax is not None else fig.axes[0]
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc=loc)
