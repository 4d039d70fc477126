"""The figure helpers every package shares: whole-number ticks, a legend beside the lines,
PNGs written atomically, and no matplotlib until a figure is asked for."""

import subprocess
import sys

import pytest

from common.plots import integer_ticks, legend_outside, save_figure
from tests.conftest import REPO
from tests.nn.figures import assert_integer_xticks, assert_legends_clear, drawn


def line_figure(n):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.subplots()
    xs = list(range(1, n + 1))
    ax.plot(xs, [x * x for x in xs], "o-", label="best")
    ax.plot(xs, xs, "--", label="mean")
    return fig, ax


@pytest.mark.parametrize("n", [1, 2, 3, 40])
def test_integer_ticks_are_whole_numbers_even_for_one_generation(n):
    fig, ax = line_figure(n)
    integer_ticks(ax)
    drawn(fig)
    ticks = assert_integer_xticks(ax)
    assert ticks and all(float(t).is_integer() for t in ticks)
    if n <= 3:
        assert ticks == list(range(1, n + 1))


def test_the_legend_sits_outside_the_axes_with_the_axes_labels():
    fig, ax = line_figure(5)
    legend_outside(fig, ax)
    drawn(fig)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["best", "mean"]
    assert not ax.get_legend()  # the figure's legend, not one inside the axes
    assert_legends_clear(fig)


def test_save_figure_writes_a_png_and_leaves_no_temporary_file(tmp_path):
    fig, _ = line_figure(3)
    save_figure(fig, tmp_path / "sub" / "fitness.png")
    assert (tmp_path / "sub" / "fitness.png").read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["fitness.png"]


def test_importing_common_plots_does_not_load_matplotlib():
    code = "import sys, common.plots; sys.exit(1 if 'matplotlib' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
