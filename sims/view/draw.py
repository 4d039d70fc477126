"""Drawing primitives shared by the renderers: one flat-colour shader, layer groups with a
camera, and :class:`Mesh`, a vertex list whose positions and colours are numpy views.

Coordinates of a :class:`Layer` under a :class:`Camera` are world units (metres); the
camera's matrix maps them to window pixels while that layer draws.  Panel layers use
pixels directly.
"""

from __future__ import annotations

import numpy as np
from pyglet import gl
from pyglet.graphics import Group
from pyglet.graphics.shader import Shader, ShaderProgram
from pyglet.math import Mat4

from common.window import fit, pixel_label_class

_VERTEX = """#version 330 core
in vec2 position;
in vec4 colors;
out vec4 vertex_color;
uniform WindowBlock { mat4 projection; mat4 view; } window;
void main() {
    gl_Position = window.projection * window.view * vec4(position, 0.0, 1.0);
    vertex_color = colors;
}
"""
_FRAGMENT = """#version 330 core
in vec4 vertex_color;
out vec4 final_color;
void main() { final_color = vertex_color; }
"""


def flat_program() -> ShaderProgram:
    """The flat-colour program of the current GL context (compiled once per context)."""
    space = gl.current_context.object_space
    program = getattr(space, "neuroevo_flat_program", None)
    if program is None:
        program = ShaderProgram(Shader(_VERTEX, "vertex"), Shader(_FRAGMENT, "fragment"))
        space.neuroevo_flat_program = program
    return program


class Camera:
    """Uniform scale plus offset from world units to window pixels:
    ``screen = world * scale + offset``."""

    def __init__(self, scale: float = 1.0, offset=(0.0, 0.0)):
        self.scale = float(scale)
        self.offset = np.array(offset, np.float64)

    def fit(self, bounds, viewport, margin: float = 10.0) -> None:
        """Show world ``bounds (xmin, ymin, xmax, ymax)`` centred in ``viewport (x, y, w, h)``
        pixels with ``margin`` pixels to spare."""
        xmin, ymin, xmax, ymax = bounds
        vx, vy, vw, vh = viewport
        sx = (vw - 2 * margin) / max(xmax - xmin, 1e-9)
        sy = (vh - 2 * margin) / max(ymax - ymin, 1e-9)
        self.scale = float(min(sx, sy))
        self.offset = np.array([vx + vw / 2 - self.scale * (xmin + xmax) / 2,
                                vy + vh / 2 - self.scale * (ymin + ymax) / 2])

    def look_at(self, point, screen_point) -> None:
        """Place world ``point`` at pixel ``screen_point`` (keeping the scale)."""
        self.offset = np.asarray(screen_point, np.float64) - self.scale * np.asarray(point)

    def to_screen(self, points) -> np.ndarray:
        """World ``(..., 2)`` -> window pixels ``(..., 2)`` (origin bottom-left)."""
        return np.asarray(points, np.float64) * self.scale + self.offset

    def to_world(self, pixels) -> np.ndarray:
        return (np.asarray(pixels, np.float64) - self.offset) / self.scale

    @property
    def matrix(self) -> Mat4:
        s, (tx, ty) = self.scale, self.offset
        return Mat4(s, 0.0, 0.0, 0.0, 0.0, s, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0,
                    float(tx), float(ty), 0.0, 1.0)


class Layer(Group):
    """Draws its vertex lists with the flat program and alpha blending, under ``camera``
    (world units) or in window pixels (``camera=None``).  ``order`` sorts layers; a
    ``scissor (x, y, w, h)`` clips to a rectangle of the window."""

    def __init__(self, window, order: int, camera: Camera | None = None, scissor=None,
                 parent: Group | None = None):
        super().__init__(order=order, parent=parent)
        self.window = window
        self.camera = camera
        self.scissor = scissor
        self.program = flat_program()

    def set_state(self) -> None:
        self.program.use()
        gl.glEnable(gl.GL_BLEND)
        gl.glBlendFunc(gl.GL_SRC_ALPHA, gl.GL_ONE_MINUS_SRC_ALPHA)
        if self.camera is not None:
            self.window.view = self.camera.matrix
        if self.scissor is not None:
            gl.glEnable(gl.GL_SCISSOR_TEST)
            gl.glScissor(*(int(v) for v in self.scissor))

    def unset_state(self) -> None:
        if self.scissor is not None:
            gl.glDisable(gl.GL_SCISSOR_TEST)
        if self.camera is not None:
            self.window.view = Mat4()
        gl.glDisable(gl.GL_BLEND)
        self.program.stop()

    # Layers are distinct even with equal settings: each keeps its own camera and order.
    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)


class Mesh:
    """``count`` vertices drawn as ``mode`` (``gl.GL_TRIANGLES`` or ``gl.GL_LINES``) in
    ``layer``.  :meth:`set` writes positions ``(count, 2)`` and colours ``(count, 4)`` or one
    RGBA for all, straight into the vertex buffers; :meth:`resize` changes ``count``."""

    def __init__(self, batch, layer: Layer, mode: int, count: int = 0, positions=None,
                 colors=None):
        self.batch, self.layer, self.mode = batch, layer, mode
        self.count = 0
        self.vlist = None
        self.resize(count)
        if positions is not None or colors is not None:
            self.set(positions, colors)

    def resize(self, count: int) -> None:
        count = int(count)
        if count == self.count and self.vlist is not None:
            return
        if self.vlist is not None:
            self.vlist.delete()
        self.count = count
        # a vertex list needs at least one vertex; an unused one is invisible (alpha 0)
        n = max(count, 1)
        self.vlist = self.layer.program.vertex_list(
            n, self.mode, batch=self.batch, group=self.layer,
            position=("f", np.zeros(2 * n, np.float32)), colors=("Bn", bytes(4 * n)))

    def positions(self) -> np.ndarray:
        """Writable ``(count, 2)`` float32 view of the vertex positions (marks them dirty)."""
        return np.ctypeslib.as_array(self.vlist.position).reshape(-1, 2)[: self.count]

    def colors(self) -> np.ndarray:
        """Writable ``(count, 4)`` uint8 view of the vertex colours (marks them dirty)."""
        return np.ctypeslib.as_array(self.vlist.colors).reshape(-1, 4)[: self.count]

    def set(self, positions=None, colors=None) -> None:
        if positions is not None:
            pos = np.asarray(positions, np.float32).reshape(-1, 2)
            if len(pos) != self.count:
                self.resize(len(pos))
            self.positions()[:] = pos
        if colors is not None:
            self.colors()[:] = np.asarray(colors).reshape(-1, 4) if np.ndim(colors) > 1 \
                else np.asarray(colors)

    def hide(self) -> None:
        if self.count:
            self.colors()[:, 3] = 0

    def delete(self) -> None:
        if self.vlist is not None:
            self.vlist.delete()
            self.vlist = None


# -- geometry: shapes as vertex arrays for GL_TRIANGLES / GL_LINES ---------------------------
def quads_to_triangles(quads: np.ndarray) -> np.ndarray:
    """``(..., 4, 2)`` convex quads (corners in order) -> ``(... * 6, 2)`` triangle vertices."""
    q = np.asarray(quads)
    return q[..., [0, 1, 2, 0, 2, 3], :].reshape(-1, 2)


def quad_outlines(quads: np.ndarray) -> np.ndarray:
    """``(..., 4, 2)`` quads -> ``(... * 8, 2)`` line vertices of their outlines."""
    q = np.asarray(quads)
    return q[..., [0, 1, 1, 2, 2, 3, 3, 0], :].reshape(-1, 2)


def polyline_segments(points: np.ndarray, closed: bool = False) -> np.ndarray:
    """``(M, 2)`` polyline -> ``(2 * segments, 2)`` line vertices."""
    p = np.asarray(points)
    b = np.roll(p, -1, axis=0) if closed else p[1:]
    a = p if closed else p[:-1]
    return np.stack([a, b], axis=1).reshape(-1, 2)


def strip_triangles(left: np.ndarray, right: np.ndarray, closed: bool = False) -> np.ndarray:
    """The band between two ``(M, 2)`` polylines as triangle vertices."""
    left, right = np.asarray(left), np.asarray(right)
    if closed:
        left = np.vstack([left, left[:1]])
        right = np.vstack([right, right[:1]])
    quads = np.stack([left[:-1], right[:-1], right[1:], left[1:]], axis=1)  # (M-1, 4, 2)
    return quads_to_triangles(quads)


def rect_quad(x: float, y: float, w: float, h: float) -> np.ndarray:
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)


def discs(centres: np.ndarray, radius: float, sides: int = 10) -> np.ndarray:
    """``(K, 2)`` centres -> ``(K * sides * 3, 2)`` triangle vertices of regular polygons."""
    t = np.linspace(0, 2 * np.pi, sides + 1)
    ring = np.stack([np.cos(t), np.sin(t)], axis=1) * radius  # (sides + 1, 2)
    c = np.asarray(centres, np.float64)[:, None, None, :]  # (K, 1, 1, 2)
    tri = np.stack([np.zeros((sides, 2)), ring[:-1], ring[1:]], axis=1)  # (sides, 3, 2)
    return (c + tri[None]).reshape(-1, 2)


# -- colours -------------------------------------------------------------------------------
def rgba(color, alpha: int = 255) -> np.ndarray:
    c = tuple(color)
    return np.array(c if len(c) == 4 else (*c, alpha), np.uint8)


LEADER = (80, 220, 255)  # the leading agent of every view, and its outline
LEADER_OUTLINE = (255, 255, 255)
_RAMP = np.array([[220, 60, 50], [240, 200, 40], [70, 210, 90]], np.float64)  # red-yellow-green


def ramp(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> ``(N, 3)`` uint8 colours from red (0) through yellow to green (1)."""
    v = np.clip(np.nan_to_num(np.asarray(values, np.float64)), 0.0, 1.0) * 2.0
    i = np.minimum(v.astype(int), 1)
    f = (v - i)[:, None]
    return (_RAMP[i] * (1 - f) + _RAMP[i + 1] * f).astype(np.uint8)


def diverging(values: np.ndarray) -> np.ndarray:
    """Values in [-1, 1] -> ``(N, 3)`` uint8: blue (-1), grey (0), orange (+1)."""
    v = np.clip(np.nan_to_num(np.asarray(values, np.float64)), -1.0, 1.0)[:, None]
    grey = np.array([90, 90, 100], np.float64)
    pos = np.array([255, 150, 40], np.float64)
    neg = np.array([60, 140, 255], np.float64)
    return (grey + np.where(v > 0, v * (pos - grey), -v * (neg - grey))).astype(np.uint8)


def clear(window, color) -> None:
    """Clear the window to ``color`` (RGB 0-255)."""
    r, g, b = (c / 255.0 for c in color[:3])
    window.switch_to()
    gl.glClearColor(r, g, b, 1.0)
    window.clear()


PixelLabel = pixel_label_class()  # text on whole pixels (common.window)


def label(text: str, x: float, y: float, batch, group, size: float = 10,
          color=(230, 230, 235), anchor_x: str = "left", anchor_y: str = "baseline",
          bold: bool = False, font: str | None = None, width: float | None = None,
          min_size: float | None = None) -> PixelLabel:
    """A :class:`PixelLabel` in ``batch`` (one per piece of text that changes).  With
    ``width``, the text is fitted into that many pixels (see :func:`fit`)."""
    lbl = PixelLabel(text, x=x, y=y, font_size=size, color=(*color[:3], 255),
                     anchor_x=anchor_x, anchor_y=anchor_y, batch=batch, group=group,
                     weight="bold" if bold else "normal", font_name=font)
    if width is not None:
        fit(lbl, width, size, min_size)
    return lbl


class TextSetter:
    """Updates a label only when its text changes (re-laying out text costs more than a
    comparison).  With ``width``, every new text is fitted into it (see :func:`fit`) from
    font ``size`` (the label's own size by default)."""

    def __init__(self, lbl, width: float | None = None, size: float | None = None,
                 min_size: float | None = None):
        self.label = lbl
        self.width = width
        self.size = lbl.font_size if size is None else size
        self.min_size = min_size

    def __call__(self, text: str) -> None:
        if self.label.text != text:
            self.label.text = text
            if self.width is not None:
                fit(self.label, self.width, self.size, self.min_size)
