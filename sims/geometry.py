"""Plane geometry in numpy: periodic cubic spline, arc-length resampling, polyline tests.

Everything here is plain math on arrays of points `(M, 2)`; no physics and no files.
"""

from __future__ import annotations

import numpy as np


def cross2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """z-component of the cross product of 2-vectors, broadcast over leading axes."""
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def periodic_cubic_spline(points: np.ndarray, spacing: float) -> np.ndarray:
    """Closed interpolating cubic spline through `points` (n, 2), sampled about every `spacing`.

    Chord-length parameterisation; C2-continuous everywhere including the seam. Returns the
    dense samples `(m, 2)` without repeating the first one at the end.
    """
    pts = np.asarray(points, dtype=np.float64)
    n = len(pts)
    nxt = np.roll(pts, -1, axis=0)
    h = np.linalg.norm(nxt - pts, axis=1)  # (n,) chord lengths, all > 0 (checked by caller)
    h_prev = np.roll(h, 1)
    slope = (nxt - pts) / h[:, None]  # (n, 2)
    rhs = 6.0 * (slope - np.roll(slope, 1, axis=0))  # (n, 2)
    a = np.zeros((n, n))
    idx = np.arange(n)
    a[idx, idx] = 2.0 * (h_prev + h)
    a[idx, (idx - 1) % n] += h_prev
    a[idx, (idx + 1) % n] += h
    m2 = np.linalg.solve(a, rhs)  # (n, 2) second derivatives at the knots
    knots = np.concatenate([[0.0], np.cumsum(h)])  # (n+1,)
    total = knots[-1]
    count = max(int(np.ceil(total / spacing)), 4 * n)
    u = np.linspace(0.0, total, count, endpoint=False)
    i = np.clip(np.searchsorted(knots, u, side="right") - 1, 0, n - 1)
    hi = h[i][:, None]
    left = (knots[i + 1] - u)[:, None]
    right = (u - knots[i])[:, None]
    m_i, m_j = m2[i], m2[(i + 1) % n]
    y_i, y_j = pts[i], pts[(i + 1) % n]
    return (
        m_i * left**3 / (6 * hi)
        + m_j * right**3 / (6 * hi)
        + (y_i / hi - m_i * hi / 6) * left
        + (y_j / hi - m_j * hi / 6) * right
    )


def closed_arc_length(points: np.ndarray) -> np.ndarray:
    """Cumulative arc length of a closed polyline, `(m+1,)`, last entry = total length."""
    seg = np.linalg.norm(np.roll(points, -1, axis=0) - points, axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)])


def resample_closed(points: np.ndarray, count: int) -> np.ndarray:
    """`count` points evenly spaced in arc length along a closed polyline, starting at points[0]."""
    arc = closed_arc_length(points)
    loop = np.vstack([points, points[:1]])
    s = np.linspace(0.0, arc[-1], count, endpoint=False)
    return np.stack([np.interp(s, arc, loop[:, 0]), np.interp(s, arc, loop[:, 1])], axis=1)


def closed_frames(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit tangents, left normals `(m, 2)` and signed curvature `(m,)` of an evenly spaced loop.

    Central differences; curvature > 0 where the curve bends left (counter-clockwise).
    """
    nxt = np.roll(points, -1, axis=0)
    prv = np.roll(points, 1, axis=0)
    h = np.linalg.norm(nxt - points, axis=1).mean()
    d1 = (nxt - prv) / (2 * h)
    d2 = (nxt - 2 * points + prv) / h**2
    speed = np.linalg.norm(d1, axis=1)
    tangent = d1 / speed[:, None]
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    curvature = cross2(d1, d2) / speed**3
    return tangent, normal, curvature


def first_crossing(
    a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray, skip: np.ndarray | None = None
) -> tuple[int, int] | None:
    """First pair (i, j) where segment a0[i]-a1[i] properly crosses b0[j]-b1[j], or None.

    a0, a1 (na, 2) and b0, b1 (nb, 2) are segment end points; `skip` is an optional
    (na, nb) bool mask of pairs to ignore (e.g. neighbours in one polyline). Works in row
    blocks to bound memory.
    """
    na = len(a0)
    block = max(1, 200_000 // max(len(b0), 1))
    ea = a1 - a0  # (na, 2)
    eb = b1 - b0  # (nb, 2)
    for start in range(0, na, block):
        sl = slice(start, min(start + block, na))
        p, e = a0[sl, None, :], ea[sl, None, :]  # (k, 1, 2)
        o1 = cross2(e, b0[None] - p)  # (k, nb)
        o2 = cross2(e, b1[None] - p)
        o3 = cross2(eb[None], p - b0[None])
        o4 = cross2(eb[None], p + e - b0[None])
        hit = (o1 * o2 < 0) & (o3 * o4 < 0)
        if skip is not None:
            hit &= ~skip[sl]
        if hit.any():
            i, j = np.argwhere(hit)[0]
            return int(i) + start, int(j)
    return None


def closed_self_crossing(points: np.ndarray) -> tuple[int, int] | None:
    """First pair of non-adjacent segments of a closed polyline that cross, or None."""
    m = len(points)
    nxt = np.roll(points, -1, axis=0)
    i = np.arange(m)
    gap = np.abs(i[:, None] - i[None, :])
    skip = (gap <= 1) | (gap >= m - 1)
    return first_crossing(points, nxt, points, nxt, skip)


def point_segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances `(M, S)` from points `(M, 2)` to segments a-b `(S, 2)`."""
    e = b - a  # (S, 2)
    ee = np.maximum((e * e).sum(axis=1), 1e-300)  # (S,)
    w = points[:, None, :] - a[None]  # (M, S, 2)
    t = np.clip((w * e[None]).sum(axis=2) / ee[None], 0.0, 1.0)  # (M, S)
    d = w - t[..., None] * e[None]
    return np.sqrt((d * d).sum(axis=2))
