"""``neuroevo browse``: mistake navigation, the per-class panel, the command."""

from __future__ import annotations

import numpy as np
import pytest

from nn.apps.browse import BrowseState

KEY_M, KEY_RIGHT, KEY_LEFT, MOD_SHIFT = ord("m"), 65363, 65361, 1  # pyglet.window.key


def make_state(labels, preds, k=3):
    labels = np.asarray(labels)
    scores = np.full((len(labels), k), 0.1)
    scores[np.arange(len(labels)), preds] = 0.8
    images = np.zeros((len(labels), 4, 4, 1), np.float32)
    return BrowseState(images, labels, scores, [f"c{i}" for i in range(k)])


def test_state_mistake_navigation_and_per_class_accuracy():
    s = make_state([0, 1, 2, 0, 1, 2, 0], [0, 2, 2, 0, 0, 2, 1])
    assert list(s.mistakes) == [1, 4, 6] and s.accuracy == pytest.approx(4 / 7)
    np.testing.assert_allclose(s.class_accuracy, [2 / 3, 0.0, 1.0])
    assert s.next_mistake() and s.index == 1 and not s.correct
    assert s.next_mistake() and s.index == 4
    assert s.next_mistake() and s.index == 6
    assert s.next_mistake() and s.index == 1  # wraps around
    assert s.next_mistake(-1) and s.index == 6
    assert s.next_mistake(1, label=1) and s.index == 1  # mistakes on class c1: 1 and 4
    assert s.next_mistake(1, label=1) and s.index == 4
    assert not s.next_mistake(1, label=2) and s.index == 4
    s.step(-5)
    assert s.index == 6
    assert [c for c, _ in s.top(2)][0] == s.pred[6]
    perfect = make_state([0, 1], [0, 1])
    assert not perfect.next_mistake() and perfect.index == 0


@pytest.fixture
def bars_browser(gui, bars_model, make_bars):
    from nn.apps.browse import BrowseApp
    from nn.apps.preprocess import class_scores

    net, meta = bars_model
    x, y = make_bars(120, np.random.default_rng(5))
    x[3::7] = x[3::7].reshape(-1, 28, 28).transpose(0, 2, 1).reshape(-1, 784)  # some turned
    scores, _ = class_scores(net, x)
    state = BrowseState(x.reshape(-1, 28, 28, 1), y, scores, meta["label_names"])
    assert 0 < len(state.mistakes) < len(state)
    app = BrowseApp(state, "bars test set")
    app.step()
    yield app
    app.close()


def press(app, symbol, modifiers=0):
    app.window.dispatch_event("on_key_press", symbol, modifiers)
    app.step()


def test_m_jumps_to_the_next_mistake(bars_browser):
    app, s = bars_browser, bars_browser.state
    assert s.index == 0
    first = int(s.mistakes[s.mistakes > 0][0])  # the next mistake after image 0
    press(app, KEY_M)
    assert s.index == first and not s.correct
    assert "(a mistake)" in app.position.text
    assert app.verdict.text.startswith(f"predicted: {s.label_names[s.pred[first]]}")
    assert tuple(app.verdict.label.color) == app.w.BAD
    truth = s.label_names[s.labels[first]]
    assert app.truth.text == f"true: {truth}"
    later = s.mistakes[s.mistakes > first]
    if len(later):
        press(app, KEY_M)
        assert s.index == int(later[0])
        press(app, KEY_M, MOD_SHIFT)
        assert s.index == first
    press(app, KEY_RIGHT)
    assert s.index == first + 1
    press(app, KEY_LEFT)
    press(app, KEY_LEFT)
    assert s.index == first - 1
    # the image shown is the test image (pixels read back)
    s.go(first)
    px = app.pixels()
    h = px.shape[0]
    shown = px[h - 180 - 280:h - 180, 30:30 + 280, 0][5::10, 5::10]  # 28x28 samples
    np.testing.assert_allclose(shown / 255.0, s.images[first, :, :, 0], atol=0.02)


def test_per_class_panel(bars_browser):
    app, s = bars_browser, bars_browser.state
    for c, name in enumerate(s.label_names):
        acc = np.mean(s.pred[s.labels == c] == c)
        assert app.class_rows.names[c].text == name
        # the bar shows the value its text shows: the share rounded once, to 0.1%
        assert app.class_rows.fractions[c] == pytest.approx(acc, abs=5e-4)
        assert app.class_rows.fractions[c] == pytest.approx(round(acc * 100, 1) / 100)
        assert app.class_rows.values[c].text.strip().startswith(f"{acc * 100:.1f}%")
    # clicking a class row jumps to that class's next mistake
    wrong_classes = sorted(set(s.labels[s.mistakes].tolist()))
    c = wrong_classes[-1]
    rows = app.class_rows
    y = rows.top - (c + 0.5) * rows.row_height
    app.window.dispatch_event("on_mouse_press", rows.x + 10, y, 1, 0)
    app.step()
    assert s.labels[s.index] == c and not s.correct
    assert tuple(app.class_rows.names[c].label.color) == app.w.HIGHLIGHT


def test_browse_refuses_non_image_sets(cli, save_tiny_model):
    path = save_tiny_model([2], "fruit", n_classes=2)
    proc = cli("browse", str(path), env={"DISPLAY": "", "NEUROEVO_HEADLESS": ""})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "playground" in lines[0] and "Traceback" not in proc.stderr


def test_browse_command_on_real_mnist(cli, gui, save_tiny_model, need_shared_data,
                                      tmp_path):
    data = need_shared_data("mnist")
    path = save_tiny_model([28, 28, 1], "mnist", data_options={"n_train": 100, "n_test": 300})
    shot = tmp_path / "browse.png"
    proc = cli("browse", str(path), "--mistakes", "--frames", "2", "--screenshot", str(shot),
               env={"NEUROEVO_DATA": str(data.parent), "NEUROEVO_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("mnist test set: 300 images, accuracy 0.") and "mistakes" in first
    assert shot.read_bytes()[:4] == b"\x89PNG"
