"""Small pyglet widgets drawn through one batch: labels, buttons, rows of bars, sliders.

pyglet is imported in the constructors (a window must exist by then), not at import.
Every setter changes the pyglet objects only when the value changed, so refreshing the
widgets every frame costs little.
"""

from __future__ import annotations

import math

from common.window import fit, pixel_label_class

TEXT = (230, 230, 235, 255)
DIM = (150, 150, 160, 255)
TRACK = (55, 55, 64, 255)
BAR = (86, 156, 250, 255)
GOOD = (96, 200, 120, 255)
BAD = (235, 90, 80, 255)
HIGHLIGHT = (250, 200, 80, 255)




def percent(p: float, decimals: int = 1) -> tuple[float, str]:
    """A probability (or a share) as a percentage rounded once, for a bar and its text
    alike: ``(fraction the bar shows, "99.9%")``.  Below 1 it never reads 100%: 0.9996 is
    99.9%, not 100.0%."""
    p = min(max(float(p), 0.0), 1.0)
    step = 10.0 ** -decimals
    value = math.floor(p * 100.0 / step + 0.5) * step
    if p < 1.0 and value >= 100.0:
        value = 100.0 - step
    return value / 100.0, f"{value:.{decimals}f}%"


class Text:
    """A label whose text and colour are set only when they change.  With ``width`` every
    text is fitted into that many pixels (see :func:`fit`) from font ``size``."""

    def __init__(self, batch, x, y, value="", size=11, color=TEXT, anchor_x="left",
                 anchor_y="baseline", bold=False, group=None, width=None, min_size=None):
        self.label = pixel_label_class()(
            value, x=x, y=y, font_size=size, color=color, batch=batch, anchor_x=anchor_x,
            anchor_y=anchor_y, group=group, weight="bold" if bold else "normal")
        self.size, self.width, self.min_size = size, width, min_size
        if width is not None:
            fit(self.label, width, size, min_size)

    @property
    def text(self) -> str:
        return self.label.text

    def set(self, value: str, color=None) -> None:
        if self.label.text != value:
            self.label.text = value
            if self.width is not None:
                fit(self.label, self.width, self.size, self.min_size)
        if color is not None and tuple(self.label.color) != tuple(color):
            self.label.color = color


class Button:
    """A clickable rectangle with a caption."""

    def __init__(self, batch, x, y, width, height, caption, group=None, fg_group=None):
        from pyglet import shapes

        self.x, self.y, self.width, self.height = x, y, width, height
        self.rect = shapes.Rectangle(x, y, width, height, color=(64, 64, 76), batch=batch,
                                     group=group)
        self.caption = Text(batch, x + width / 2, y + height / 2, caption, size=10,
                            anchor_x="center", anchor_y="center", group=fg_group,
                            width=width - 8)

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height

    def set(self, caption: str, active: bool = False) -> None:
        self.caption.set(caption)
        color = (70, 110, 170) if active else (64, 64, 76)
        if tuple(self.rect.color[:3]) != color:
            self.rect.color = color


class BarRows:
    """``n`` rows from ``top`` downwards: a name, a bar of a fraction, a value text (each
    text fitted into its column: ``name_width`` and ``value_width`` pixels)."""

    def __init__(self, batch, n, x, top, row_height, name_width=90, bar_width=120,
                 font_size=10, group=None, fg_group=None, value_width=60):
        from pyglet import shapes

        self.x, self.top, self.row_height = x, top, row_height
        self.name_width, self.bar_width = name_width, bar_width
        bar_h = max(4, row_height * 0.6)
        self.names, self.tracks, self.bars, self.values = [], [], [], []
        for i in range(n):
            y = top - (i + 1) * row_height
            mid = y + row_height / 2
            self.names.append(Text(batch, x, mid, "", size=font_size, anchor_y="center",
                                   group=fg_group, width=name_width - 6))
            bx = x + name_width
            self.tracks.append(shapes.Rectangle(bx, mid - bar_h / 2, bar_width, bar_h,
                                                color=TRACK[:3], batch=batch, group=group))
            self.bars.append(shapes.Rectangle(bx, mid - bar_h / 2, 0, bar_h, color=BAR[:3],
                                              batch=batch, group=fg_group))
            self.values.append(Text(batch, bx + bar_width + 6, mid, "", size=font_size,
                                    anchor_y="center", group=fg_group, width=value_width))
        self.fractions = [0.0] * n

    def __len__(self) -> int:
        return len(self.bars)

    def set(self, i: int, name: str, fraction: float, value: str, color=BAR,
            name_color=TEXT) -> None:
        self.names[i].set(name, name_color)
        self.values[i].set(value)
        fraction = min(max(float(fraction), 0.0), 1.0)
        width = fraction * self.bar_width
        if self.bars[i].width != width:
            self.bars[i].width = width
        if tuple(self.bars[i].color[:3]) != tuple(color[:3]):
            self.bars[i].color = color[:3]
        self.fractions[i] = fraction

    def blank(self, i: int) -> None:
        self.set(i, "", 0.0, "")

    def row_at(self, x: float, y: float) -> int | None:
        """The row under window point ``(x, y)``, or None."""
        if not self.x <= x < self.x + self.name_width + self.bar_width + 60:
            return None
        i = int((self.top - y) // self.row_height)
        return i if 0 <= i < len(self.bars) and y <= self.top else None


class Legend:
    """What colours mean: a row of ``(colour, text)`` entries, a small swatch before each
    text, from ``(x, y)`` (the text baseline) rightwards."""

    def __init__(self, batch, x, y, entries, size=9, color=DIM, group=None):
        from pyglet import shapes

        self.swatches, self.texts = [], []
        cx = x
        for rgb, text in entries:
            self.swatches.append(shapes.Rectangle(cx, y - 1, 10, 10, color=tuple(rgb[:3]),
                                                  batch=batch, group=group))
            self.texts.append(Text(batch, cx + 14, y, text, size=size, color=color,
                                   group=group))
            cx = self.texts[-1].label.right + 16
        self.right = cx - 16  # where the last text ends

    @property
    def colors(self) -> list[tuple[int, int, int]]:
        return [tuple(s.color[:3]) for s in self.swatches]


class Slider:
    """A horizontal track with a knob for a value in ``[lo, hi]`` (values beyond show at
    the ends)."""

    def __init__(self, batch, x, y, width, height, lo=-1.0, hi=1.0, group=None,
                 fg_group=None):
        from pyglet import shapes

        self.x, self.y, self.width, self.height = x, y, width, height
        self.lo, self.hi = lo, hi
        self.track = shapes.Rectangle(x, y + height * 0.4, width, height * 0.2, color=TRACK[:3],
                                      batch=batch, group=group)
        self.zero = shapes.Rectangle(self._pos(0.0) - 0.5, y + 2, 1, height - 4,
                                     color=(110, 110, 120), batch=batch, group=group)
        self.knob = shapes.Rectangle(x, y, 6, height, color=BAR[:3], batch=batch,
                                     group=fg_group)
        self.value = 0.0

    def _pos(self, value: float) -> float:
        f = (min(max(value, self.lo), self.hi) - self.lo) / (self.hi - self.lo)
        return self.x + f * self.width

    def contains(self, x: float, y: float) -> bool:
        return self.x - 4 <= x <= self.x + self.width + 4 and self.y <= y < self.y + self.height

    def value_at(self, x: float) -> float:
        f = min(max((x - self.x) / self.width, 0.0), 1.0)
        return self.lo + f * (self.hi - self.lo)

    def set(self, value: float, selected: bool = False) -> None:
        self.value = float(value)
        kx = self._pos(self.value) - 3
        if self.knob.x != kx:
            self.knob.x = kx
        color = HIGHLIGHT[:3] if selected else BAR[:3]
        if tuple(self.knob.color[:3]) != color:
            self.knob.color = color

    def show(self, visible: bool) -> None:
        for s in (self.track, self.zero, self.knob):
            s.visible = visible
