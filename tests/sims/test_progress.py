"""Progress along the centerline: monotonic forwards, no gain backwards or by cutting across."""

from __future__ import annotations

import numpy as np

from sims.geometry import periodic_cubic_spline
from sims.progress import ProgressTracker


def _centerline_path(track, step: float) -> np.ndarray:
    """Points on the smooth centerline spaced about `step` m apart, from the start, 1.2 laps."""
    dense = periodic_cubic_spline(track.control_points, step / 4)
    start = np.argmin(np.linalg.norm(dense - track.points[0], axis=1))
    dense = np.roll(dense, -start, axis=0)
    dense = np.vstack([dense, dense[:1]])  # close the loop
    seg = np.linalg.norm(np.diff(dense, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    s = np.arange(0.0, 1.2 * arc[-1], step) % arc[-1]
    return np.stack([np.interp(s, arc, dense[:, 0]), np.interp(s, arc, dense[:, 1])], axis=1)


def test_progress_is_monotonic_along_the_centerline_and_counts_a_lap(default_track) -> None:
    path = _centerline_path(default_track, 0.5)
    tracker = ProgressTracker(default_track, max_step=0.5)
    tracker.reset(path[:1])
    s = [tracker.s[0]]
    for p in path[1:]:
        tracker.update(p[None])
        s.append(tracker.s[0])
    ds = np.diff(s)
    assert ds.min() > 0.0, ds.min()
    assert np.allclose(ds, 0.5, atol=0.01)
    assert tracker.laps[0] == 1
    assert abs(tracker.best[0] - 0.5 * (len(path) - 1)) < 0.01 * default_track.length


def test_reversing_never_adds_progress(default_track) -> None:
    path = _centerline_path(default_track, 0.5)
    tracker = ProgressTracker(default_track, max_step=0.5)
    tracker.reset(path[200:201])
    gains = []
    for p in path[199::-1]:  # drive backwards through the start line and beyond
        gains.append(tracker.update(p[None])[0])
    lap = int(round(default_track.length / 0.5))  # path[lap] is back at the start line
    for p in path[lap - 1 : lap - 301 : -1]:  # and keep going backwards around the loop
        gains.append(tracker.update(p[None])[0])
    assert max(gains) == 0.0
    assert tracker.s[0] < -100.0 and abs(tracker.best[0] - 100.0) < 0.1 and tracker.laps[0] == 0


def test_cutting_across_the_infield_gains_nothing(oval_track) -> None:
    t = oval_track
    start = t.points[0]  # on the bottom straight, heading +x
    for x in (0.0, 100.0):  # straight across, and diagonally to a point ~480 m further on
        target = start + np.array([x, 120.0])  # on the top straight, 120 m across the infield
        far = t.points[np.argmin(np.linalg.norm(t.points - target, axis=1))]
        ahead = (np.argmin(np.linalg.norm(t.points - target, axis=1)) * t.spacing) % t.length
        assert ahead > 400.0
        tracker = ProgressTracker(t, max_step=0.5)
        tracker.reset(start[None])
        chord = start + np.linspace(0.0, 1.0, 400)[:, None] * (far - start)
        total = sum(tracker.update(p[None])[0] for p in chord)
        # only what it gains while still between the walls of the bottom straight
        assert total < 0.15 * x + 1.0
        assert tracker.best[0] < 20.0


def test_many_cars_are_tracked_independently(default_track) -> None:
    path = _centerline_path(default_track, 0.5)
    tracker = ProgressTracker(default_track, max_step=0.5)
    tracker.reset(np.stack([path[0], path[0]]))
    for k in range(1, 100):
        tracker.update(np.stack([path[k], path[0]]), active=np.array([True, True]))
    assert tracker.best[0] > 45.0 and abs(tracker.best[1]) < 1e-9
