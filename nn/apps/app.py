"""The base of the image apps: one window, one batch, widgets driven like a user would.

An app (:class:`AppBase`) owns one window (opened through :mod:`common.window`, the
project's one window toolkit) and one ``pyglet.graphics.Batch``; its methods named like
pyglet events (``on_key_press``, ``on_mouse_drag``...) are pushed onto the window, so a test
drives it exactly as a user would: ``app.window.dispatch_event(...)`` then
:meth:`AppBase.step` (which lets the window deliver queued events, updates and draws one
frame).  :meth:`AppBase.pixels` reads back what was drawn.

pyglet is imported when an app opens its window, never at module level.
"""

from __future__ import annotations

import os

import numpy as np

from common.window import open_window, read_pixels, save_png

FPS = 60


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


class AppBase:
    """One window, one batch, a fixed-step update; subclasses add widgets and handlers."""

    caption = "neuroevo"
    size = (640, 480)
    background = (24, 24, 28, 255)

    def __init__(self, visible: bool = True, offscreen: bool = False):
        """``offscreen``: for pictures (``--screenshot``): where there is no display the
        window is an EGL surface.  Raises :class:`common.window.NoDisplay` (one line)
        when no window can be opened."""
        self.window = open_window(*self.size, caption=self.caption, visible=visible,
                                  offscreen=offscreen)
        import pyglet

        self.pyglet = pyglet
        graphics = pyglet.graphics
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
