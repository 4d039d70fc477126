"""common.window: the one window toolkit (a real window under Xvfb, or pyglet's EGL
headless mode; see tests/gui.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO
from tests.gui import gui  # noqa: F401 - the session fixture


def test_importing_the_toolkit_does_not_import_pyglet():
    code = "import sys, common.window; sys.exit(1 if 'pyglet' in sys.modules else 0)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO)
    assert out.returncode == 0, out.stderr


def test_png_round_trips_through_an_independent_reader(tmp_path):
    from matplotlib.image import imread

    from common.window import save_png

    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    path = save_png(tmp_path / "sub" / "x.png", rgb)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    back = np.round(imread(path)[:, :, :3] * 255).astype(np.uint8)
    np.testing.assert_array_equal(back, rgb)
    assert [p.name for p in path.parent.iterdir()] == ["x.png"]  # no temp file left


def test_save_png_refuses_what_is_not_an_rgb_image(tmp_path):
    from common.window import save_png

    with pytest.raises(ValueError, match="H, W, 3"):
        save_png(tmp_path / "x.png", np.zeros((4, 4), np.uint8))
    assert not (tmp_path / "x.png").exists()


def test_read_pixels_gives_the_top_row_first(gui):  # noqa: F811
    from pyglet import gl, shapes

    from common.window import open_window, read_pixels

    window = open_window(64, 48, "test_window", offscreen=True)
    try:
        window.switch_to()
        gl.glClearColor(0, 0, 0, 1)
        window.clear()
        # a red band along the bottom edge of the window (y = 0..9 in window coordinates)
        shapes.Rectangle(0, 0, 64, 10, color=(255, 0, 0)).draw()
        px = read_pixels(window)
        window.flip()
    finally:
        window.close()
    assert px.shape == (48, 64, 3) and px.dtype == np.uint8
    assert (px[-10:] == (255, 0, 0)).all()  # the bottom of the picture
    assert (px[:-10] == 0).all()


def test_no_display_is_one_line_without_touching_pyglet():
    code = ("import sys\n"
            "from common.window import NoDisplay, open_window\n"
            "try:\n    open_window(64, 64)\nexcept NoDisplay as e:\n"
            "    print(e); sys.exit(3 if 'pyglet.window' in sys.modules else 0)\n"
            "sys.exit(4)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, env={k: v for k, v in os.environ.items()
                                        if k not in ("DISPLAY", "NEUROEVO_HEADLESS")})
    assert out.returncode == 0, (out.returncode, out.stdout, out.stderr)
    assert len(out.stdout.strip().splitlines()) == 1
    assert "no display" in out.stdout and "--screenshot" in out.stdout
