"""The apps' text: nothing cut, nothing overlapping, every glyph drawn, a label and its bar
showing one rounded value, one bar per class (with a legend).  Real windows, pixels read
back (see tests/gui.py)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.sims.textcheck import assert_glyph_drawn, ink, inside, overlapping, text_box

LEFT = 1  # pyglet.window.mouse.LEFT
DOODLES = ["cat", "bicycle", "house", "tree", "umbrella", "airplane", "clock", "fish", "star",
           "eyeglasses"]


def app_labels(app) -> list:
    """The pyglet labels of every text widget the app holds (in lists, rows, buttons...)."""
    import types

    from nn.apps import widgets

    found, seen = [], set()

    def walk(obj, depth=0):
        if id(obj) in seen or depth > 4 or isinstance(obj, types.ModuleType):
            return
        seen.add(id(obj))
        if isinstance(obj, widgets.Text):
            found.append(obj.label)
        elif isinstance(obj, (list, tuple)):
            for o in obj:
                walk(o, depth + 1)
        elif isinstance(obj, dict):
            for o in obj.values():
                walk(o, depth + 1)
        elif type(obj).__module__ == widgets.__name__:
            walk(vars(obj), depth + 1)

    walk(vars(app))
    return [lb for lb in found if lb.rotation == 0]


def assert_text_fits(app) -> list:
    """Every text wholly inside the window, no two overlapping; returns the labels."""
    labels = app_labels(app)
    assert labels
    w, h = app.size
    cut = [lb.text for lb in labels if lb.text and not inside(lb, (0, 0, w, h))]
    assert not cut, cut
    assert not overlapping(labels)
    return labels


def stroke(app, points):
    from nn.apps.draw import CANVAS_SIZE

    def win(p):
        return app.cx + p[0], app.cy + CANVAS_SIZE - p[1]

    app.window.dispatch_event("on_mouse_press", *win(points[0]), LEFT, 0)
    for p in points[1:]:
        app.window.dispatch_event("on_mouse_drag", *win(p), 0, 0, LEFT, 0)
    app.window.dispatch_event("on_mouse_release", *win(points[-1]), LEFT, 0)
    app.step()


def constant_net(n_out: int, favourite: int, logit: float):
    """A network that ignores its input: softmax of a bias vector."""
    from nn.network import Network

    net = Network([784, n_out], ["softmax"], rng=np.random.default_rng(0))
    net.theta[:] = 0.0
    net.layers[0].b[favourite] = logit
    return net


@pytest.fixture
def apps(gui):  # noqa: ARG001 - the display
    made = []
    yield made
    for app in made:
        app.close()


# -- playground ----------------------------------------------------------------------------
def test_the_playground_header_is_not_cut(apps):
    """``neuroevo playground --hidden 16 --activation sigmoid`` showed "... 82 paramete"."""
    from nn.apps.playground import Playground, PlaygroundApp

    app = PlaygroundApp(Playground(hidden=16, activation="sigmoid"))
    apps.append(app)
    app.step()
    header = app.net_text.label
    assert header.text == "network 2-16-2: 16 sigmoid hidden neurons, 82 parameters"
    w, h = app.size
    assert header.content_width <= w - app.rx - 16  # fits its panel, margin kept
    px = app.pixels()[::-1]  # row 0 at the bottom
    left, bottom, right, top = (int(v) for v in text_box(header))
    rows = ink(px[bottom:top], app.background)
    cols = np.flatnonzero(rows.any(axis=0))
    assert cols.min() >= left - 1 and cols.max() < w - 16  # the ink ends inside the panel
    assert cols.max() >= right - 3  # ...where the whole text ends
    assert_text_fits(app)


# -- draw ----------------------------------------------------------------------------------
def test_the_doodle_window_has_no_overlapping_text(apps):
    """"network input (Quick, Draw! strokes)" ran into "the network's guesses"."""
    from nn.apps.draw import DrawApp

    meta = {"dataset": "doodles", "input_shape": [28, 28, 1], "label_names": DOODLES}
    app = DrawApp(constant_net(10, 3, 2.0), meta, "doodles.npz")
    apps.append(app)
    assert app.spec.style == "doodle"
    app.step()
    stroke(app, [(100, 100), (200, 250), (250, 120)])
    labels = assert_text_fits(app)
    texts = [lb.text for lb in labels]
    assert "the network's guesses" in texts and "Quick, Draw! strokes" in " ".join(texts)
    # ...and on screen: no caption ink in the guesses' column, left of its header
    guesses = next(lb for lb in labels if lb.text == "the network's guesses")
    caption = app.preview_caption.label
    assert caption.left + caption.content_width < guesses.left
    px = app.pixels()[::-1]
    _, bottom, _, top = (int(v) for v in text_box(caption))
    between = ink(px[bottom:top, int(caption.left + caption.content_width) + 2:
                     int(guesses.left) - 1], app.background)
    assert not between.any()


@pytest.mark.parametrize("logit,expected", [(9.4, "99.9%"), (40.0, "100.0%"), (2.0, None)])
def test_the_verdict_and_its_bar_show_one_rounded_value(apps, logit, expected):
    """The big label said 100% while its bar said 99.9%."""
    from nn.apps.draw import DrawApp

    meta = {"dataset": "doodles", "input_shape": [28, 28, 1], "label_names": DOODLES}
    app = DrawApp(constant_net(10, 3, logit), meta, "doodles.npz")
    apps.append(app)
    stroke(app, [(100, 100), (200, 250)])
    p = float(app.scores.max())
    top = app.rows.values[0].text.strip()
    assert app.verdict.text == f"tree  {top}"  # the same text as the bar's
    assert top == f"{app.rows.fractions[0] * 100:.1f}%"  # the bar is that long
    if expected:
        assert top == expected
    assert abs(app.rows.fractions[0] - p) <= 0.0005 + 1e-9 or (p < 1 and top == "99.9%")
    if p < 1:
        assert top != "100.0%" and "100%" not in app.verdict.text
    for name, value, fraction in zip(app.rows.names, app.rows.values, app.rows.fractions):
        assert value.text.strip() == f"{fraction * 100:.1f}%", name.text
    assert app.verdict_note.text.endswith(app.rows.values[1].text.strip())


def test_a_two_class_model_with_ten_names_gets_two_rows(apps):
    from nn.apps.draw import DrawApp

    meta = {"dataset": "mnist", "input_shape": [28, 28, 1],
            "label_names": [str(d) for d in range(10)]}
    app = DrawApp(constant_net(2, 1, 1.0), meta, "two.npz")
    apps.append(app)
    stroke(app, [(100, 100), (200, 250)])
    assert len(app.rows) == 2 and [n.text for n in app.rows.names] == ["1", "0"]
    assert_text_fits(app)


# -- browse --------------------------------------------------------------------------------
def bar_runs(px, x: int, y0: int, y1: int, background) -> int:
    """Separate runs of non-background pixels up column ``x`` from ``y0`` to ``y1``."""
    col = ink(px[y0:y1, x:x + 1], background, threshold=20)[:, 0].astype(int)
    return int((np.diff(np.concatenate([[0], col])) == 1).sum())


@pytest.fixture
def two_class_browser(apps, bars_model, make_bars):
    from nn.apps.browse import BrowseApp, BrowseState
    from nn.apps.preprocess import class_scores

    net, meta = bars_model
    x, y = make_bars(60, np.random.default_rng(5))
    scores, _ = class_scores(net, x)
    scores[0] = [0.9996, 0.0004]  # confident: 99.96% must not read 100.0%
    y[0] = 0
    state = BrowseState(x.reshape(-1, 28, 28, 1), y, scores, meta["label_names"])
    app = BrowseApp(state, "bars test set")
    apps.append(app)
    app.step()
    return app


def test_a_two_class_model_shows_two_bars_with_a_legend(two_class_browser):
    from nn.apps.browse import BrowseApp, BrowseState

    app = two_class_browser
    w = app.w
    assert len(app.top_rows) == 2 and len(app.class_rows) == 2
    px = app.pixels()[::-1]
    rows = app.top_rows
    x = int(rows.x + rows.name_width + rows.bar_width - 2)  # the end of every bar's track
    assert bar_runs(px, x, 20, int(rows.top), app.background) == 2
    rows = app.class_rows
    x = int(rows.x + rows.name_width + rows.bar_width - 2)
    assert bar_runs(px, x, 0, int(rows.top), app.background) == 2
    # the legends: a swatch of each bar colour, drawn, with its meaning
    assert set(app.top_legend.colors) == {w.GOOD[:3], w.BAR[:3]}
    assert set(app.class_legend.colors) == {w.GOOD[:3], w.BAD[:3]}
    for legend in (app.top_legend, app.class_legend):
        for swatch, text in zip(legend.swatches, legend.texts):
            cx, cy = int(swatch.x + swatch.width / 2), int(swatch.y + swatch.height / 2)
            assert tuple(px[cy, cx]) == tuple(swatch.color[:3])
            assert text.text
    assert "true class" in app.top_legend.texts[0].text
    assert "overall" in app.class_legend.texts[0].text
    assert_text_fits(app)
    # 99.96% reads 99.9%, in the verdict and beside its bar, and the bar is that long
    assert app.state.index == 0
    assert app.verdict.text == "predicted: vertical  (99.9%)"
    assert app.top_rows.values[0].text.strip() == "99.9%"
    assert app.top_rows.fractions[0] == pytest.approx(0.999)
    # a 2-output model whose data set names 10 classes still gets one bar per output
    s = app.state
    ten = BrowseState(s.images, s.labels, s.scores, [str(d) for d in range(10)])
    other = BrowseApp(ten, "ten names")
    try:
        other.step()
        assert len(other.class_rows) == 2 and len(other.top_rows) == 2
        assert [n.text for n in other.class_rows.names] == ["0", "1"]
    finally:
        other.close()


def test_browse_with_ten_classes_fits_its_text(apps):
    from nn.apps.browse import BrowseApp, BrowseState

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 50)
    scores = rng.dirichlet(np.ones(10) * 0.2, 50)
    names = [f"class name {i}" for i in range(10)]
    app = BrowseApp(BrowseState(rng.random((50, 28, 28, 1)), labels, scores, names), "ten")
    apps.append(app)
    app.step()
    assert len(app.top_rows) == 3 and len(app.class_rows) == 10
    labels = assert_text_fits(app)
    assert all(lb.font_size >= 7 for lb in labels)
    assert [n.text for n in app.class_rows.names] == names  # whole names


def test_app_text_is_drawn_on_whole_pixels(apps):
    """Rows of bars are centred at fractional heights; their text must keep every row of
    ink (an underscore, a minus sign)."""
    from nn.apps.browse import BrowseApp, BrowseState

    rng = np.random.default_rng(1)
    names = [f"c_{i}" for i in range(20)]  # rows of 420 / 20 = 21 px: centres at .5
    labels = rng.integers(0, 20, 40)
    scores = rng.dirichlet(np.ones(20), 40)
    app = BrowseApp(BrowseState(rng.random((40, 8, 8, 1)), labels, scores, names), "k")
    apps.append(app)
    app.step()
    rows = app.class_rows
    assert all((rows.top - (i + 0.5) * rows.row_height) % 1 == 0.5 for i in range(20))
    px = app.pixels()[::-1]
    mask = ink(px, app.background)
    for name in rows.names:
        assert_glyph_drawn(mask, name.label, "_")
    for name in rows.names:
        assert name.label.y == int(name.label.y)
