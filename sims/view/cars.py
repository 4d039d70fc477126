"""Top-down renderer of a :class:`~sims.car_world.CarWorld`: the track, every car (coloured
by fitness, done cars dimmed), the leader highlighted with its sensor rays, and optionally a
ghost: one car of another world (the previous best driving the same episode), drawn
translucent over the others."""

from __future__ import annotations

import numpy as np
from pyglet import gl

from sims.view.draw import (
    LEADER,
    LEADER_OUTLINE,
    Camera,
    Layer,
    Mesh,
    polyline_segments,
    quad_outlines,
    quads_to_triangles,
    ramp,
    rgba,
    strip_triangles,
)

GRASS = (38, 74, 48)  # background
ROAD = (72, 74, 84)  # track surface
WALL = (225, 225, 230)
START = (250, 250, 250)
GOAL = (255, 210, 60)  # a course's goal: a ring of its radius
RAY_FAR = (120, 255, 160)
RAY_NEAR = (255, 70, 70)
DIM_ALPHA = 90
GHOST = (235, 120, 255)  # the ghost car: a translucent body inside an opaque outline
GHOST_ALPHA = 110  # its body while it drives
GHOST_DONE_ALPHA = 45  # its body once it crashed, stalled or finished


def sparse_samples(curvature: np.ndarray, half_width: float, spacing: float,
                   tolerance: float) -> np.ndarray:
    """Indices of centerline samples to keep for drawing the road: the outer edge's chords
    stay within ``tolerance`` (m) of the curve.  Few long triangles rasterise much faster
    than many thin ones on a software renderer (llvmpipe)."""
    k = np.abs(curvature) / np.maximum(1.0 - np.abs(curvature) * half_width, 1e-3)
    step = np.sqrt(8.0 * tolerance / np.maximum(k, 1e-9))  # chord with sagitta = tolerance
    u = np.cumsum(spacing / np.clip(step, spacing, 12.0))
    return np.flatnonzero(np.diff(np.floor(u), prepend=-1.0) > 0)


class CarRenderer:
    """Draws a car world into ``viewport (x, y, w, h)`` of ``window`` through ``batch``.

    ``attach(world)`` once per world (cheap when the track is unchanged), then
    ``update(world, fitness, leader)`` every frame: fitness ``(N,)`` colours the cars,
    ``leader`` (an index or None) is highlighted with its own rays (with evolved sensors
    every car has its own angles and ranges).  ``update_ghost(world)`` draws the first car
    of another world (on the same track) as a ghost, ``None`` hides it."""

    background = GRASS

    def __init__(self, window, batch, viewport, order: int = 0):
        self.window, self.batch, self.viewport = window, batch, tuple(viewport)
        self.camera = Camera()
        layer = [Layer(window, order + k, self.camera) for k in range(6)]
        self.road = Mesh(batch, layer[0], gl.GL_TRIANGLES)
        self.walls = Mesh(batch, layer[1], gl.GL_LINES)
        self.rays = Mesh(batch, layer[2], gl.GL_LINES)
        self.cars = Mesh(batch, layer[3], gl.GL_TRIANGLES)
        self.leader = Mesh(batch, layer[4], gl.GL_TRIANGLES)
        self.leader_outline = Mesh(batch, layer[4], gl.GL_LINES)
        # above the leader: the ghost is often exactly on a car (an elite drives its genome)
        self.ghost = Mesh(batch, layer[5], gl.GL_TRIANGLES, 6)
        self.ghost_outline = Mesh(batch, layer[5], gl.GL_LINES, 8)
        self.ghost.hide()
        self.ghost_outline.hide()
        self.track = None
        self.n = 0
        self.car_colors = np.zeros((0, 4), np.uint8)  # (N, 4) colours of the last update

    def attach(self, world) -> None:
        """Prepare to draw ``world`` (builds the track's geometry when it changes)."""
        if world.track is not self.track:
            self.track = t = world.track
            self.camera.fit(t.bounds(), self.viewport)
            half = t.width / 2
            keep = sparse_samples(t.curvature, half, t.spacing, 0.3 / self.camera.scale)
            left = t.points[keep] + t.normals[keep] * half
            right = t.points[keep] - t.normals[keep] * half
            start = np.array([left[0], right[0]])
            road = strip_triangles(left, right, closed=True)
            self.road.set(road, rgba(ROAD))
            walls = [polyline_segments(p, closed=True) for p in world.wall_polylines()]
            walls.append(polyline_segments(start))
            n_goal = 0
            if t.goal is not None:  # a course: its goal as a ring
                a = np.linspace(0.0, 2 * np.pi, 24, endpoint=False)
                ring = t.goal + t.goal_radius * np.stack([np.cos(a), np.sin(a)], axis=1)
                walls.append(polyline_segments(ring, closed=True))
                n_goal = 2 * len(ring)
            self.walls.set(np.vstack(walls), rgba(WALL))
            colors = self.walls.colors()
            colors[len(colors) - n_goal - 2: len(colors) - n_goal] = rgba(START)
            if n_goal:
                colors[-n_goal:] = rgba(GOAL)
        if world.n_agents != self.n:
            self.n = world.n_agents
            self.cars.resize(6 * self.n)
            self.rays.resize(2 * world.n_rays)
            self.car_colors = np.zeros((self.n, 4), np.uint8)

    def world_to_screen(self, points) -> np.ndarray:
        return self.camera.to_screen(points)

    def colors(self, world, fitness: np.ndarray) -> np.ndarray:
        """``(N, 4)`` car colours: red (worst) to green (best) by fitness among the cars;
        cars that are done without finishing are dimmed."""
        f = np.asarray(fitness, np.float64)
        lo, hi = float(np.min(f)), float(np.max(f))
        c = np.empty((len(f), 4), np.uint8)
        c[:, :3] = ramp((f - lo) / (hi - lo) if hi > lo else np.ones_like(f))
        c[:, 3] = 255
        dim = world.done & ~world.finished
        c[dim, :3] = (c[dim, :3] * 0.5).astype(np.uint8)
        c[dim, 3] = DIM_ALPHA
        return c

    def update(self, world, fitness: np.ndarray, leader: int | None) -> None:
        polys = world.car_polygons()  # (N, 4, 2)
        self.car_colors = self.colors(world, fitness)
        # done cars first, so that moving cars are drawn over them
        order = np.argsort(~world.done, kind="stable")
        self.cars.set(quads_to_triangles(polys[order]), np.repeat(self.car_colors[order], 6,
                                                                   axis=0))
        if leader is None:
            self.leader.hide()
            self.leader_outline.hide()
            self.rays.hide()
            return
        quad = polys[leader]
        self.leader.set(quads_to_triangles(quad), rgba(LEADER))
        self.leader_outline.set(quad_outlines(quad), rgba(LEADER_OUTLINE))
        ends = world.ray_endpoints()[leader]  # (R, 2)
        origin = world.position[leader]
        seg = np.empty((2 * len(ends), 2))
        seg[0::2] = origin
        seg[1::2] = ends
        reach = world.ray_ranges()[leader]  # (R,) its own rays' ranges (evolved sensors)
        frac = np.linalg.norm(ends - origin, axis=1) / np.maximum(reach, 1e-9)
        frac = np.clip(frac, 0, 1)[:, None]
        col = np.empty((len(ends), 4), np.uint8)
        col[:, :3] = (np.array(RAY_NEAR) * (1 - frac) + np.array(RAY_FAR) * frac).astype(np.uint8)
        col[:, 3] = 200
        self.rays.set(seg, np.repeat(col, 2, axis=0))

    def update_ghost(self, world=None) -> None:
        """Draw the first car of ``world`` as the ghost (``None``: no ghost)."""
        if world is None:
            self.ghost.hide()
            self.ghost_outline.hide()
            return
        quad = world.car_polygons()[0]
        done = bool(world.done[0])
        self.ghost.set(quads_to_triangles(quad),
                       rgba(GHOST, GHOST_DONE_ALPHA if done else GHOST_ALPHA))
        self.ghost_outline.set(quad_outlines(quad), rgba(GHOST, 140 if done else 255))

    def focus(self, world, leader: int | None) -> None:
        """Cars: the whole track stays in view (nothing to follow)."""

    @staticmethod
    def input_names(world) -> list[str]:
        r = world.n_rays
        names = [f"ray {i}" for i in range(r)]
        if r >= 3:
            names[0], names[-1] = "right", "left"
            if r % 2:
                names[r // 2] = "ahead"
        return [*names, "speed"]

    @staticmethod
    def output_names(world) -> list[str]:
        return ["throttle", "steer"]

    @staticmethod
    def input_note(world) -> str:
        """Nothing in the input names needs explaining."""
        return ""

    def delete(self) -> None:
        for m in (self.road, self.walls, self.rays, self.cars, self.leader, self.leader_outline,
                  self.ghost, self.ghost_outline):
            m.delete()
