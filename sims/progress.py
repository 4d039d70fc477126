"""Progress along a track's centerline, for many cars at once.

Each car keeps the index of its nearest centerline sample and moves it only a few samples per
step (by its projected along-track offset), so progress follows the road: a car cannot jump to
another part of the track by cutting across, and driving backwards lowers its signed
position without ever raising its best progress. Laps are whole multiples of the track length
of best progress.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sims.track_geometry import Track


class ProgressTracker:
    """Signed arc-length position `s` (m, unwrapped: can exceed one lap or go negative)."""

    def __init__(self, track: Track | Sequence[Track], max_step: float) -> None:
        """`max_step`: the farthest a car can move in one step (m); sets the search window.

        `track` may be a list of tracks: cars then drive on several tracks at once (which car
        on which is given to :meth:`reset`); their centerlines are concatenated, `nearest`
        indexes the concatenation and every per-track constant becomes a per-car array, so
        each car's numbers are exactly those of a tracker of its own track.
        """
        tracks = [track] if isinstance(track, Track) else list(track)
        self.tracks = tracks
        self.track = track = tracks[0]
        self._per_track = [self._constants(t, max_step) for t in tracks]
        m, self.k, self._inv_spacing, self.on_track_margin, length, self._inv_length = (
            self._per_track[0])
        self.m = m
        self.length = length
        self.s_index = np.arange(m) * track.spacing  # (M,) arc length of each sample
        # per sample: point, conjugate unit tangent, arc length + i * curvature
        self._data = np.concatenate([self._samples(t) for t in tracks])  # (sum M, 3) complex
        self._points = np.concatenate([t.points for t in tracks])
        self.offsets = np.cumsum([0] + [t.n_samples for t in tracks])  # (K + 1,)
        self._offset = None  # (N,) first sample of each car's track (several tracks)
        self.nearest = np.zeros(0, dtype=np.intp)  # (N,)
        self.lateral = np.zeros(0)  # (N,) signed offset from the centerline, > 0 left
        self.s = np.zeros(0)  # (N,) unwrapped arc length since the start line
        self.best = np.zeros(0)  # (N,) highest s reached

    @staticmethod
    def _constants(track: Track, max_step: float) -> tuple:
        """(samples, search window k, 1 / spacing, on-track margin, length, 1 / length)."""
        half = track.width / 2
        # on the inside of the tightest bend the foot point moves faster than the car
        gain = min(10.0, track.min_radius / max(track.min_radius - half, 1e-6))
        k = int(np.ceil(max_step * gain / track.spacing)) + 2
        return (track.n_samples, k, 1.0 / track.spacing, half + track.spacing, track.length,
                1.0 / track.length)

    @staticmethod
    def _samples(track: Track) -> np.ndarray:
        s_index = np.arange(track.n_samples) * track.spacing
        return np.stack(
            [
                track.points[:, 0] + 1j * track.points[:, 1],
                track.tangents[:, 0] - 1j * track.tangents[:, 1],
                s_index + 1j * track.curvature,
            ],
            axis=1,
        )  # (M, 3) complex

    def _project(
        self, pos: np.ndarray, idx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Loop arc length, arc offset from sample idx and lateral offset, all (N,), of
        positions pos (N,) complex (x + iy), seen from samples idx (N,).

        The along-track offset is divided by (1 - curvature * lateral), exact on circular arcs,
        so a car off the centerline measures the arc length of its foot point.
        """
        d = self._data[idx]  # (N, 3): point, conj(tangent), arc length + i * curvature
        local = (pos - d[:, 0]) * d[:, 1]  # along + i * lateral
        lateral = local.imag
        along = local.real / (1.0 - d[:, 2].imag * lateral)
        return d[:, 2].real + along, along, lateral

    def reset(self, pos: np.ndarray, group: np.ndarray | None = None) -> None:
        """Start tracking cars at positions (N, 2) (global nearest sample, s in (-L/2, L/2]).

        `group` (N,): the index of each car's track (several tracks; default all on 0)."""
        n = len(pos)
        if len(self.tracks) > 1:
            group = np.zeros(n, np.intp) if group is None else np.asarray(group, np.intp)
            cols = np.array(self._per_track, dtype=object)[group].T  # per constant, (N,)
            self.m, self.k = cols[0].astype(np.intp), cols[1].astype(np.intp)
            (self._inv_spacing, self.on_track_margin, self.length,
             self._inv_length) = (c.astype(np.float64) for c in cols[2:])
            self._offset = self.offsets[group].astype(np.intp)
            self.nearest = np.zeros(n, np.intp)
            for g, t in enumerate(self.tracks):
                cars = np.flatnonzero(group == g)
                if len(cars):
                    self.nearest[cars] = self._nearest(pos[cars], t.points) + self.offsets[g]
        else:
            self.nearest = self._nearest(pos, self.track.points)
        s_loop, _, self.lateral = self._project(pos[:, 0] + 1j * pos[:, 1], self.nearest)
        length = self.length
        self.s_loop = s_loop
        self.s = (s_loop + length / 2) % length - length / 2
        self.best = self.s.copy()

    @staticmethod
    def _nearest(pos: np.ndarray, points: np.ndarray) -> np.ndarray:
        d2 = ((pos[:, None, :] - points[None]) ** 2).sum(axis=2)  # (N, M)
        return d2.argmin(axis=1)

    def update(self, pos: np.ndarray, active: np.ndarray | None = None) -> np.ndarray:
        """Move cars to positions (N, 2) or (N,) complex (x + iy); returns the gain in best
        progress (N,) in metres.

        Positions are projected from each car's previous nearest sample, which then moves by
        the rounded offset, at most `k` samples. Cars not `active` (N,) bool keep their state.
        A car farther from the centerline than the track half-width plus one sample (only
        possible through a wall) is not advanced.
        """
        if pos.dtype != np.complex128:
            pos = pos[:, 0] + 1j * pos[:, 1]
        s_loop, along, lateral = self._project(pos, self.nearest)
        shift = np.rint(along * self._inv_spacing).astype(np.intp)
        np.minimum(shift, self.k, out=shift)
        np.maximum(shift, -self.k, out=shift)
        if self._offset is None:
            shift += self.nearest
            shift %= self.m
        else:  # several tracks: wrap within each car's own track
            shift += self.nearest
            shift -= self._offset
            shift %= self.m
            shift += self._offset
        delta = s_loop - self.s_loop
        delta -= self.length * np.rint(delta * self._inv_length)  # across the seam
        ok = np.abs(lateral) <= self.on_track_margin
        if active is not None:
            ok &= active
        if ok.all():
            self.nearest, self.lateral, self.s_loop, self.s = shift, lateral, s_loop, self.s + delta
        else:
            self.nearest = np.where(ok, shift, self.nearest)
            self.lateral = np.where(ok, lateral, self.lateral)
            self.s_loop = np.where(ok, s_loop, self.s_loop)
            self.s = np.where(ok, self.s + delta, self.s)
        gain = np.maximum(self.s - self.best, 0.0)
        self.best = self.best + gain
        return gain

    @property
    def laps(self) -> np.ndarray:
        """(N,) completed laps (of best progress)."""
        return np.floor(self.best / self.length).astype(np.int64)

    @property
    def fraction(self) -> np.ndarray:
        """(N,) best progress in laps (1.25 = one lap and a quarter)."""
        return self.best / self.length
