"""Fixtures for the app window tests: the display (``gui``, from :mod:`tests.gui`, like
every window test), tiny models and the shared data sets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.gui import gui  # noqa: F401 - the display fixture of every window test

SHARED_DATA = Path(os.environ.get("NEUROEVO_DATA", "").split(os.pathsep)[0]
                   or Path(__file__).parents[4] / "shared" / "datasets")


# -- tiny models ---------------------------------------------------------------------------
def bar_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic 28x28 "digits": class 0 a vertical bar, class 1 a horizontal bar, of random
    length, thickness and place, centred like MNIST digits.  ``(n, 784)``, ``(n,)``."""
    x = np.zeros((n, 28, 28), np.float32)
    y = rng.integers(0, 2, n)
    for i in range(n):
        length = rng.integers(12, 21)
        thick = rng.integers(2, 4)
        a = 14 - length // 2 + rng.integers(-2, 3)
        b = 14 - thick // 2 + rng.integers(-3, 4)
        if y[i] == 0:
            x[i, a:a + length, b:b + thick] = 1.0
        else:
            x[i, b:b + thick, a:a + length] = 1.0
    return x.reshape(n, -1), y


@pytest.fixture(scope="session")
def bars_model():
    """``(net, meta)``: a 784-16-2 network trained for a few epochs to tell vertical from
    horizontal bars (meta like a model file of ours)."""
    from nn.network import Network
    from nn.train import TrainConfig, Trainer

    rng = np.random.default_rng(0)
    x, y = bar_images(600, rng)
    net = Network([784, 16, 2], ["relu", "softmax"], rng=np.random.default_rng(1))
    Trainer(net, TrainConfig(epochs=8, batch_size=32, optimizer="adam", lr=0.01, l2=0.0,
                             decay=0.0), progress=False).fit(x, y)
    meta = {"dataset": "bars", "input_shape": [28, 28, 1], "label_names": ["vertical",
                                                                           "horizontal"],
            "preprocessing": {"scale": "0-1", "orientation": "top-down"}}
    return net, meta


@pytest.fixture
def save_tiny_model(tmp_path):
    """save(input_shape, dataset, **meta) -> path of a small random model file."""
    from nn.io import save_model
    from nn.network import Network

    def save(input_shape, dataset="mnist", n_classes=10, **meta):
        n_in = int(np.prod(input_shape))
        net = Network([n_in, n_classes], ["softmax"], rng=np.random.default_rng(0))
        path = tmp_path / f"{dataset}-model.npz"
        save_model(path, net, input_shape=list(input_shape), dataset=dataset, **meta)
        return path

    return save


@pytest.fixture(scope="session")
def make_bars():
    return bar_images


@pytest.fixture
def need_shared_data():
    """need_shared_data(name) -> folder of a real data set (skips the test without it)."""

    def need(name: str) -> Path:
        path = SHARED_DATA / name
        if not path.exists():
            pytest.skip(f"real data not found: {path}")
        return path

    return need
