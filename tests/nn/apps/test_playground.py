"""``neuroevo playground``: live learning, hand-edited weights, the controls."""

from __future__ import annotations

import numpy as np
import pytest

from nn.apps.playground import (
    ACTIVATIONS,
    PLOT,
    Playground,
    PointLayer,
    decision_colours,
    render_history,
)

KEY = {"L": ord("l"), "S": ord("s"), "H": ord("h"), "A": ord("a"), "C": ord("c"),
       "R": ord("r"), "UP": 65362, "DOWN": 65364, "LEFT": 65361, "RIGHT": 65363}
MOD_SHIFT = 1


def test_learning_lowers_the_cost_and_raises_accuracy():
    pg = Playground(hidden=3, activation="sigmoid", seed=0)
    cost0, acc0 = pg.history[-1], pg.accuracy("test")
    for _ in range(60):
        pg.learn(5)
    assert pg.history[-1] < 0.5 * cost0
    assert pg.accuracy("test") > max(acc0 + 0.2, 0.95)
    assert pg.epoch == pytest.approx(60 * 5 * 32 / 800)


def test_parameters_have_names_and_shapes_follow_the_controls():
    pg = Playground(hidden=0)
    assert pg.sizes == [2, 2] and len(pg.param_names()) == pg.net.num_params == 6
    assert pg.param_names()[:2] == ["w spot\u2192safe", "w spot\u2192poison"]
    pg.set_hidden(4)
    names = pg.param_names()
    assert pg.sizes == [2, 4, 2] and len(names) == pg.net.num_params == 22
    assert names[8:12] == ["b h1", "b h2", "b h3", "b h4"]
    v = pg.version
    pg.set_param(0, 3.5)
    assert pg.params[0] == 3.5 and pg.net.layers[0].W[0, 0] == 3.5 and pg.version > v
    pg.set_curved(True)
    assert pg.data.name == "fruit-curved"
    with pytest.raises(ValueError):
        pg.set_activation("nope")


def test_pictures_are_numpy_images():
    prob = np.linspace(0, 1, 16).reshape(4, 4)
    img = decision_colours(prob)
    assert img.shape == (4, 4, 3) and img.dtype == np.uint8
    assert img[0, 0, 2] > img[0, 0, 0] and img[3, 3, 0] > img[3, 3, 2]  # blue safe, red poison
    pts = np.array([[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]], np.float32)
    layer = PointLayer(pts, np.array([0, 1, 1]), 100)
    a = layer.render(np.array([False, True, False]))
    assert a.shape == (100, 100, 4)
    assert tuple(a[50, 50 + 5]) == PointLayer.RING  # ring around the wrong one only
    assert a[99, 2, 3] == 255 and a[20, 20, 3] == 0  # a dot at (0, 0), transparent elsewhere
    assert render_history([1.0, 0.5, 0.2], 50, 20).shape == (20, 50, 3)


@pytest.fixture
def playground_app(gui):
    from nn.apps.playground import PlaygroundApp

    apps = []

    def make(**kw):
        app = PlaygroundApp(Playground(**kw))
        apps.append(app)
        app.step()
        return app

    yield make
    for app in apps:
        app.close()


def press(app, name, modifiers=0, frames=1):
    app.window.dispatch_event("on_key_press", KEY[name], modifiers)
    for _ in range(frames):
        app.step()


def plot_pixels(app) -> np.ndarray:
    px = app.pixels()
    h = px.shape[0]
    return px[h - app.py - PLOT:h - app.py, app.px:app.px + PLOT].astype(np.int64)


def test_learning_moves_the_boundary_and_raises_accuracy(playground_app):
    app = playground_app(hidden=3, activation="sigmoid", seed=1)
    pg = app.pg
    before_img, before_px = app.decision_image.copy(), plot_pixels(app)
    acc0, cost0 = pg.accuracy("test"), pg.history[-1]
    press(app, "L", frames=40)  # learning on, 40 frames
    assert app.learning and "on" in app.buttons["learn"].caption.text
    assert pg.accuracy("test") > max(acc0 + 0.2, 0.93)
    assert pg.history[-1] < cost0
    changed = np.abs(app.decision_image.astype(int) - before_img).sum(axis=2) > 30
    assert changed.mean() > 0.2  # the background was recoloured
    after_px = plot_pixels(app)
    assert (np.abs(after_px - before_px).sum(axis=2) > 30).mean() > 0.2  # ...on screen too
    press(app, "L")
    assert not app.learning
    assert app.cost_text.text == f"cost {pg.history[-1]:.4f}"
    assert f"test {pg.accuracy('test') * 100:.1f}%" in app.acc_text.text
    v = pg.version
    app.step()
    assert pg.version == v  # nothing learns while learning is off


def test_learning_the_curved_set(playground_app):
    app = playground_app(hidden=8, activation="tanh")
    press(app, "C")
    assert app.pg.curved and "curved" in app.title.text
    acc0 = app.pg.accuracy("test")
    app.batches_per_frame = 10
    press(app, "L", frames=50)
    assert app.pg.accuracy("test") > max(acc0 + 0.15, 0.88)


def test_keys_edit_weights_by_hand(playground_app):
    app = playground_app(hidden=0)  # 2-2: a straight boundary, 6 parameters
    pg = app.pg
    img0 = app.decision_image.copy()
    press(app, "DOWN")
    press(app, "DOWN")  # the third parameter: w spike->safe
    assert app.selected == 2 and app.names[2].text == "w spike\u2192safe"
    w0 = float(pg.params[2])
    press(app, "RIGHT", MOD_SHIFT)
    press(app, "RIGHT")
    assert float(pg.params[2]) == pytest.approx(w0 + 0.6, abs=1e-5)
    assert app.values[2].text == f"{pg.params[2]:+.2f}"
    assert tuple(app.names[2].label.color) == app.w.HIGHLIGHT
    for _ in range(20):
        press(app, "RIGHT", MOD_SHIFT)
    assert np.abs(app.decision_image.astype(int) - img0).sum() > 0


def test_sliders_drag_a_parameter(playground_app):
    app = playground_app(hidden=3)
    s = app.sliders[4]
    w = app.window
    w.dispatch_event("on_mouse_press", s.x + s.width * 0.75, s.y + s.height / 2, 1, 0)
    app.step()
    assert app.selected == 4 and float(app.pg.params[4]) == pytest.approx(3.0, abs=1e-5)
    w.dispatch_event("on_mouse_drag", s.x, s.y + s.height / 2, -200, 0, 1, 0)
    w.dispatch_event("on_mouse_release", s.x, s.y + s.height / 2, 1, 0)
    app.step()
    assert float(app.pg.params[4]) == pytest.approx(-6.0)
    assert s.knob.x == pytest.approx(s.x - 3)


def test_hidden_size_activation_and_set_controls(playground_app):
    app = playground_app(hidden=3, activation="sigmoid")
    pg = app.pg
    press(app, "H")
    assert pg.hidden == 4 and pg.net.sizes == [2, 4, 2] and "Hidden: 4" in \
        app.buttons["hidden"].caption.text
    press(app, "H", MOD_SHIFT)
    press(app, "H", MOD_SHIFT)
    assert pg.hidden == 2
    press(app, "A")
    assert pg.activation == ACTIVATIONS[1] and pg.net.activations == [ACTIVATIONS[1],
                                                                      "softmax"]
    b = app.buttons["activation"]
    app.window.dispatch_event("on_mouse_press", b.x + 5, b.y + 5, 1, MOD_SHIFT)
    app.step()
    assert pg.activation == ACTIVATIONS[0]
    theta = pg.params.copy()
    press(app, "R")
    assert not np.array_equal(theta, pg.params)  # new random weights
    for _ in range(9):
        press(app, "DOWN")  # 2-2-2 has 12 parameters; all rows fit
    assert app.first_row == 0 and app.more.text == ""
    press(app, "H", frames=1)
    press(app, "H", frames=1)
    press(app, "H", frames=1)
    press(app, "H", frames=1)  # 2-8-2: 42 parameters, 12 rows shown
    for _ in range(30):
        press(app, "DOWN", frames=0)
    app.step()
    assert app.selected == 39 and app.first_row == 39 - 11
    assert app.more.text == "parameters 29-40 of 42"


def test_playground_command(cli, gui, tmp_path):
    shot = tmp_path / "playground.png"
    proc = cli("playground", "--learn", "--frames", "30", "--screenshot", str(shot))
    assert proc.returncode == 0, proc.stderr
    last = [ln for ln in proc.stdout.splitlines() if ln.startswith("network 2-3-2")][0]
    acc = float(last.rsplit(" ", 1)[1])
    assert acc > 0.9 and "epoch" in last
    assert shot.read_bytes()[:4] == b"\x89PNG"
    bad = cli("playground", "--hidden", "-1")
    assert bad.returncode == 2 and "--hidden" in bad.stderr
