"""Panel widgets in window pixels: a line graph of a history, a network diagram whose
connections and nodes light up with live activations, and a heatmap of a grid of values
(a quality-diversity archive) whose cells can be picked with the mouse."""

from __future__ import annotations

import numpy as np
from pyglet import gl

from sims.view.draw import (
    Layer,
    Mesh,
    TextSetter,
    discs,
    diverging,
    label,
    polyline_segments,
    quad_outlines,
    quads_to_triangles,
    ramp,
    rect_quad,
    rgba,
)

FRAME = (110, 115, 130)
TEXT = (220, 222, 230)
MUTED = (150, 154, 168)


class Box:
    """A filled rectangle with an outline (backgrounds, frames)."""

    def __init__(self, batch, layer: Layer, rect, fill=None, outline=FRAME):
        quad = rect_quad(*rect)
        self.fill = self.outline = None
        if fill is not None:
            self.fill = Mesh(batch, layer, gl.GL_TRIANGLES, positions=quads_to_triangles(quad),
                             colors=rgba(fill))
        if outline is not None:
            self.outline = Mesh(batch, layer, gl.GL_LINES, positions=quad_outlines(quad),
                                colors=rgba(outline))

    def delete(self) -> None:
        for mesh in (self.fill, self.outline):
            if mesh is not None:
                mesh.delete()


class HistoryGraph:
    """Lines of per-generation values in ``rect (x, y, w, h)`` with the value range and
    generation count as text.  ``set([(values, rgb), ...])`` redraws it.

    NaN values (a generation without the quantity, e.g. no lap) are left out: the line
    joins the finite points around them.  With ``markers``, every point also gets a small
    cross (so that a single point shows).  :attr:`points` holds what is drawn: per series
    ``(K, 2)`` of (generation counted from 1, value).  ``missing`` is what the count says
    while no value is finite (e.g. "no lap")."""

    MARK = 2.5  # px, half the size of a point's cross

    def __init__(self, window, batch, order: int, rect, title: str = "",
                 markers: bool = False, missing: str = "no value",
                 per: str = "generation"):
        self.rect = tuple(rect)
        self.per = per  # what a point is (the count's noun): "generation" or "iteration"
        x, y, w, h = self.rect
        self.markers = markers
        self.missing = missing  # what the count says while every value is NaN
        self.points: list[np.ndarray] = []
        base = Layer(window, order)
        self.box = Box(batch, base, rect, fill=(22, 24, 32))
        self.lines = Mesh(batch, Layer(window, order + 1, scissor=rect), gl.GL_LINES)
        text = Layer(window, order + 2)
        self.title = label(title, x + 4, y + h + 4, batch, text, size=9, color=MUTED,
                           width=w - 4)
        self.top = TextSetter(label("", x + w - 4, y + h - 4, batch, text, size=8, color=MUTED,
                                    anchor_x="right", anchor_y="top"))
        self.bottom = TextSetter(label("", x + w - 4, y + 4, batch, text, size=8,
                                       color=MUTED, anchor_x="right", anchor_y="bottom"))
        self.count = TextSetter(label("", x + 4, y + 4, batch, text, size=8, color=MUTED,
                                      anchor_y="bottom"))

    def delete(self) -> None:
        self.box.delete()
        self.lines.delete()
        for lbl in (self.title, self.top.label, self.bottom.label, self.count.label):
            lbl.delete()

    def set(self, series, unit: str = "") -> None:
        """``series``: ``[(values (G,), rgb), ...]`` sharing one vertical scale."""
        x, y, w, h = self.rect
        values = [np.asarray(v, np.float64) for v, _ in series]
        g = max((len(v) for v in values), default=0)
        finite = [np.flatnonzero(np.isfinite(v)) for v in values]
        self.points = [np.stack([k + 1.0, v[k]], 1) for k, v in zip(finite, values)]
        if not any(len(k) for k in finite):
            self.lines.resize(0)
            self.top("")
            self.bottom("")
            self.count(f"no {self.per} yet" if g == 0 else
                       f"{self.missing} in {g} {self.per}{'s' if g != 1 else ''}")
            return
        allv = np.concatenate([v[k] for v, k in zip(values, finite)])
        lo, hi = float(allv.min()), float(allv.max())
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        pos, col = [], []
        for pts, (_, rgb) in zip(self.points, series):
            if len(pts) == 0:
                continue
            px = x + 6 + (w - 12) * ((pts[:, 0] - 1) / max(g - 1, 1))
            py = y + 16 + (h - 30) * (pts[:, 1] - lo) / (hi - lo)
            xy = np.stack([px, py], 1)
            seg = [polyline_segments(xy)] if len(xy) > 1 else []
            if self.markers or len(xy) == 1:
                m = self.MARK
                seg.append((xy[:, None, :] + [[-m, -m], [m, m], [-m, m], [m, -m]])
                           .reshape(-1, 2))
            seg = np.vstack(seg)
            pos.append(seg)
            col.append(np.repeat(rgba(rgb)[None], len(seg), 0))
        self.lines.set(np.vstack(pos), np.vstack(col))
        self.top(f"{hi:.3g}{unit}")
        self.bottom(f"{lo:.3g}{unit}")
        n = max(len(k) for k in finite)
        if n == g:
            self.count(f"{g} {self.per}{'s' if g != 1 else ''}")
        else:
            self.count(f"{n} of {g} {self.per[:3]}s")


class NetworkDiagram:
    """A dense network drawn as columns of nodes joined by every connection.

    ``update(weights, activations)`` colours each connection by the signal it carries
    (``input activation * weight``: orange positive, blue negative, faint when small) and
    each node by its activation; output values are printed beside their names.  Names are
    never cut: the margins are measured from the text (a smaller font where the widest
    name would take too much of the panel)."""

    IN_SIZE = 7  # points, input names
    OUT_SIZE = 8  # points, output names and values (monospaced)
    IN_SPACING = 11.0  # px between input nodes needed for their names

    def __init__(self, window, batch, order: int, rect, sizes, input_names=(), output_names=()):
        self.rect = tuple(rect)
        self.sizes = [int(s) for s in sizes]
        x, y, w, h = self.rect
        self.box = Box(batch, Layer(window, order), rect, fill=(22, 24, 32))
        spacing = min(22.0, (h - 16) / max(max(self.sizes), 1))
        self.radius = r = max(2.0, min(6.0, spacing * 0.38))
        text = Layer(window, order + 3)
        self.in_labels = []
        if len(input_names) == self.sizes[0] and spacing >= self.IN_SPACING:
            room = 0.3 * w - r - 8
            for name in input_names:
                self.in_labels.append(label(str(name), 0, 0, batch, text, size=self.IN_SIZE,
                                            color=MUTED, anchor_x="right", anchor_y="center",
                                            width=room, min_size=6))
        left = 8 + r + 4 + max(lb.content_width for lb in self.in_labels) \
            if self.in_labels else 14
        self.out_text = []
        self.out_names = [str(n) for n in output_names]
        right = 14
        if len(self.out_names) == self.sizes[-1] and self.out_names:
            self._name_width = max(len(n) for n in self.out_names)
            room = 0.45 * w - r - 10
            widest = f"{'M' * self._name_width} -0.00"
            out = []
            for _ in self.out_names:
                lb = label(widest, 0, 0, batch, text, size=self.OUT_SIZE, color=TEXT,
                           anchor_y="center", font="DejaVu Sans Mono", width=room, min_size=6)
                out.append(lb)
            size = out[0].font_size  # what the widest text fits at
            right = r + 4 + out[0].content_width + 6
            self.out_text = [TextSetter(lb, width=room, size=size) for lb in out]
        self._span = (x + left, x + w - right)
        self._spacing = spacing
        self.links = Mesh(batch, Layer(window, order + 1), gl.GL_LINES)
        self.sides = 10
        self.nodes = Mesh(batch, Layer(window, order + 2), gl.GL_TRIANGLES)
        self._layout(self.sizes)
        self.update(None, None)

    def _layout(self, sizes) -> None:
        """Place columns of ``sizes`` nodes, every node of a column joined to every node of
        the next (a node graph's hidden column changes size as its leader changes)."""
        self.sizes = [int(n) for n in sizes]
        x, y, w, h = self.rect
        spacing = min(self._spacing, (h - 16) / max(max(self.sizes), 1))
        r = self.radius
        cols = np.linspace(*self._span, len(self.sizes))
        self.nodes_xy = []
        for cx, n in zip(cols, self.sizes):
            ys = y + h / 2 + spacing * (np.arange(n)[::-1] - (n - 1) / 2)
            self.nodes_xy.append(np.stack([np.full(n, cx), ys], 1))  # (n, 2)
        conns = [np.zeros((0, 2))]
        for a, b in zip(self.nodes_xy[:-1], self.nodes_xy[1:]):
            pairs = np.stack(np.broadcast_arrays(a[:, None, :], b[None, :, :]), axis=2)
            conns.append(pairs.reshape(-1, 2))  # (n_in * n_out * 2, 2), input-major
        self.links.set(np.vstack(conns))
        self.nodes.set(discs(np.vstack(self.nodes_xy), r, self.sides))
        for lb, (nx, ny) in zip(self.in_labels, self.nodes_xy[0]):
            lb.position = (nx - r - 4, ny, 0)
        for t, (nx, ny) in zip(self.out_text, self.nodes_xy[-1]):
            t.label.position = (nx + r + 4, ny, 0)

    def delete(self) -> None:
        self.box.delete()
        self.links.delete()
        self.nodes.delete()
        for lb in [*self.in_labels, *(t.label for t in self.out_text)]:
            lb.delete()

    def update(self, weights, activations) -> None:
        """``weights``: per layer ``(n_in, n_out)``; ``activations``: per column ``(n,)``
        (inputs first).  ``None`` draws the bare structure.  Columns of other sizes than
        drawn (a node graph whose hidden nodes changed) are laid out anew."""
        if activations is not None:
            sizes = [int(np.size(a)) for a in activations]
            if sizes != self.sizes:
                self._layout(sizes)
        if weights is None or activations is None:
            self.links.colors()[:] = rgba(FRAME, 60)
            self.nodes.colors()[:] = rgba((90, 90, 100))
            for t in self.out_text:
                t("")
            return
        signals = np.concatenate([(np.asarray(a)[:, None] * np.asarray(W)).ravel()
                                  for a, W in zip(activations[:-1], weights)])
        link = np.empty((len(signals), 4), np.uint8)
        link[:, :3] = diverging(np.tanh(signals))
        link[:, 3] = (30 + 225 * np.minimum(np.abs(signals), 1.0)).astype(np.uint8)
        self.links.colors()[:] = np.repeat(link, 2, axis=0)
        acts = np.concatenate([np.asarray(a, np.float64).ravel() for a in activations])
        node = np.empty((len(acts), 4), np.uint8)
        node[:, :3] = diverging(acts)
        node[:, 3] = 255
        self.nodes.colors()[:] = np.repeat(node, 3 * self.sides, axis=0)
        out = np.asarray(activations[-1]).ravel()
        for t, name, v in zip(self.out_text, self.out_names, out):
            t(f"{name:<{self._name_width}} {v:+.2f}")


class GridMap:
    """A heatmap of ``values (n0, n1)`` in ``rect (x, y, w, h)``: column ``i`` left to
    right, row ``j`` bottom to top, coloured red (lowest) through yellow to green (highest);
    NaN cells are empty (dark).  ``cell_at(x, y)`` is the ``(i, j)`` under a window pixel,
    or None outside the grid.  ``title`` above the grid, the axes' names below it."""

    EMPTY = (40, 44, 56)

    def __init__(self, window, batch, order: int, rect, shape, title: str = "",
                 x_name: str = "", y_name: str = ""):
        self.rect = tuple(rect)
        self.shape = (int(shape[0]), int(shape[1]))
        x, y, w, h = self.rect
        self.box = Box(batch, Layer(window, order), (x - 4, y - 22, w + 8, h + 46),
                       fill=(16, 18, 24))
        self.cells = Mesh(batch, Layer(window, order + 1), gl.GL_TRIANGLES)
        n0, n1 = self.shape
        i, j = np.meshgrid(np.arange(n0), np.arange(n1), indexing="ij")  # (n0, n1)
        cw, ch = w / n0, h / n1
        quads = np.stack([rect_quad(x + a * cw, y + b * ch, cw, ch)
                          for a, b in zip(i.ravel(), j.ravel())])  # (n0 * n1, 4, 2)
        self.cells.set(quads_to_triangles(quads), rgba(self.EMPTY))
        text = Layer(window, order + 2)
        self.title = TextSetter(label(title, x, y + h + 6, batch, text, size=10,
                                      color=TEXT), width=w)
        axes = f"right: {x_name}" + (f", up: {y_name}" if y_name else "")
        self.axes = label(axes, x, y - 16, batch, text, size=9, color=MUTED, width=w)
        self.values = np.full(self.shape, np.nan)

    def set(self, values, title: str | None = None) -> None:
        """Colour the cells by ``values (n0, n1)`` (NaN: empty)."""
        v = np.asarray(values, np.float64).reshape(self.shape)
        self.values = v
        filled = np.isfinite(v)
        colors = np.tile(rgba(self.EMPTY), (v.size, 1))
        if filled.any():
            lo, hi = float(v[filled].min()), float(v[filled].max())
            t = (v - lo) / (hi - lo) if hi > lo else np.ones_like(v)
            rgb = ramp(t.ravel())
            colors[filled.ravel(), :3] = rgb[filled.ravel()]
        self.cells.set(colors=np.repeat(colors, 6, axis=0))
        if title is not None:
            self.title(title)

    def cell_at(self, px: float, py: float) -> tuple[int, int] | None:
        x, y, w, h = self.rect
        if not (x <= px < x + w and y <= py < y + h):
            return None
        return (min(int((px - x) / w * self.shape[0]), self.shape[0] - 1),
                min(int((py - y) / h * self.shape[1]), self.shape[1] - 1))

    def delete(self) -> None:
        self.box.delete()
        self.cells.delete()
        for lbl in (self.title.label, self.axes):
            lbl.delete()
