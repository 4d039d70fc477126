"""A display for the window tests (and bench/bench_view.py), made here when there is none.

:func:`ensure_display` returns "x" when an X display answers: the one in ``$DISPLAY``, or an
``Xvfb`` server started here (``-displayfd`` picks a free display number; it is stopped at
exit).  Without Xvfb it returns "egl" when pyglet's EGL headless mode can make a surface
(checked in a subprocess, because pyglet fixes its window platform on first import).
Otherwise it raises :class:`common.window.NoDisplay`.

The ``gui`` fixture turns that into ``pytest.skip`` (which fails the test in CI:
tests/conftest.py).
"""

from __future__ import annotations

import atexit
import os
import select
import shutil
import subprocess
import sys

import pytest

from common.window import NoDisplay, x_display_available

_xvfb: subprocess.Popen | None = None
_mode: str | None = None

_EGL_PROBE = (
    "import pyglet; pyglet.options['headless'] = True; pyglet.options['shadow_window'] = False\n"
    "import pyglet.window\n"
    "w = pyglet.window.Window(64, 64, visible=False); w.close()\n"
)


def start_xvfb(timeout: float = 10.0) -> str | None:
    """Start ``Xvfb`` on a free display; returns ``":N"`` or None if it cannot start."""
    global _xvfb
    exe = shutil.which("Xvfb")
    if exe is None:
        return None
    r, w = os.pipe()
    try:
        proc = subprocess.Popen([exe, "-displayfd", str(w), "-screen", "0", "1600x1000x24",
                                 "-nolisten", "tcp", "-noreset"], pass_fds=(w,),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    finally:
        os.close(w)
    number = b""
    try:
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([r], [], [], timeout)
            chunk = os.read(r, 16) if ready else b""
            if not chunk:
                break
            number += chunk
    finally:
        os.close(r)
    if not number.strip().isdigit():
        proc.kill()
        proc.wait()
        return None
    _xvfb = proc
    atexit.register(stop_xvfb)
    return f":{number.strip().decode()}"


def stop_xvfb() -> None:
    global _xvfb
    if _xvfb is not None and _xvfb.poll() is None:
        _xvfb.terminate()
        try:
            _xvfb.wait(5)
        except subprocess.TimeoutExpired:
            _xvfb.kill()
    _xvfb = None


def egl_available() -> bool:
    try:
        out = subprocess.run([sys.executable, "-c", _EGL_PROBE], capture_output=True,
                             timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0


def ensure_display() -> str:
    """"x" or "egl" (see the module docstring); sets ``$DISPLAY`` when it starts Xvfb."""
    global _mode
    if _mode is not None:
        return _mode
    if x_display_available():
        _mode = "x"
    else:
        display = start_xvfb()
        if display is not None and x_display_available(display):
            os.environ["DISPLAY"] = display
            _mode = "x"
        elif egl_available():
            os.environ.pop("DISPLAY", None)
            os.environ["NEUROEVO_HEADLESS"] = "1"  # every window of this process and its
            _mode = "egl"  # children renders off screen, interactive ones too
        else:
            raise NoDisplay("no X display, Xvfb could not start and pyglet's EGL headless "
                            "mode failed (install xvfb and xauth, or libegl1 and "
                            "libgl1-mesa-dri)")
    return _mode


@pytest.fixture(scope="session")
def gui() -> str:
    """A display for window tests: "x" or "egl".  Skips the test if there is none."""
    try:
        return ensure_display()
    except NoDisplay as e:
        pytest.skip(str(e))
