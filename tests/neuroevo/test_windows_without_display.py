"""Every window command behaves the same without a display: ``--screenshot`` renders off
screen by itself (no NEUROEVO_HEADLESS needed), and an interactive window is one line,
exit 2, without pyglet's own message."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import assert_user_error
from tests.gui import egl_available

NO_DISPLAY = {"DISPLAY": "", "NEUROEVO_HEADLESS": ""}


@pytest.fixture(scope="module")
def egl():
    if not egl_available():
        pytest.skip("pyglet's EGL headless mode cannot make a surface here")


@pytest.fixture
def mnist_model(tmp_path):
    from nn.io import save_model
    from nn.network import Network

    net = Network([784, 10], ["softmax"], rng=np.random.default_rng(0))
    path = tmp_path / "mnist-model.npz"
    save_model(path, net, input_shape=[28, 28, 1], dataset="mnist")
    return path


def window_commands(model) -> dict[str, list[str]]:
    return {"draw": ["draw", str(model)], "playground": ["playground"]}


@pytest.mark.parametrize("name", ["draw", "playground"])
def test_screenshot_renders_off_screen_by_itself(cli, egl, mnist_model, tmp_path, name):
    shot = tmp_path / f"{name}.png"
    proc = cli(*window_commands(mnist_model)[name], "--frames", "2", "--screenshot", str(shot),
               env=NO_DISPLAY)
    assert proc.returncode == 0, proc.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["draw", "playground"])
def test_an_interactive_window_without_a_display_is_one_line(cli, mnist_model, name):
    proc = cli(*window_commands(mnist_model)[name], env=NO_DISPLAY)
    line = assert_user_error(proc, "no display")
    assert "Cannot connect" not in proc.stderr and "--screenshot" in line
