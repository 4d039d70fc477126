"""The canvas and what it becomes for a model: pure numpy, no window."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nn.apps.canvas import Canvas
from nn.apps.preprocess import (
    DrawingNotSupported,
    centre_of_mass,
    class_scores,
    draw_spec,
    ink_bbox,
    mnist_style,
    prepare,
    raw_canvas,
    resize_area,
    to_model_input,
)
from nn.data.strokes import rasterize_strokes
from nn.network import Network

MNIST_META = {"dataset": "mnist", "input_shape": [28, 28, 1],
              "preprocessing": {"orientation": "top-down", "ink": "white-on-black"}}


def test_canvas_stroke_is_soft_and_where_it_was_drawn():
    c = Canvas(100, brush=10)
    c.begin(20, 30)
    c.extend(80, 30)
    assert c.image[30, 50] == pytest.approx(1.0)  # the middle of the stroke is solid
    assert 0 < c.image[34, 50] < 1  # its edge is soft
    assert c.image[60, 50] == 0 and c.image[30, 95] == 0
    assert len(c.strokes) == 1 and len(c.points()[0]) == 2
    v = c.version
    c.begin(50, 80)
    c.undo()
    assert c.version > v and len(c.strokes) == 1 and c.image[80, 50] == 0
    assert c.image[30, 50] == pytest.approx(1.0)
    c.clear()
    assert c.empty and not c.image.any()


def test_resize_area_keeps_the_mean_and_ink_bbox():
    img = np.random.default_rng(0).random((90, 60)).astype(np.float32)
    small = resize_area(img, 30, 20)
    assert small.shape == (30, 20)
    assert small.mean() == pytest.approx(img.mean(), rel=1e-5)
    assert ink_bbox(np.zeros((5, 5))) is None
    z = np.zeros((10, 10))
    z[2:4, 5:9] = 1
    assert ink_bbox(z) == (2, 4, 5, 9)


def test_mnist_recipe_fits_a_20_box_and_centres_the_mass():
    c = Canvas(336)
    c.begin(30, 20)  # a tall stroke in the top-left corner of the canvas
    c.extend(40, 200)
    img = mnist_style(c.image)
    assert img.shape == (28, 28)
    top, bottom, left, right = ink_bbox(img)
    assert bottom - top == 20 and right - left <= 6  # longer side scaled to the 20x20 box
    r, col = centre_of_mass(img)
    assert abs(r - 13.5) <= 0.5 and abs(col - 13.5) <= 0.5
    assert not mnist_style(np.zeros((50, 50))).any()
    # other image sizes scale the box by 20/28
    big = mnist_style(c.image, 56, 56)
    t, b, _, _ = ink_bbox(big)
    assert b - t == 40


def test_raw_canvas_keeps_the_ink_where_it_was_drawn():
    c = Canvas(280)
    c.begin(30, 30)
    c.extend(60, 60)  # top-left of the canvas
    img = raw_canvas(c.image)
    top, bottom, left, right = ink_bbox(img)
    assert bottom <= 9 and right <= 9 and top >= 1 and left >= 1


def test_doodle_mode_is_quick_draws_own_renderer():
    c = Canvas(336)
    c.begin(50, 60)
    c.extend(200, 80)
    c.extend(120, 300)
    spec = draw_spec({"dataset": "doodles", "input_shape": [28, 28, 1]}, 784)
    assert spec.style == "doodle"
    img = prepare(c.image, c.points(), spec, "doodle")
    ref = rasterize_strokes(c.points(), 28, normalize=True, layout="points") / 255.0
    np.testing.assert_allclose(img, ref, atol=1e-6)


def test_draw_spec_reads_the_metadata():
    spec = draw_spec(MNIST_META, 784)
    assert (spec.height, spec.width, spec.style, spec.orientation) == (28, 28, "mnist",
                                                                        "top-down")
    # an imported network: flat input, bottom-up rows
    spec = draw_spec({"input_shape": [784], "preprocessing": {"orientation": "bottom-up"}},
                     784)
    assert (spec.height, spec.orientation) == (28, "bottom-up")
    assert draw_spec({"input_shape": [16, 16, 1]}, 256).height == 16


@pytest.mark.parametrize("meta, n, words", [
    ({"input_shape": [32, 32, 3], "dataset": "cifar10"}, 3072, "colour models"),
    ({"input_shape": [2], "dataset": "fruit"}, 2, "playground"),
    ({"input_shape": [7]}, 7, "greyscale image"),
])
def test_draw_spec_refuses_models_that_cannot_take_a_drawing(meta, n, words):
    with pytest.raises(DrawingNotSupported, match=words) as e:
        draw_spec(meta, n, "m.npz")
    assert "\n" not in str(e.value) and str(e.value).startswith("m.npz: ")


def test_bottom_up_models_get_flipped_rows():
    img = np.zeros((28, 28), np.float32)
    img[2, 5] = 1.0  # near the top
    top_down = to_model_input(img, draw_spec(MNIST_META, 784))
    bottom_up = to_model_input(img, draw_spec(
        {"input_shape": [28, 28, 1], "preprocessing": {"orientation": "bottom-up"}}, 784))
    assert top_down.shape == bottom_up.shape == (1, 784)
    assert top_down[0, 2 * 28 + 5] == 1 and bottom_up[0, 25 * 28 + 5] == 1


def test_black_on_white_models_get_inverted_images():
    spec = draw_spec({"input_shape": [28, 28, 1], "preprocessing": {"ink": "black-on-white"}},
                     784)
    c = Canvas(100)
    c.begin(10, 10)
    c.extend(90, 90)
    img = prepare(c.image, c.points(), spec, "raw")
    assert img[0, 27] == pytest.approx(1.0) and img.min() < 0.5


def test_class_scores():
    x = np.random.default_rng(0).random((3, 4)).astype(np.float32)
    soft = Network([4, 3], ["softmax"])
    s, probs = class_scores(soft, x)
    assert probs and np.allclose(s.sum(1), 1)
    lin = Network([4, 3], ["identity"], loss="mse")
    s, probs = class_scores(lin, x)
    assert probs and np.allclose(s.sum(1), 1)
    sig = Network([4, 3], ["sigmoid"], loss="mse")
    s, probs = class_scores(sig, x)
    assert not probs and ((s > 0) & (s < 1)).all()


def test_importing_the_apps_does_not_import_pyglet():
    code = ("import sys, nn.apps.preprocess, nn.apps.canvas, nn.apps.app, nn.apps.widgets, "
            "nn.apps.draw, nn.apps.browse, nn.apps.playground, neuroevo.commands.windows, "
            "neuroevo.cli; "
            "neuroevo.cli.build_parser(); "
            "bad = [m for m in sys.modules if m.split('.')[0] == 'pyglet']; "
            "assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
