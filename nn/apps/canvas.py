"""A drawing surface in numpy: soft round strokes on a greyscale image (no pyglet).

Coordinates are canvas pixels with y growing downwards (image rows), the convention of
:mod:`nn.data.strokes`; the window converts mouse positions.  White ink (1.0) on black.
"""

from __future__ import annotations

import numpy as np


class Canvas:
    """``image`` is ``(size, size)`` float32, top-down, in [0, 1].

    A brush of ``brush`` pixels diameter is solid in the middle and fades out over its
    outer ``softness`` fraction, like a soft pen.  ``version`` grows with every change,
    so viewers redraw and models re-predict only when something changed.
    """

    def __init__(self, size: int = 336, brush: float = 34.0, softness: float = 0.35):
        self.size = int(size)
        self.radius = float(brush) / 2.0
        self.feather = max(self.radius * float(softness), 0.5)
        self.image = np.zeros((self.size, self.size), np.float32)
        self.strokes: list[list[tuple[float, float]]] = []
        self.version = 0

    # -- editing ---------------------------------------------------------------------
    def begin(self, x: float, y: float) -> None:
        """Start a stroke at ``(x, y)`` (a dot until it is extended)."""
        self.strokes.append([(float(x), float(y))])
        self._stamp(x, y, x, y)

    def extend(self, x: float, y: float) -> None:
        """Continue the current stroke to ``(x, y)``; starts one if there is none."""
        if not self.strokes:
            self.begin(x, y)
            return
        stroke = self.strokes[-1]
        x0, y0 = stroke[-1]
        if (x - x0) ** 2 + (y - y0) ** 2 < 0.25:
            return
        stroke.append((float(x), float(y)))
        self._stamp(x0, y0, x, y)

    def clear(self) -> None:
        self.image.fill(0.0)
        self.strokes.clear()
        self.version += 1

    def undo(self) -> None:
        """Remove the last stroke."""
        if not self.strokes:
            return
        strokes = self.strokes[:-1]
        self.clear()
        for s in strokes:
            self.strokes.append([s[0]])
            self._stamp(*s[0], *s[0])
            for p, q in zip(s[:-1], s[1:]):
                self.strokes[-1].append(q)
                self._stamp(*p, *q)

    @property
    def empty(self) -> bool:
        return not self.strokes

    def points(self) -> list[np.ndarray]:
        """The strokes as ``(n, 2)`` float arrays of (x, y), y down."""
        return [np.asarray(s, np.float64) for s in self.strokes]

    # -- rendering -------------------------------------------------------------------
    def _stamp(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Ink every pixel near the segment (x0, y0)-(x1, y1): max with what is there."""
        reach = self.radius + 1.0
        c0 = max(int(np.floor(min(x0, x1) - reach)), 0)
        c1 = min(int(np.ceil(max(x0, x1) + reach)) + 1, self.size)
        r0 = max(int(np.floor(min(y0, y1) - reach)), 0)
        r1 = min(int(np.ceil(max(y0, y1) + reach)) + 1, self.size)
        self.version += 1
        if c0 >= c1 or r0 >= r1:
            return
        px = np.arange(c0, c1, dtype=np.float32)[None, :] + 0.5  # pixel centres
        py = np.arange(r0, r1, dtype=np.float32)[:, None] + 0.5
        dx, dy = x1 - x0, y1 - y0
        den = dx * dx + dy * dy
        t = 0.0 if den == 0 else np.clip(((px - x0) * dx + (py - y0) * dy) / den, 0.0, 1.0)
        dist = np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))  # (rows, cols)
        ink = np.clip((self.radius - dist) / self.feather, 0.0, 1.0).astype(np.float32)
        region = self.image[r0:r1, c0:c1]
        np.maximum(region, ink, out=region)
