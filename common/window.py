"""The one window toolkit: opening a window (or an off-screen surface), reading its pixels
back, writing PNG files, and the one "no display" error.

Used by every window of the project (the image apps in :mod:`nn.apps`, the world renderers'
windows in :mod:`neuroevo.watch`).  pyglet is imported only inside :func:`open_window`,
after choosing the platform: an X display when one answers (or any desktop on
Windows/macOS), otherwise, for pictures only (``offscreen=True``, what ``--screenshot``
asks for), pyglet's EGL headless mode (software rendering through Mesa's llvmpipe works).
``NEUROEVO_HEADLESS=1`` chooses EGL even where a display exists (tests drive windows that
way).  pyglet fixes the choice when ``pyglet.window`` is first imported, so a process makes
it once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import sys
from pathlib import Path

import numpy as np

from common.errors import UserError
from common.files import atomic_write

HEADLESS_ENV = "NEUROEVO_HEADLESS"  # "1": render off screen (EGL) even with a display


class NoDisplay(UserError):
    """No window can be opened here; the message is one line for the user.  ``reason``:
    the same without the advice (for a command that carries on without a window)."""

    def __init__(self, reason: str, hint: str = ""):
        super().__init__(f"{reason}: {hint}" if hint else reason)
        self.reason = reason


def forced_headless() -> bool:
    return os.environ.get(HEADLESS_ENV) == "1"


def x_display_available(name: str | None = None) -> bool:
    """Whether the X display ``name`` (default ``$DISPLAY``) accepts a connection.

    Checked with libX11 directly, without importing pyglet (whose window module cannot be
    re-imported in another mode after a failed attempt)."""
    name = name if name is not None else os.environ.get("DISPLAY", "")
    if not name:
        return False
    path = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        xlib = ctypes.cdll.LoadLibrary(path)
    except OSError:
        return False
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = xlib.XOpenDisplay(name.encode())
    if not display:
        return False
    xlib.XCloseDisplay(display)
    return True


def display_available() -> bool:
    """Whether an on-screen window can be shown (a desktop, or an X display that answers)."""
    if sys.platform in ("win32", "cygwin", "darwin"):
        return True
    return x_display_available()


def _mode() -> str | None:
    """"x" or "headless" once pyglet's window module is loaded, else None."""
    if "pyglet.window" not in sys.modules:
        return None
    import pyglet

    return "headless" if pyglet.options["headless"] else "x"


def window_mode(offscreen: bool = False) -> str:
    """How :func:`open_window` would open a window: "x" (a real display) or "headless"
    (EGL, only when ``offscreen``).  Raises :class:`NoDisplay` when neither applies."""
    mode = _mode()
    if mode is not None:
        if mode == "headless" and not (offscreen or forced_headless()):
            raise NoDisplay("no display: this process already renders off-screen only")
        return mode
    if forced_headless():
        return "headless"
    if display_available():
        return "x"
    if offscreen:
        return "headless"
    hint = ("run it under xvfb-run, or pass --screenshot FILE to render a picture off "
            "screen")
    if not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        raise NoDisplay("no display to open a window on (DISPLAY is not set)", hint)
    raise NoDisplay(f"cannot open display {os.environ.get('DISPLAY', '')!r}", hint)


def open_window(width: int, height: int, caption: str = "neuroevo", *,
                offscreen: bool = False, visible: bool = True, vsync: bool = False):
    """A ``pyglet.window.Window`` of ``width x height`` pixels (not resizable).

    With ``offscreen`` a window is still made where a display exists, but where none does
    an EGL surface stands in (pictures only: nobody can see it or press keys in it).
    Raises :class:`NoDisplay` with a one-line reason when no window can be made."""
    mode = window_mode(offscreen)
    import pyglet

    if _mode() is None:
        pyglet.options["headless"] = mode == "headless"
        pyglet.options["shadow_window"] = False
        pyglet.options["vsync"] = vsync
    try:
        import pyglet.window

        kw = dict(resizable=False, visible=visible, vsync=vsync)
        try:  # 8 bits a channel: EGL's first choice can be RGB565 (colours off by a few)
            config = pyglet.gl.Config(red_size=8, green_size=8, blue_size=8, alpha_size=8,
                                      double_buffer=True)
            window = pyglet.window.Window(width, height, caption, config=config, **kw)
        except pyglet.window.NoSuchConfigException:
            window = pyglet.window.Window(width, height, caption, **kw)
    except Exception as e:  # noqa: BLE001 - any failure here means "no window" to the user
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise NoDisplay(f"cannot open a window ({mode}): {reason}") from None
    return window


def read_pixels(window) -> np.ndarray:
    """The window's back buffer as ``(H, W, 3)`` uint8 RGB, top row first (image order:
    ``pixels[H - 1 - y, x]`` is window coordinate ``(x, y)``).  Call after drawing and
    before ``flip()``."""
    from pyglet import gl

    window.switch_to()
    w, h = window.get_framebuffer_size()
    buf = np.empty((h, w, 4), np.uint8)
    gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 1)
    gl.glReadBuffer(gl.GL_BACK)
    gl.glReadPixels(0, 0, w, h, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE,
                    buf.ctypes.data_as(ctypes.POINTER(ctypes.c_ubyte)))
    return buf[::-1, :, :3].copy()  # OpenGL's rows run bottom-up


def save_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an ``(H, W, 3)`` uint8 image, top row first (what :func:`read_pixels`
    returns), as a PNG (matplotlib's writer), atomically.  Returns the path."""
    from matplotlib.image import imsave

    rgb = np.ascontiguousarray(rgb, np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got {rgb.shape}")
    path = Path(path)
    atomic_write(path, lambda f: imsave(f, rgb, format="png"))
    return path


# -- text that renders right ----------------------------------------------------------------
_LABEL_CLASS = None


def snap(value: float) -> float:
    """The nearest whole pixel.  Text placed half a pixel off samples its glyph texture
    between texels and loses whole rows or columns of ink (a minus sign, an underscore),
    so all text is drawn at whole pixels."""
    return float(math.floor(float(value) + 0.5))


def pixel_label_class():
    """``pyglet.text.Label`` kept on whole pixels: its position (whenever it is set) and
    its anchor offsets are rounded with :func:`snap` (made once, when pyglet is loaded)."""
    global _LABEL_CLASS
    if _LABEL_CLASS is None:
        from pyglet import text

        class PixelLabel(text.Label):
            def __init__(self, value: str = "", x: float = 0.0, y: float = 0.0,
                         z: float = 0.0, **kw):
                super().__init__(value, x=snap(x), y=snap(y), z=z, **kw)

            def _set_x(self, x):
                super()._set_x(snap(x))

            def _set_y(self, y):
                super()._set_y(snap(y))

            def _set_position(self, position):
                x, y, z = position
                super()._set_position((snap(x), snap(y), z))

            def _get_left_anchor(self):
                return snap(super()._get_left_anchor())

            def _get_top_anchor(self):
                return snap(super()._get_top_anchor())

            def _get_bottom_anchor(self):
                return snap(super()._get_bottom_anchor())

        _LABEL_CLASS = PixelLabel
    return _LABEL_CLASS


def fit(label, width: float, size: float, min_size: float | None = None) -> None:
    """Make ``label``'s text fully visible within ``width`` pixels: at font ``size`` when
    it fits, else at a smaller size (half points, not below ``min_size``, default
    ``max(7, size - 3)``), else wrapped into lines at the smallest size (they grow away
    from the label's ``anchor_y``)."""
    min_size = max(7.0, size - 3.0) if min_size is None else min(min_size, size)
    # (each change lays the text out again at once: content_width must be current)
    if label.multiline:
        label.multiline = False
        label.width = None
    if label.font_size != size:
        label.font_size = size
    if label.content_width > width:
        guess = math.floor(2 * size * width / max(label.content_width, 1)) / 2
        label.font_size = max(min_size, min(size - 0.5, guess))
        while label.content_width > width and label.font_size - 0.5 >= min_size:
            label.font_size -= 0.5
        if label.content_width > width:
            label.width = int(width)
            label.multiline = True
