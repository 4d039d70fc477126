"""Helpers for the window tests that read text back from pixels: where a label's glyphs
are drawn (from pyglet's own glyph metrics) and whether their ink is there.

Labels here are one line; masks are ``(H, W)`` bool arrays of ink, row 0 at the bottom
(window coordinates), e.g. ``ink(read_pixels(window)[::-1], background)``.
"""

from __future__ import annotations

import numpy as np


def ink(pixels, background, threshold: int = 60) -> np.ndarray:
    """``(H, W)`` bool: the pixels that differ from ``background`` (RGB)."""
    return np.abs(pixels.astype(int) - np.asarray(background)[:3]).sum(axis=2) > threshold


def glyph_box(lbl, k: int) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)``: where glyph ``k`` of one-line label ``lbl`` is drawn, in
    window pixels (its quad: the pen position plus the glyph's vertices)."""
    import pyglet

    font = pyglet.font.load(lbl.font_name, lbl.font_size, weight=lbl.weight, dpi=lbl.dpi)
    glyphs = font.get_glyphs(lbl.text)[0]
    pen = lbl.left + sum(g.advance for g in glyphs[:k])
    baseline = lbl.bottom - font.descent  # descent < 0: below the baseline
    x0, y0, x1, y1 = glyphs[k].vertices
    return pen + x0, baseline + y0, pen + x1, baseline + y1


def glyph_ink(mask: np.ndarray, lbl, k: int) -> tuple[int, int]:
    """``(ink pixels in glyph k's quad, the quad's area in pixels)``."""
    x0, y0, x1, y1 = glyph_box(lbl, k)
    region = mask[int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))]
    return int(region.sum()), int(round((x1 - x0) * (y1 - y0)))


def assert_glyph_drawn(mask: np.ndarray, lbl, char: str) -> None:
    """Every ``char`` of ``lbl``'s text (a minus sign, an underscore: one solid bar) has
    ink over at least half its quad."""
    positions = [k for k, c in enumerate(lbl.text) if c == char]
    assert positions, (char, lbl.text)
    for k in positions:
        got, area = glyph_ink(mask, lbl, k)
        assert got >= max(2, area // 2), (f"{lbl.text!r}: {char!r} at {k} has {got} ink "
                                          f"pixels of {area}, label at {lbl.x}, {lbl.y}")


def text_box(lbl) -> tuple[float, float, float, float]:
    """``(left, bottom, right, top)`` of a label's laid-out text (window pixels)."""
    return lbl.left, lbl.bottom, lbl.left + lbl.content_width, lbl.bottom + lbl.content_height


def inside(lbl, rect) -> bool:
    """Whether all of ``lbl``'s text lies in ``rect (x, y, w, h)``."""
    left, bottom, right, top = text_box(lbl)
    x, y, w, h = rect
    return x <= left and right <= x + w and y <= bottom and top <= y + h


def overlapping(labels) -> list[tuple[str, str]]:
    """Pairs of (non-empty) labels whose text boxes intersect."""
    boxes = [(lb.text, text_box(lb)) for lb in labels if lb.text.strip()]
    found = []
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                found.append((ta, tb))
    return found
