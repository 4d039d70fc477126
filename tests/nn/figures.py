"""Checks of matplotlib figures as people see them: drawn with the Agg renderer (layout
done), then ticks, legends and texts measured in pixels."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg


def drawn(fig):
    """Draw ``fig`` (running its layout engine) and return the renderer."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def visible_xticks(ax) -> list[float]:
    lo, hi = sorted(ax.get_xlim())
    return [float(t) for t in ax.get_xticks() if lo <= t <= hi]


def shown_labels(axis):
    """The tick labels of ``axis`` (``ax.xaxis``, ``ax.yaxis``) at ticks within the view
    (matplotlib also keeps labels for ticks just outside it, which are not drawn)."""
    lo, hi = sorted(axis.get_view_interval())
    return [label for t, label in zip(axis.get_ticklocs(), axis.get_ticklabels())
            if lo <= t <= hi and label.get_visible() and label.get_text()]


def assert_integer_xticks(ax) -> list[int]:
    """Every tick shown on ``ax``'s x axis is a whole number, and labelled as one."""
    drawn(ax.figure)
    ticks = visible_xticks(ax)
    assert ticks, "no x ticks"
    assert all(t.is_integer() for t in ticks), ticks
    labels = [t.get_text() for t in shown_labels(ax.xaxis)]
    assert labels and all(s.lstrip("\u2212-").isdigit() for s in labels), labels
    return [int(t) for t in ticks]


def inside(box, outer, slack: float = 1.0) -> bool:
    return (box.x0 >= outer.x0 - slack and box.y0 >= outer.y0 - slack
            and box.x1 <= outer.x1 + slack and box.y1 <= outer.y1 + slack)


def assert_legends_clear(fig) -> None:
    """The figure has a legend, every legend lies wholly within the picture and none
    overlaps the data area of any axes."""
    renderer = drawn(fig)
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    assert legends, "no legend"
    for legend in legends:
        box = legend.get_window_extent(renderer)
        assert inside(box, fig.bbox), (box, fig.bbox)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), (box, ax)


def assert_texts_inside(fig) -> None:
    """Titles, axis labels and tick labels are wholly within the picture (nothing cut
    off at the edges)."""
    renderer = drawn(fig)
    for ax in fig.axes:
        texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *shown_labels(ax.xaxis),
                 *shown_labels(ax.yaxis)]
        for t in texts:
            if t.get_visible() and t.get_text():
                assert inside(t.get_window_extent(renderer), fig.bbox), t.get_text()
