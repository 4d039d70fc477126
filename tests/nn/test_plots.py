"""The pictures of training as people read them: whole-number epochs, legends beside the
lines, a confusion matrix of a readable size for 2 classes as for 10."""

import numpy as np
import pytest

from nn.plots import curves_figure, plot_curves
from nn.report import confusion_figure, plot_confusion
from tests.nn.figures import assert_integer_xticks, assert_legends_clear, assert_texts_inside, drawn


def history(epochs, validation=True):
    nan = float("nan")
    return [{"epoch": e + 1, "train_loss": 1 / (e + 1), "train_accuracy": 1 - 0.5 / (e + 1),
             "val_loss": 1.2 / (e + 1) if validation else nan,
             "val_accuracy": 1 - 0.6 / (e + 1) if validation else nan}
            for e in range(epochs)]


@pytest.mark.parametrize("epochs", [1, 3, 7, 250])
def test_curves_have_whole_epoch_ticks_and_a_legend_off_the_lines(epochs):
    fig = curves_figure(history(epochs), title="fruit: Network 2-8-2")
    for ax in fig.axes:
        ticks = assert_integer_xticks(ax)
        if epochs <= 7:  # few epochs: every one is labelled, from 1
            assert ticks == list(range(1, epochs + 1))
    assert_legends_clear(fig)
    assert_texts_inside(fig)
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert labels == ["train", "validation"]


def test_curves_without_validation_and_the_png(tmp_path):
    fig = curves_figure(history(4, validation=False))
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["train"]
    assert_legends_clear(fig)
    plot_curves(history(4), tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def confusion(n):
    rng = np.random.default_rng(n)
    return rng.integers(0, 30, (n, n)) + np.diag(rng.integers(800, 1000, n))


FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot"]


def matrix_inches(fig):
    """Width and height of the matrix (the first axes) as drawn, in inches."""
    renderer = drawn(fig)
    box = fig.axes[0].get_window_extent(renderer)
    return box.width / fig.dpi, box.height / fig.dpi


def count_fonts(fig):
    return {t.get_fontsize() for t in fig.axes[0].texts}


def test_a_two_class_confusion_matrix_is_readable():
    fig = confusion_figure(confusion(2), ["safe", "poisonous"], "fruit (test)")
    w, h = fig.get_size_inches()
    assert 3.5 <= w <= 7 and 3 <= h <= 6, (w, h)  # neither a stamp nor a poster
    mw, mh = matrix_inches(fig)
    assert 2.0 <= min(mw, mh) and max(mw, mh) <= 4.0, (mw, mh)
    assert min(count_fonts(fig)) >= 10  # big cells, big numbers
    assert min(t.get_fontsize() for t in fig.axes[0].get_xticklabels()) >= 9
    assert_texts_inside(fig)
    renderer = drawn(fig)
    a, b = (t.get_window_extent(renderer) for t in fig.axes[0].get_xticklabels())
    assert not a.overlaps(b)  # the two class names side by side, unrotated
    assert all(t.get_rotation() == 0 for t in fig.axes[0].get_xticklabels())


def test_confusion_size_and_fonts_scale_with_the_number_of_classes(tmp_path):
    two = confusion_figure(confusion(2), ["safe", "poisonous"])
    ten = confusion_figure(confusion(10), FASHION, "fashion (test)")
    cell2 = matrix_inches(two)[0] / 2
    cell10 = matrix_inches(ten)[0] / 10
    assert cell10 < cell2 and cell10 >= 0.35  # smaller cells, still room for "1004"
    assert 7 <= min(count_fonts(ten)) < min(count_fonts(two))
    w, h = ten.get_size_inches()
    assert 5 <= w <= 10 and 5 <= h <= 10, (w, h)
    assert_texts_inside(ten)
    renderer = drawn(ten)
    boxes = [t.get_window_extent(renderer) for t in ten.axes[0].get_xticklabels()]
    assert not any(a.overlaps(b) for a, b in zip(boxes, boxes[1:]))  # long names: rotated
    many = confusion_figure(confusion(47), [f"class {k}" for k in range(47)])
    assert max(many.get_size_inches()) <= 16 and not many.axes[0].texts  # no counts
    plot_confusion(confusion(2), ["safe", "poisonous"], tmp_path / "confusion.png")
    assert (tmp_path / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_the_legend_of_curves_leaves_a_long_title_whole():
    title = ("mnist: Network(784-128-10, relu,softmax, loss=cross_entropy, float32, "
             "101,770 params)")
    fig = curves_figure(history(12), title=title)
    renderer = drawn(fig)
    head = fig._suptitle.get_window_extent(renderer)
    for legend in fig.legends:
        assert not head.overlaps(legend.get_window_extent(renderer))
    from tests.nn.figures import inside

    assert inside(head, fig.bbox)
    assert_legends_clear(fig)
