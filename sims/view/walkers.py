"""Side-view renderer of a :class:`~sims.walker_world.WalkerWorld`: the ground with distance
markers, every creature (coloured by fitness, fallen ones dimmed), the leader highlighted,
and a camera that follows the leader."""

from __future__ import annotations

import numpy as np
from pyglet import gl

from sims.view.draw import (
    LEADER,
    LEADER_OUTLINE,
    Camera,
    Layer,
    Mesh,
    TextSetter,
    label,
    polyline_segments,
    quad_outlines,
    quads_to_triangles,
    ramp,
    rgba,
    strip_triangles,
)

SKY = (28, 34, 48)
GROUND = (92, 78, 58)
GROUND_EDGE = (170, 150, 110)
MARK = (200, 200, 210)
START = (120, 220, 255)
DIM_ALPHA = 80
VIEW_HEIGHT = 6.0  # m of world shown vertically
GROUND_AT = 0.28  # fraction of the viewport height where y = 0 sits
MARK_EVERY = 5  # m between tall markers (every metre has a tick and a label)
N_LABELS = 24  # pooled marker labels (enough for the widest view)


class WalkerRenderer:
    """Draws a walker world into ``viewport (x, y, w, h)``; see
    :class:`~sims.view.cars.CarRenderer` for the protocol."""

    background = SKY

    def __init__(self, window, batch, viewport, order: int = 0):
        self.window, self.batch, self.viewport = window, batch, tuple(viewport)
        vx, vy, vw, vh = self.viewport
        self.camera = Camera(scale=vh / VIEW_HEIGHT)
        layer = [Layer(window, order + k, self.camera, scissor=self.viewport) for k in range(4)]
        self.ground = Mesh(batch, layer[0], gl.GL_TRIANGLES)
        self.marks = Mesh(batch, layer[1], gl.GL_LINES)
        self.bodies = Mesh(batch, layer[2], gl.GL_TRIANGLES)
        self.leader = Mesh(batch, layer[3], gl.GL_TRIANGLES)
        self.leader_outline = Mesh(batch, layer[3], gl.GL_LINES)
        text = Layer(window, order + 4, None, scissor=self.viewport)
        self._labels = [label("", -100, -100, batch, text, size=9, color=MARK,
                              anchor_x="center", anchor_y="top") for _ in range(N_LABELS)]
        self._label_text = [TextSetter(lb) for lb in self._labels]
        self._ground_key = None
        self.n = 0
        self.cam_x = 0.0
        self.car_colors = np.zeros((0, 4), np.uint8)  # (N, 4) colours of the last update
        self.look_at(0.0)

    def attach(self, world) -> None:
        ground = np.asarray(world.ground, np.float64)
        key = (ground.shape, float(ground.sum()))
        if key != self._ground_key:
            self._ground_key = key
            # the fill reaches just below the view (tall thin triangles are slow on llvmpipe)
            bottom = ground.copy()
            bottom[:, 1] = ground[:, 1].min() - VIEW_HEIGHT * GROUND_AT - 1.0
            self.ground.set(strip_triangles(ground, bottom), rgba(GROUND))
            xs = np.arange(np.ceil(ground[0, 0]), ground[-1, 0] + 1e-9, 1.0)
            ys = np.interp(xs, ground[:, 0], ground[:, 1])
            big = (np.round(xs) % MARK_EVERY) == 0
            depth = np.where(big, 0.35, 0.12)
            ticks = np.stack([np.stack([xs, ys], 1), np.stack([xs, ys - depth], 1)], 1)
            edge = polyline_segments(ground)
            self.marks.set(np.vstack([edge, ticks.reshape(-1, 2)]))
            col = self.marks.colors()
            col[: len(edge)] = rgba(GROUND_EDGE)
            col[len(edge):] = rgba(MARK, 200)
            start = len(edge) + 2 * int(np.flatnonzero(np.isclose(xs, 0.0))[0]) \
                if np.isclose(xs, 0.0).any() else None
            if start is not None:
                col[start: start + 2] = rgba(START)
            self._mark_x, self._mark_y = xs, ys
        if world.n_agents != self.n:
            self.n = world.n_agents
            self.bodies.resize(6 * self.n * world.n_bodies)

    def look_at(self, x: float) -> None:
        """Put world x at the viewport's centre (y = 0 at ``GROUND_AT`` of its height)."""
        vx, vy, vw, vh = self.viewport
        self.cam_x = float(x)
        self.camera.look_at((x, 0.0), (vx + vw / 2, vy + vh * GROUND_AT))

    def focus(self, world, leader: int | None) -> None:
        """Ease the camera towards the leader's torso."""
        if leader is None:
            return
        target = float(world.state[leader, world.spec.torso, 0])
        self.look_at(self.cam_x + 0.15 * (target - self.cam_x))

    def world_to_screen(self, points) -> np.ndarray:
        return self.camera.to_screen(points)

    def colors(self, world, fitness: np.ndarray) -> np.ndarray:
        f = np.asarray(fitness, np.float64)
        lo, hi = float(np.min(f)), float(np.max(f))
        c = np.empty((len(f), 4), np.uint8)
        c[:, :3] = ramp((f - lo) / (hi - lo) if hi > lo else np.ones_like(f))
        c[:, 3] = 170
        dim = world.terminated
        c[dim, :3] = (c[dim, :3] * 0.5).astype(np.uint8)
        c[dim, 3] = DIM_ALPHA
        return c

    def update(self, world, fitness: np.ndarray, leader: int | None) -> None:
        polys = world.body_polygons()  # (N, B, 4, 2)
        self.car_colors = self.colors(world, fitness)
        order = np.argsort(~world.terminated, kind="stable")
        per_vertex = np.repeat(self.car_colors[order], 6 * world.n_bodies, axis=0)
        self.bodies.set(quads_to_triangles(polys[order]), per_vertex)
        if leader is None:
            self.leader.hide()
            self.leader_outline.hide()
        else:
            self.leader.set(quads_to_triangles(polys[leader]), rgba(LEADER, 220))
            self.leader_outline.set(quad_outlines(polys[leader]), rgba(LEADER_OUTLINE))
        self._place_labels()

    def _place_labels(self) -> None:
        """Marker i uses pooled label ``i % N_LABELS``: its text changes only when the
        marker it shows does (scrolling moves labels, it rarely re-lays out text)."""
        vx, vy, vw, vh = self.viewport
        lo, hi = self.camera.to_world([[vx, 0], [vx + vw, 0]])[:, 0]
        shown = np.flatnonzero((self._mark_x >= lo - 1) & (self._mark_x <= hi + 1))
        shown = shown[: len(self._labels)]
        pix = self.camera.to_screen(np.stack([self._mark_x[shown], self._mark_y[shown]], 1))
        used = set()
        for i, (px, py) in zip(shown.tolist(), pix.tolist()):
            k = i % len(self._labels)
            lb = self._labels[k]
            self._label_text[k](f"{self._mark_x[i]:.0f} m")
            lb.position = (px, py - 0.4 * self.camera.scale, 0)
            # a label the viewport would cut (at its edges) is not shown at all
            if vx <= lb.left and lb.left + lb.content_width <= vx + vw and \
                    vy <= lb.bottom and lb.bottom + lb.content_height <= vy + vh:
                used.add(k)
        for k, lb in enumerate(self._labels):
            if k not in used and lb.x != -100:
                lb.position = (-100, -100, 0)

    @staticmethod
    def input_names(world) -> list[str]:
        spec = world.spec
        joints = [j.name for j in spec.joints]
        feet = [spec.bodies[f].name for f in spec.feet]
        return ["tilt", "spin", "vx", "vy", "height", *joints, *(f"{j}'" for j in joints),
                *feet]

    @staticmethod
    def output_names(world) -> list[str]:
        return [j.name for j in world.spec.joints]

    @staticmethod
    def input_note(world) -> str:
        """What the network panel's primed input names mean (joint angle, then speed)."""
        return "x' = joint x's speed"

    def delete(self) -> None:
        for m in (self.ground, self.marks, self.bodies, self.leader, self.leader_outline):
            m.delete()
        for lb in self._labels:
            lb.delete()
