"""``neuroevo draw``: real windows driven by synthetic mouse and key events."""

from __future__ import annotations

import numpy as np
import pytest

from nn.apps.preprocess import ink_bbox

LEFT = 1  # pyglet.window.mouse.LEFT
KEY_C, KEY_R, KEY_Z = ord("c"), ord("r"), ord("z")  # pyglet key symbols for letters


@pytest.fixture
def draw_app(gui, bars_model):
    from nn.apps.draw import DrawApp

    apps = []

    def make(net=None, meta=None, **kw):
        app = DrawApp(*(bars_model if net is None else (net, meta)), **kw)
        apps.append(app)
        app.step()
        return app

    yield make
    for app in apps:
        app.close()


def stroke(app, points, button=LEFT):
    """Press at the first canvas point, drag through the rest, release (canvas pixels, y
    down, converted to window coordinates as a user's mouse would give them)."""
    from nn.apps.draw import CANVAS_SIZE

    def win(p):
        return app.cx + p[0], app.cy + CANVAS_SIZE - p[1]

    x0, y0 = win(points[0])
    app.window.dispatch_event("on_mouse_press", x0, y0, button, 0)
    for p, q in zip(points[:-1], points[1:]):
        (xa, ya), (xb, yb) = win(p), win(q)
        for t in np.linspace(0, 1, 6)[1:]:
            app.window.dispatch_event("on_mouse_drag", xa + t * (xb - xa), ya + t * (yb - ya),
                                      (xb - xa) / 5, (yb - ya) / 5, button, 0)
    app.window.dispatch_event("on_mouse_release", *win(points[-1]), button, 0)
    app.step()


def key(app, symbol, modifiers=0):
    app.window.dispatch_event("on_key_press", symbol, modifiers)
    app.step()


def model_image(app):
    """The model's input as a top-down image."""
    return app.x.reshape(app.spec.height, app.spec.width)


def test_a_stroke_puts_ink_in_the_model_input_where_it_was_drawn(draw_app):
    app = draw_app(raw=True)
    assert not app.x.any() and app.verdict.text == "draw something"
    stroke(app, [(60, 60), (110, 110)])  # top-left of the 336-pixel canvas
    img = model_image(app)
    top, bottom, left, right = ink_bbox(img)
    # ink from 60 - 17 to 110 + 17 canvas pixels (a 34-pixel brush); 28/336 of that
    assert 3 <= top and bottom <= 12 and 3 <= left and right <= 12
    # ...and on screen, the canvas shows it where the mouse went (pixels read back)
    px = app.pixels()
    h = px.shape[0]
    assert px[h - (app.cy + 336 - 85), app.cx + 85].min() > 200  # white ink on the stroke
    assert px[h - (app.cy + 336 - 250), app.cx + 250].max() < 30  # black elsewhere
    # the preview shows the model input
    x, y, w, hh = (int(v) for v in app.preview_rect)
    preview = px[h - y - hh:h - y, x:x + w, 0]
    assert preview[: hh // 3, : w // 3].max() > 200 and preview[hh // 2:, w // 2:].max() < 30


def test_the_mnist_recipe_centres_the_drawing(draw_app):
    app = draw_app()
    assert app.mode == "mnist"
    stroke(app, [(40, 20), (45, 120)])  # a short vertical line, top-left
    img = model_image(app)
    top, bottom, left, right = ink_bbox(img)
    assert bottom - top == 20 and right - left <= 6
    assert 11 <= left and right <= 17  # centred
    key(app, KEY_R)  # raw canvas: back to where it was drawn
    assert app.mode == "raw" and ink_bbox(model_image(app))[2] <= 5


def test_bottom_up_models_see_flipped_rows(draw_app, bars_model):
    net, meta = bars_model
    flipped = dict(meta, preprocessing={"orientation": "bottom-up"})
    app = draw_app(net, flipped, raw=True)
    stroke(app, [(40, 30), (300, 30)])  # a line along the top
    rows = np.flatnonzero(model_image(app).max(axis=1) > 0.5)
    assert rows.min() >= 20  # the top of the drawing is the bottom of the input


def test_the_prediction_panel_follows_the_drawing(draw_app, bars_model):
    net, _ = bars_model
    app = draw_app()
    assert app.ranked() == [] and app.rows.names[0].text == ""
    stroke(app, [(168, 40), (168, 290)])  # vertical
    assert app.ranked()[0][0] == "vertical"
    assert app.verdict.text.startswith("vertical")
    assert app.rows.names[0].text == "vertical" and app.rows.names[1].text == "horizontal"
    expected = net.predict_proba(app.x)[0]
    # the bar shows the value its text shows: the probability rounded once, to 0.1%
    # (and a probability below 1 never reads 100.0%)
    p = float(expected.max())
    shown = min(round(p * 100, 1), 99.9) if p < 1 else 100.0
    assert app.rows.fractions[0] == pytest.approx(expected.max(), abs=1e-3)
    assert app.rows.fractions[0] == pytest.approx(shown / 100)
    assert app.rows.values[0].text.strip() == f"{shown:.1f}%"
    key(app, KEY_C)  # clear
    assert app.canvas.empty and app.verdict.text == "draw something"
    stroke(app, [(40, 170), (300, 170)])  # horizontal
    assert app.ranked()[0][0] == "horizontal" and app.verdict.text.startswith("horizontal")
    key(app, KEY_Z)  # undo
    assert app.canvas.empty and app.rows.names[0].text == ""


def test_buttons_clear_and_toggle_raw(draw_app):
    app = draw_app()
    stroke(app, [(100, 100), (200, 200)])
    b = app.raw_button
    app.window.dispatch_event("on_mouse_press", b.x + 5, b.y + 5, LEFT, 0)
    app.step()
    assert app.raw and "on" in b.caption.text
    b = app.clear_button
    app.window.dispatch_event("on_mouse_press", b.x + 5, b.y + 5, LEFT, 0)
    app.step()
    assert app.canvas.empty and not app.x.any()


def test_draw_refuses_colour_models_in_one_line(cli, save_tiny_model):
    path = save_tiny_model([32, 32, 3], "cifar10")
    proc = cli("draw", str(path), env={"DISPLAY": "", "NEUROEVO_HEADLESS": ""})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("neuroevo: error:") and "not supported" in lines[0]
    assert "colour" in lines[0]


def test_draw_command_runs_frames_and_saves_a_screenshot(cli, gui, save_tiny_model,
                                                         tmp_path):
    path = save_tiny_model([28, 28, 1], "mnist")
    shot = tmp_path / "draw.png"
    proc = cli("draw", str(path), "--frames", "2", "--screenshot", str(shot))
    assert proc.returncode == 0, proc.stderr
    assert "MNIST recipe" in proc.stderr and shot.read_bytes()[:4] == b"\x89PNG"


def test_an_imported_network_sees_the_drawing_as_its_original_does(draw_app, bars_model,
                                                                  tmp_path):
    """Exported to the original project's JSON (bottom-up rows) and imported again, the
    model must give the same scores for the same drawing."""
    from nn.lague import export_lague, load_lague

    net, meta = bars_model
    export_lague(tmp_path / "bars.json", net, meta)
    imported, imported_meta = load_lague(tmp_path / "bars.json")
    assert imported_meta["preprocessing"]["orientation"] == "bottom-up"
    scores, inputs = [], []
    for n, m in ((net, meta), (imported, imported_meta)):
        app = draw_app(n, m, raw=True)  # raw: the drawing stays off-centre, rows matter
        stroke(app, [(40, 40), (60, 200)])
        scores.append(app.scores)
        inputs.append(app.x.reshape(28, 28))
    np.testing.assert_allclose(scores[0], scores[1], atol=1e-5)
    np.testing.assert_array_equal(inputs[0], inputs[1][::-1])  # rows fed bottom-up
