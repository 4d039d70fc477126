"""Window plumbing shared by the apps.

pyglet is imported inside these functions, never at module level: importing
``pyglet.window`` without a display fails, and ``nn`` must stay importable anywhere.
Set ``NEUROEVO_HEADLESS=1`` to use pyglet's EGL headless mode instead of a display.

An app (:class:`AppBase`) owns one window and one ``pyglet.graphics.Batch``; its methods
named like pyglet events (``on_key_press``, ``on_mouse_drag``...) are pushed onto the
window, so a test drives it exactly as a user would: ``app.window.dispatch_event(...)``
then :meth:`AppBase.step` (which lets the window deliver queued events, updates and
draws one frame).  :meth:`AppBase.pixels` reads back what was drawn.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from nn.errors import NNError

FPS = 60
_DISPLAY_ERRORS = ("NoSuchDisplayException", "NoSuchConfigException", "ContextException",
                   "WindowException", "NoSuchScreenModeException")


class DisplayError(NNError):
    """No window can be opened (no display, no OpenGL)."""


def _display_error(e: BaseException) -> DisplayError | None:
    names = {t.__name__ for t in type(e).__mro__}
    if names & set(_DISPLAY_ERRORS):
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        return DisplayError(f"cannot open a window ({detail}); set DISPLAY, run under "
                            f"xvfb-run, or set NEUROEVO_HEADLESS=1")
    return None


def load_pyglet():
    """Import pyglet with its window module; :class:`DisplayError` without a display."""
    import pyglet

    if os.environ.get("NEUROEVO_HEADLESS") == "1" and "pyglet.window" not in sys.modules:
        pyglet.options["headless"] = True
    try:
        import pyglet.window  # noqa: F401  (opens the display)
    except Exception as e:
        err = _display_error(e)
        if err is None:
            raise
        raise err from None
    return pyglet


def make_window(width: int, height: int, caption: str, visible: bool = True):
    pyglet = load_pyglet()
    try:
        return pyglet.window.Window(width, height, caption=caption, visible=visible,
                                    vsync=False)
    except Exception as e:
        err = _display_error(e)
        if err is None:
            raise
        raise err from None


def to_rgba(img: np.ndarray) -> np.ndarray:
    """A top-down image ``(h, w)``, ``(h, w, 3)`` or ``(h, w, 4)`` (float in [0, 1] or
    uint8) -> ``(h, w, 4)`` uint8."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        a = (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    if a.shape[2] == 3:
        a = np.concatenate([a, np.full(a.shape[:2] + (1,), 255, np.uint8)], axis=2)
    return a


class ArrayTexture:
    """A numpy image shown through one texture and one sprite; :meth:`update` uploads a
    whole new image in one call."""

    def __init__(self, height: int, width: int, x: float, y: float, shown_width: float,
                 shown_height: float, batch, group=None, smooth: bool = False):
        from pyglet import gl, image, sprite

        filt = gl.GL_LINEAR if smooth else gl.GL_NEAREST
        self.height, self.width = int(height), int(width)
        self.texture = image.Texture.create(self.width, self.height, min_filter=filt,
                                            mag_filter=filt)
        self.sprite = sprite.Sprite(self.texture, x, y, batch=batch, group=group)
        self.sprite.update(scale_x=shown_width / self.width, scale_y=shown_height / self.height)

    def update(self, img: np.ndarray) -> None:
        from pyglet import image

        rgba = to_rgba(img)
        if rgba.shape[:2] != (self.height, self.width):
            raise ValueError(f"expected a {self.height}x{self.width} image, got {rgba.shape}")
        data = np.ascontiguousarray(rgba[::-1])  # GL rows run bottom-up
        self.texture.blit_into(image.ImageData(self.width, self.height, "RGBA",
                                               data.tobytes()), 0, 0, 0)


def read_pixels(window) -> np.ndarray:
    """``(H, W, 3)`` uint8, top row first: the window's back buffer (what was just drawn)."""
    from pyglet import image

    window.switch_to()
    buf = image.get_buffer_manager().get_color_buffer().get_image_data()
    a = np.frombuffer(buf.get_data("RGBA", buf.width * 4), np.uint8)
    return a.reshape(buf.height, buf.width, 4)[::-1, :, :3].copy()


def save_png(path: str | os.PathLike, rgb: np.ndarray) -> None:
    """Write an ``(H, W, 3)`` uint8 image as PNG (pyglet's encoder), atomically."""
    from pyglet import image

    from nn.io import atomic_write

    rgba = np.ascontiguousarray(to_rgba(rgb)[::-1])
    h, w = rgba.shape[:2]
    img = image.ImageData(w, h, "RGBA", rgba.tobytes())
    path = Path(path)
    atomic_write(path, lambda f: img.save(filename=path.name, file=f))


class AppBase:
    """One window, one batch, a fixed-step update; subclasses add widgets and handlers."""

    caption = "neuroevo"
    size = (640, 480)
    background = (24, 24, 28, 255)

    def __init__(self, visible: bool = True):
        self.pyglet = load_pyglet()
        self.window = make_window(*self.size, caption=self.caption, visible=visible)
        graphics = self.pyglet.graphics
        self.batch = graphics.Batch()
        self.back = graphics.Group(order=0)  # images, tracks
        self.front = graphics.Group(order=1)  # bars, knobs, text
        self.static: list = []  # widgets that never change (kept alive here)
        self.frames = 0
        self.closed = False

    def frame(self, x: float, y: float, width: float, height: float, border: float = 2):
        """A grey rectangle just larger than ``(x, y, width, height)``, behind it."""
        shapes = self.pyglet.shapes
        return shapes.Rectangle(x - border, y - border, width + 2 * border,
                                height + 2 * border, color=(90, 90, 100), batch=self.batch,
                                group=self.pyglet.graphics.Group(order=-1))

    def start(self) -> None:
        """Push this app's event handlers onto its window (call at the end of __init__)."""
        self.window.push_handlers(self)

    # -- events --------------------------------------------------------------------------
    def on_draw(self) -> None:
        self.window.switch_to()
        self.pyglet.gl.glClearColor(*(c / 255.0 for c in self.background))
        self.window.clear()
        self.batch.draw()

    def on_close(self) -> None:
        self.closed = True

    def update(self, dt: float) -> None:
        """Advance the app's state by ``dt`` seconds (called every frame)."""

    def refresh(self) -> None:
        """Bring widgets up to date with the state (called before every draw)."""

    # -- driving ---------------------------------------------------------------------------
    def step(self, dt: float = 1.0 / FPS, flip: bool = True) -> None:
        """One frame: deliver queued and pending window events, update, draw, flip."""
        self.window.switch_to()
        self.window.dispatch_events()
        if self.closed:
            return
        self.update(dt)
        self.refresh()
        self.on_draw()
        self.frames += 1
        if flip:
            self.window.flip()

    def pixels(self) -> np.ndarray:
        """Draw the current state and read it back: ``(H, W, 3)`` uint8, top row first."""
        self.refresh()
        self.on_draw()
        return read_pixels(self.window)

    def screenshot(self, path: str | os.PathLike) -> None:
        save_png(path, self.pixels())

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.window.close()

    def run(self, frames: int = 0, screenshot: str | None = None) -> None:
        """Run until the window closes; or, with ``frames``, that many frames then close
        (saving a ``screenshot`` PNG of the last one first)."""
        if frames > 0:
            for _ in range(frames):
                self.step()
                if self.closed:
                    break
            if screenshot and not self.closed:
                self.screenshot(screenshot)
            self.close()
            return
        pyglet = self.pyglet

        def tick(dt):
            self.update(dt)
            self.refresh()

        pyglet.clock.schedule_interval(tick, 1.0 / FPS)
        try:
            pyglet.app.run(1.0 / FPS)
        finally:
            pyglet.clock.unschedule(tick)
            if screenshot and not self.closed:
                self.screenshot(screenshot)
            self.close()
