"""The pictures of ``neuroevo compare`` (``compare.png``): test accuracy of the
classification methods; the best score so far of the control methods."""

from __future__ import annotations

import numpy as np


def _on_grid(xs, ys, grid):
    """Step interpolation: the value reached by each grid point (NaN before the first)."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    idx = np.searchsorted(xs, grid, side="right") - 1
    return np.where(idx >= 0, ys[np.clip(idx, 0, len(ys) - 1)], np.nan)


def classification_figure(results, title):
    """Test accuracy against training seconds and against sample evaluations (mean over
    seeds, the band from the worst to the best seed); one legend, right of the axes."""
    from matplotlib.figure import Figure

    from common.plots import legend_outside

    fig = Figure(figsize=(12, 4.2), layout="constrained")
    ax_t, ax_e = fig.subplots(1, 2)
    for m, runs in results.items():
        for ax, key in ((ax_t, "seconds"), (ax_e, "evaluations")):
            top = max(r["curve"][key][-1] for r in runs)
            first = min(r["curve"][key][1] for r in runs)  # [0] is the untrained network
            grid = np.geomspace(max(first, 1e-3 if key == "seconds" else 1), top, 200)
            ys = np.array([_on_grid(r["curve"][key], r["curve"]["accuracy"], grid)
                           for r in runs])
            mean = np.nanmean(ys, axis=0)
            line, = ax.plot(grid, mean, label=m)
            ax.fill_between(grid, np.nanmin(ys, axis=0), np.nanmax(ys, axis=0),
                            color=line.get_color(), alpha=0.2)
    ax_t.set_xlabel("training seconds")
    ax_e.set_xlabel("sample evaluations (forward passes)")
    for ax in (ax_t, ax_e):
        ax.set_xscale("log")
        ax.set_ylabel("test accuracy")
        ax.grid(alpha=0.3)
    legend_outside(fig, ax_t)
    fig.suptitle(title)
    return fig


def plot_classification(results, path, title):
    from common.plots import save_figure

    save_figure(classification_figure(results, title), path)


def control_figure(task, results, title):
    """The best score so far against seconds and against agent-steps (environment steps), a
    line per method and seed; for cars a second row with the best driver's lap time.  One
    legend, right of the axes."""
    from matplotlib.figure import Figure

    from common.plots import legend_outside
    from evo.tasks import task_class

    cls = task_class(task)
    cars = cls.laps  # a second row: lap times
    fig = Figure(figsize=(12, 7.5 if cars else 4.2), layout="constrained")
    axes = fig.subplots(2 if cars else 1, 2, squeeze=False)
    rows = [("best", cls.best_label)]
    if cars:
        rows.append(("lap_time", "its lap time (s)"))
    for m, runs in results.items():
        color = None
        for i, r in enumerate(runs):
            c = r["curve"]
            kw = {"label": m} if i == 0 else {}
            for (key, _), (ax_s, ax_n) in zip(rows, axes):
                if key not in c:
                    continue
                line, = ax_s.plot(c["seconds"], c[key], ".-", ms=3, color=color, alpha=0.8,
                                  **kw)
                color = line.get_color()
                ax_n.plot(c["steps"], c[key], ".-", ms=3, color=color, alpha=0.8)
                kw = {}
    for (key, label), row in zip(rows, axes):
        for ax, top, xlabel in zip(row, axes[0], ("seconds", "agent-steps (environment steps)")):
            ax.set_xlabel(xlabel)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            if key == "lap_time" and not _any_finite(results, key):
                # no best driver finished a lap: say so, as the window does, rather than
                # draw an empty panel with a made-up scale; the time axis is the one above
                ax.set_yticks([])
                ax.set_xlim(top.get_xlim())
                ax.text(0.5, 0.5, "no lap", transform=ax.transAxes, ha="center",
                        va="center", fontsize=14, color="0.4")
    legend_outside(fig, axes[0][0])
    fig.suptitle(title)
    return fig


def _any_finite(results, key: str) -> bool:
    """Whether any run's curve has a finite ``key`` value (cars' lap time: a lap driven)."""
    return any(np.isfinite(np.asarray(r["curve"].get(key, []), float)).any()
               for runs in results.values() for r in runs)


def plot_control(task, results, path, title):
    from common.plots import save_figure

    save_figure(control_figure(task, results, title), path)

