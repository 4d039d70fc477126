"""A closed race track as plain geometry: :class:`Track` (centerline samples, frames,
curvature, wall faces, the sensors' wall segments, the start line) and :func:`build_track`,
which smooths and validates a loop of control points into one.  :func:`with_course` adds
what turns a track into a maze-like course: barriers (straight walls anywhere on the road,
e.g. across it, which make dead ends) and a goal point.

Where tracks come from (YAML files, the shipped ones, ``procedural:SEED``) is
:mod:`sims.track`; :mod:`sims.procedural` draws the control points of random ones.  Every
user-caused problem raises :class:`~sims.errors.SimsError` with a one-line message naming the
source.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from sims.errors import SimsError
from sims.geometry import (
    closed_arc_length,
    closed_frames,
    closed_self_crossing,
    first_crossing,
    periodic_cubic_spline,
    point_segment_distance,
    resample_closed,
)

MIN_POINTS = 8
WALL_RADIUS = 0.5  # m, pymunk walls are capsules this thick on the outside of each face
SAMPLE_SPACING = 1.0  # m, centerline sample spacing used for progress
WALL_TOLERANCE = 0.05  # m, largest gap between a wall chord and the smooth wall
MAX_WALL_SEGMENT = 8.0  # m, longest straight wall segment
CHECK_SPACING = 3.0  # m, resolution of the self-crossing checks
START_CLEARANCE = 2.5  # m, room a car needs around the start line's centre (half its diagonal)


@dataclass(frozen=True, eq=False)
class Track:
    """A validated closed track. Index 0 of every per-sample array is the start line.

    Treat it as immutable: loaded tracks are cached and shared between worlds.

    Walls: the track interior lies between `left_face` and `right_face` (closed polylines of
    the inner wall surfaces). Sensor segments `seg_a -> seg_b` are oriented so the interior is
    on their right. pymunk walls are capsules of radius `wall_radius` along `left_core` and
    `right_core` (the faces pushed outward by `wall_radius`), so their surfaces are the faces.
    """

    name: str  # display name
    source: str  # file path or spec it came from (used in messages)
    width: float  # m
    wall_radius: float  # m
    points: np.ndarray  # (M, 2) centerline samples, evenly spaced, [0] = start
    tangents: np.ndarray  # (M, 2) unit tangents in driving direction
    normals: np.ndarray  # (M, 2) unit left normals
    curvature: np.ndarray  # (M,) signed, 1/m, > 0 bending left
    spacing: float  # m between consecutive samples (length / M)
    length: float  # m, centerline length
    left_face: np.ndarray  # (L, 2) closed polyline
    right_face: np.ndarray  # (Q, 2) closed polyline
    left_core: np.ndarray  # (L, 2)
    right_core: np.ndarray  # (Q, 2)
    seg_a: np.ndarray  # (S, 2) sensor segment starts
    seg_b: np.ndarray  # (S, 2) sensor segment ends
    control_points: np.ndarray  # (n, 2) the points from the file
    # set by `starting_at`: the track this one is that road from sample `moved_by` of
    moved_from: Track | None = None
    moved_by: int = 0
    # set by `with_course`: (B, 2, 2) barrier core lines (walls of radius `wall_radius`,
    # their sensor faces are part of seg_a/seg_b), the goal (2,) or None, its radius (m)
    barriers: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 2, 2)))
    goal: np.ndarray | None = None
    goal_radius: float = 0.0

    @property
    def n_samples(self) -> int:
        """Number of centerline samples M."""
        return len(self.points)

    @property
    def start_position(self) -> np.ndarray:
        """(2,) where cars start."""
        return self.points[0].copy()

    @property
    def start_heading(self) -> float:
        """Heading (rad) of the driving direction at the start."""
        return float(np.arctan2(self.tangents[0, 1], self.tangents[0, 0]))

    def starting_at(self, k: int) -> Track:
        """The same road with its start line moved to centerline sample ``k`` (the walls,
        length and driving direction are unchanged)."""
        base, k = self.moved_from or self, (self.moved_by + int(k)) % self.n_samples
        if k == 0:
            return base
        roll = {f: np.roll(getattr(base, f), -k, axis=0)
                for f in ("points", "tangents", "normals", "curvature")}
        return dataclasses.replace(base, name=f"{base.name} from {k * base.spacing:.0f} m",
                                   moved_from=base, moved_by=k, **roll)

    @property
    def min_radius(self) -> float:
        """Tightest bend radius of the centerline, m."""
        return float(1.0 / max(np.abs(self.curvature).max(), 1e-12))

    def wall_polylines(self) -> list[np.ndarray]:
        """The two wall faces as closed polylines `[(L, 2), (Q, 2)]`, then each barrier's
        outline `(4, 2)` (for drawing)."""
        return [self.left_face, self.right_face, *barrier_outlines(self.barriers,
                                                                   self.wall_radius)]

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of everything including the walls."""
        allp = np.vstack([self.left_core, self.right_core])
        lo, hi = allp.min(axis=0) - self.wall_radius, allp.max(axis=0) + self.wall_radius
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _face_indices(curvature: np.ndarray, offset: float, spacing: float) -> np.ndarray:
    """Sample indices kept as wall vertices: dense in bends, sparse on straights."""
    k = np.abs(curvature / (1.0 - curvature * offset))  # curvature of the offset curve
    step = np.sqrt(8.0 * WALL_TOLERANCE / np.maximum(k, 1e-9))  # chord with sagitta = tol
    step = np.clip(step, spacing, MAX_WALL_SEGMENT)
    u = np.cumsum(spacing / step)
    keep = np.flatnonzero(np.diff(np.floor(u), prepend=-1.0) > 0)
    return keep


def build_track(
    control_points: np.ndarray,
    width: float,
    *,
    name: str = "track",
    start: int = 0,
    source: str = "<track>",
    wall_radius: float = WALL_RADIUS,
    spacing: float = SAMPLE_SPACING,
) -> Track:
    """Smooth, validate and build a track; raises SimsError naming `source` on bad input."""
    pts = np.asarray(control_points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise SimsError(f"{source}: centerline must be a list of [x, y] pairs")
    if len(pts) > 1 and np.allclose(pts[0], pts[-1]):
        pts = pts[:-1]  # an explicitly repeated first point
    if len(pts) < MIN_POINTS:
        raise SimsError(
            f"{source}: centerline has {len(pts)} points, at least {MIN_POINTS} are needed"
        )
    if not 0 <= start < len(pts):
        raise SimsError(f"{source}: start index {start} is outside 0..{len(pts) - 1}")
    if width <= 0:
        raise SimsError(f"{source}: width must be > 0, got {width:g}")
    chords = np.linalg.norm(np.roll(pts, -1, axis=0) - pts, axis=1)  # chords[i]: i -> i+1
    if np.any(chords[:-1] < 1e-6):
        i = int(np.argmax(chords[:-1] < 1e-6))
        raise SimsError(f"{source}: centerline points {i} and {i + 1} coincide")
    typical = float(np.median(chords[:-1]))
    if chords[-1] > 3.0 * typical + width:
        raise SimsError(
            f"{source}: centerline is not closed: the last point is {chords[-1]:.1f} m from "
            f"the first (typical spacing {typical:.1f} m); end the loop near its start"
        )
    # rotate so the start point comes first, then smooth
    pts = np.roll(pts, -start, axis=0)
    dense = periodic_cubic_spline(pts, spacing / 8.0)
    length = float(closed_arc_length(dense)[-1])
    m = max(int(round(length / spacing)), MIN_POINTS)
    points = resample_closed(dense, m)
    spacing = length / m
    tangents, normals, curvature = closed_frames(points)

    stride = max(1, int(round(CHECK_SPACING / spacing)))  # crossing checks on a coarser loop
    crossing = closed_self_crossing(points[::stride])
    if crossing is not None:
        x, y = points[crossing[0] * stride]
        raise SimsError(f"{source}: centerline crosses itself near ({x:.1f}, {y:.1f})")
    half = width / 2.0
    need = half + 2.0 * wall_radius
    kmax = int(np.argmax(np.abs(curvature)))
    rmin = 1.0 / max(abs(curvature[kmax]), 1e-12)
    if rmin <= need:
        x, y = points[kmax]
        raise SimsError(
            f"{source}: width {width:g} m is too large for the curvature: the bend near "
            f"({x:.1f}, {y:.1f}) has radius {rmin:.1f} m, it must exceed {need:.1f} m"
        )
    # the outer surfaces of both walls must not cross themselves or each other
    outer_l = (points + normals * need)[::stride]
    outer_r = (points - normals * need)[::stride]
    mc = len(outer_l)
    both = np.vstack([outer_l, outer_r])
    nxt = np.vstack([np.roll(outer_l, -1, axis=0), np.roll(outer_r, -1, axis=0)])
    idx = np.arange(2 * mc)
    same = (idx[:, None] // mc) == (idx[None, :] // mc)
    gap = np.abs(idx[:, None] % mc - idx[None, :] % mc)
    skip = same & ((gap <= 1) | (gap >= mc - 1))
    hit = first_crossing(both, nxt, both, nxt, skip)
    if hit is not None:
        x, y = points[(hit[0] % mc) * stride]
        raise SimsError(
            f"{source}: the track comes closer to itself than its width allows near "
            f"({x:.1f}, {y:.1f})"
        )

    li = _face_indices(curvature, half, spacing)
    ri = _face_indices(curvature, -half, spacing)
    left_face = points[li] + normals[li] * half
    right_face = points[ri] - normals[ri] * half
    left_core = points[li] + normals[li] * (half + wall_radius)
    right_core = points[ri] - normals[ri] * (half + wall_radius)
    # interior on the right of each segment: left face forward, right face reversed
    seg_a = np.vstack([left_face, np.roll(right_face, -1, axis=0)])
    seg_b = np.vstack([np.roll(left_face, -1, axis=0), right_face])
    return Track(
        name=name,
        source=source,
        width=float(width),
        wall_radius=float(wall_radius),
        points=points,
        tangents=tangents,
        normals=normals,
        curvature=curvature,
        spacing=float(spacing),
        length=length,
        left_face=left_face,
        right_face=right_face,
        left_core=left_core,
        right_core=right_core,
        seg_a=seg_a,
        seg_b=seg_b,
        control_points=np.roll(pts, start, axis=0),
    )


def barrier_outlines(barriers: np.ndarray, radius: float) -> list[np.ndarray]:
    """Each barrier's outline, a rectangle `(4, 2)` around its core line `a -> b`, `radius`
    on every side (it encloses the pymunk capsule), counter-clockwise: its outside, where
    the cars drive, is on the right of every edge, as the sensors want."""
    out = []
    for a, b in np.asarray(barriers, np.float64).reshape(-1, 2, 2):
        u = (b - a) / np.linalg.norm(b - a)
        n = np.array([-u[1], u[0]])  # left of a -> b
        a0, b0 = a - u * radius, b + u * radius
        out.append(np.array([a0 - n * radius, b0 - n * radius, b0 + n * radius,
                             a0 + n * radius]))
    return out


def with_course(track: Track, barriers=(), goal=None, goal_radius: float = 3.0,
                source: str | None = None) -> Track:
    """``track`` with barriers and a goal: a maze-like course.

    ``barriers``: ``(B, 2, 2)`` segments ``[[x0, y0], [x1, y1]]``, walls as thick as the
    track's (cars crash into them, rays see them); a barrier across the road turns the loop
    into a corridor with two dead ends.  ``goal``: ``[x, y]`` on the road, reached by a car
    whose centre comes within ``goal_radius`` m (``CarWorld`` then ends its episode).
    Raises SimsError naming ``source`` for a degenerate barrier, a barrier on the start line,
    a goal off the road or one the cars start in."""
    where = source or track.source
    bars = np.asarray(barriers, np.float64).reshape(-1, 2, 2) if len(barriers) else (
        np.zeros((0, 2, 2)))
    if not np.all(np.isfinite(bars)):
        raise SimsError(f"{where}: barrier points must be finite numbers")
    length = np.linalg.norm(bars[:, 1] - bars[:, 0], axis=1)
    if np.any(length < 1e-6):
        raise SimsError(f"{where}: barrier {int(np.argmax(length < 1e-6))} has no length "
                        f"(its two points coincide)")
    start = track.start_position[None, :]
    if len(bars):
        clearance = point_segment_distance(start, bars[:, 0], bars[:, 1])[0]
        need = track.wall_radius + START_CLEARANCE
        if np.any(clearance < need):
            i = int(np.argmax(clearance < need))
            raise SimsError(f"{where}: barrier {i} passes {clearance[i]:.1f} m from the start "
                            f"line's centre; it must keep {need:.1f} m clear")
    goal_pt = None
    if goal is not None:
        goal_pt = np.asarray(goal, np.float64).reshape(2)
        if not np.all(np.isfinite(goal_pt)) or not goal_radius > 0:
            raise SimsError(f"{where}: the goal must be a finite [x, y] and goal_radius > 0")
        off = float(np.min(np.linalg.norm(track.points - goal_pt, axis=1)))
        if off > track.width / 2:
            raise SimsError(f"{where}: the goal ({goal_pt[0]:g}, {goal_pt[1]:g}) is off the "
                            f"road ({off:.1f} m from the centerline, half the width is "
                            f"{track.width / 2:g} m)")
        if float(np.linalg.norm(track.start_position - goal_pt)) <= goal_radius:
            raise SimsError(f"{where}: the cars would start inside the goal (goal_radius "
                            f"{goal_radius:g} m)")
    faces = barrier_outlines(bars, track.wall_radius)
    seg_a = np.vstack([track.seg_a, *faces])
    seg_b = np.vstack([track.seg_b, *(np.roll(f, -1, axis=0) for f in faces)])
    return dataclasses.replace(track, barriers=bars, goal=goal_pt,
                               goal_radius=float(goal_radius) if goal_pt is not None else 0.0,
                               seg_a=seg_a, seg_b=seg_b)
