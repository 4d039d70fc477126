"""Which cars touch a wall, for many cars at once: numpy finds the few that may, pymunk
decides for those.

Cars never collide with each other, and a car that touches a wall crashes, so between the
walls a car moves exactly as pymunk would move it (``p += v dt``, ``angle += w dt``: no
force, no damping, no contact impulse) and only the contact needs the physics engine.
:class:`WallContacts` takes each car's pose after a step and returns the cars whose box
(pymunk's box of radius ``CAR_RADIUS``) may touch a wall capsule (radius
``track.wall_radius`` around ``left_core`` / ``right_core``):

1. a per-cell bound (a cell is one centerline sample and one lateral lane, as in
   :mod:`sims.sensors`) on the distance from any point near the cell centre to the walls
   clears every car in the middle of the road with a gather and three vector ops;
2. for the rest, the exact distance between the car's box and each wall core listed for
   its cell, in the car's frame (vectorised over cars x listed segments);
3. cars within ``MARGIN`` of contact are handed to the caller, who asks pymunk.

The bound and the lists are conservative, so a car pymunk would find touching a wall is
always handed over (tests compare against stepping pymunk for every car).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from sims.geometry import point_segment_distance
from sims.track_geometry import Track

MARGIN = 0.01  # m: cars this close to contact by numpy's count go to pymunk
CAR_RADIUS = 0.02  # m, the rounding of the car's box shape (sims.car.make_car)

# per track: (lanes, reach) -> (near (C, K) int32 core-segment lists, dmin (C,), centres (C, 2))
_TABLES: weakref.WeakKeyDictionary[Track, dict[tuple, tuple]] = weakref.WeakKeyDictionary()


def core_segments(track: Track) -> tuple[np.ndarray, np.ndarray]:
    """The wall capsules' core segments ``(a (S, 2), b (S, 2))``: ``left_core`` closed, then
    ``right_core`` closed, then a course's barriers, in the order
    :class:`sims.car_world.CarWorld` adds them to pymunk."""
    bars = np.asarray(track.barriers, np.float64).reshape(-1, 2, 2)
    a = np.concatenate([track.left_core, track.right_core, bars[:, 0]])
    b = np.concatenate([np.roll(track.left_core, -1, axis=0),
                        np.roll(track.right_core, -1, axis=0), bars[:, 1]])
    return a, b


def _cell_geometry(track: Track, lanes: int) -> tuple[np.ndarray, float]:
    """Cell centres ``(M * (lanes + 2), 2)`` (cell = sample * (lanes + 2) + lane, lane 0 the
    strip right of the road) and the cell radius: a car whose centre is within it of its
    cell's centre is covered by the cell's list."""
    lane_w = track.width / lanes
    offsets = -track.width / 2 + lane_w * (np.arange(lanes + 2) - 0.5)
    centres = track.points[:, None, :] + track.normals[:, None, :] * offsets[None, :, None]
    return centres.reshape(-1, 2), float(np.hypot(lane_w / 2, track.spacing)) + 0.5


def near_table(track: Track, lanes: int, reach: float) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray, float]:
    """Per cell: the core segments within ``reach`` + the cell radius of its centre (padded
    with index S), the distance from its centre to the nearest core, and the centres;
    plus the cell radius.  Cached per track; a moved start line rolls its base's rows."""
    per = _TABLES.setdefault(track, {})
    key = (int(lanes), float(reach))
    if key not in per:
        if track.moved_from is not None:
            near, dmin, _, rho = near_table(track.moved_from, lanes, reach)
            shift = track.moved_by * (lanes + 2)
            centres, _ = _cell_geometry(track, lanes)
            per[key] = (np.roll(near, -shift, axis=0), np.roll(dmin, -shift), centres, rho)
        else:
            centres, rho = _cell_geometry(track, lanes)
            a, b = core_segments(track)
            # a cell's centre is within `spread` of its sample: only the segments within
            # spread + reach + rho of a sample can be listed for (or be nearest to) its cells
            cols = lanes + 2
            spread = track.width / 2 + track.width / lanes
            by_sample = point_segment_distance(track.points, a, b)  # (M, S)
            nearest_wall = by_sample.min(axis=1)  # bounds each cell's nearest wall distance
            keep = by_sample <= np.maximum(spread + reach + rho, nearest_wall + 2 * spread)[:, None]
            k_s = int(keep.sum(axis=1).max())
            cand = np.argsort(~keep, axis=1, kind="stable")[:, :k_s]  # (M, k_s), kept first
            valid = np.take_along_axis(keep, cand, axis=1)
            cell_cand = np.repeat(cand, cols, axis=0)  # (C, k_s)
            cell_valid = np.repeat(valid, cols, axis=0)
            w = centres[:, None, :] - a[cell_cand]  # (C, k_s, 2)
            e = (b - a)[cell_cand]
            t = np.clip((w * e).sum(axis=2) / np.maximum((e * e).sum(axis=2), 1e-300), 0, 1)
            d = w - t[..., None] * e
            dist = np.where(cell_valid, np.sqrt((d * d).sum(axis=2)), np.inf)  # (C, k_s)
            dmin = dist.min(axis=1)
            within = dist <= reach + rho
            k = max(int(within.sum(axis=1).max()), 1)
            order = np.argsort(~within, axis=1, kind="stable")[:, :k]  # listed ones first
            take = np.take_along_axis(within, order, axis=1)
            near = np.full((len(centres), k), len(a), np.int32)
            near[take] = np.take_along_axis(cell_cand, order, axis=1)[take]
            per[key] = (near, dmin, centres, rho)
    return per[key]


class WallContacts:
    """The contact screen of one car world's tracks (stacked like the sensors' tables)."""

    def __init__(self, tracks: Sequence[Track], length: float, width: float,
                 lanes: int = 12) -> None:
        self.tracks = list(tracks)
        self.lanes = int(lanes)
        self.hx, self.hy = length / 2, width / 2
        self.half_diag = float(np.hypot(self.hx, self.hy))
        # per track: how close a wall core may come to the car's box before it may touch
        touch = np.array([t.wall_radius + CAR_RADIUS + MARGIN for t in self.tracks])
        reach = float(self.half_diag + touch.max())
        parts = [near_table(t, self.lanes, reach) for t in self.tracks]
        segs = [core_segments(t) for t in self.tracks]
        seg_off = np.cumsum([0] + [len(a) for a, _ in segs])
        pad = int(seg_off[-1])
        k = max(p[0].shape[1] for p in parts)
        near = np.full((sum(len(p[0]) for p in parts), k), pad, np.int32)
        row = 0
        for g, p in enumerate(parts):
            real = p[0] < len(segs[g][0])
            near[row:row + len(p[0]), :p[0].shape[1]] = np.where(real, p[0] + seg_off[g], pad)
            row += len(p[0])
        self.near = near  # (C, K) stacked, padding -> one far-away segment
        self.centres = np.concatenate([p[2] for p in parts])  # (C, 2)
        rho = np.array([p[3] for p in parts])  # per track: the cell radius
        n_cells = [len(p[1]) for p in parts]
        # a car within its cell's radius of the centre and clear by this bound touches no
        # wall: bound = the centre's distance to the walls - what the box and contact need
        self.slack = np.concatenate([p[1] for p in parts]) - self.half_diag - np.repeat(
            touch, n_cells)  # (C,)
        self.rho = np.repeat(rho, n_cells)  # (C,)
        # squared: a car whose squared distance to its cell's centre is at most this is clear
        lim = np.minimum(self.slack, self.rho)
        self._clear2 = np.where(lim >= 0, lim * lim, -1.0)  # (C,)
        self._rho2 = self.rho * self.rho
        self.touch = touch
        a = np.concatenate([a for a, _ in segs] + [np.full((1, 2), 1e9)])
        b = np.concatenate([b for _, b in segs] + [np.full((1, 2), 1e9 + 1.0)])
        e = b - a
        n = np.stack([-e[:, 1], e[:, 0]], axis=1) / np.hypot(e[:, 0], e[:, 1])[:, None]
        # per stacked segment: unit normal, offset of its line, ends, and its contact reach
        self._seg = np.ascontiguousarray(np.column_stack(
            [n, (n * a).sum(axis=1), a, b,
             np.append(np.repeat(touch, [len(x) for x, _ in segs]), 0.0)]).T)  # (8, S + 1)
        self.seg_offsets = seg_off  # track g's segments are seg_offsets[g]:seg_offsets[g+1]
        self._lane_scale = np.array([self.lanes / t.width for t in self.tracks])
        self._lane_offset = self.lanes / 2 + 1.0

    def candidates(self, position: np.ndarray, heading: np.ndarray, nearest: np.ndarray,
                   lateral: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
        """Of N cars at ``position (N, 2)``, ``heading (N,)``, near centerline sample
        ``nearest (N,)`` (of the stacked tracks) at about ``lateral (N,)`` from it, on track
        ``group (N,)``: the indices (into these N) of the cars that may touch a wall."""
        scale = self._lane_scale[0] if group is None else self._lane_scale[group]
        lane = (lateral * scale + self._lane_offset).astype(np.intp)
        np.clip(lane, 0, self.lanes + 1, out=lane)
        cell = nearest * (self.lanes + 2) + lane
        d = position - self.centres[cell]
        d *= d
        off2 = d[:, 0] + d[:, 1]
        check = np.flatnonzero(off2 > self._clear2[cell])
        if not len(check):
            return check
        inside = off2[check] <= self._rho2[cell[check]]
        cars = []
        listed = check[inside]
        if len(listed):
            near = self._separated(position[listed], heading[listed], self.near[cell[listed]])
            cars.append(listed[~near.all(axis=1)])
        for i in check[~inside]:  # rare: far from its cell's centre; every wall of its track
            g = 0 if group is None else group[i]
            segs = np.arange(self.seg_offsets[g], self.seg_offsets[g + 1])[None]
            if not self._separated(position[i:i + 1], heading[i:i + 1], segs).all():
                cars.append(np.array([i]))
        return np.sort(np.concatenate(cars)) if cars else check[:0]

    def _separated(self, position: np.ndarray, heading: np.ndarray,
                   segs: np.ndarray) -> np.ndarray:
        """``(n, K)``: True where the box of car i, grown by the segment's contact reach, and
        segment ``segs[i, k]`` have a separating axis (the box's two axes or the segment's
        normal): they cannot touch.  False means they may."""
        nx, ny, off, ax, ay, bx, by, r = self._seg[:, segs]  # each (n, K)
        c, s = np.cos(heading)[:, None], np.sin(heading)[:, None]
        x, y = position[:, 0, None], position[:, 1, None]
        # the segment's normal: the centre's distance from its line against the box's extent
        nu = nx * c + ny * s  # n . u, u the car's forward axis
        nv = ny * c - nx * s  # n . v, v its left axis
        far = np.abs(nx * x + ny * y - off) > self.hx * np.abs(nu) + self.hy * np.abs(nv) + r
        # the box's axes: both ends of the segment beyond one face (grown by r)
        ax, ay, bx, by = ax - x, ay - y, bx - x, by - y
        for (cu, su), h in (((c, s), self.hx), ((-s, c), self.hy)):
            pa = ax * cu + ay * su
            pb = bx * cu + by * su
            far |= (np.minimum(pa, pb) > h + r) | (np.maximum(pa, pb) < -h - r)
        return far
