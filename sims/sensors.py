"""Batched ray sensors: distances from every car along every ray to the nearest wall.

Matrix form in numpy, no pymunk queries. A table built once per track lists, for each cell
(centerline sample x lateral lane) and each sector of absolute ray direction, the few wall
segments that a ray starting in that cell and pointing into that sector could cross (a
conservative angular test). A reading gathers each ray's list and intersects all rays with
their candidates in one (K, R, N) pass, K being 10-20 instead of the ~300 wall segments.
The answer is exactly that of testing every segment (see `read_all_walls`).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sims.errors import SimsError
from sims.geometry import point_segment_distance
from sims.track_geometry import Track


@dataclass(frozen=True)
class SensorParams:
    """Ray fan of every car."""

    n_rays: int = 5  # number of rays
    fov: float = np.pi  # rad, angle between the outermost rays (centred on the heading)
    range: float = 50.0  # m, longest distance a ray reports

    def __post_init__(self) -> None:
        if self.n_rays < 1:
            raise SimsError(f"sensors: n_rays must be >= 1, got {self.n_rays}")
        if not 0.0 <= self.fov <= 2 * np.pi:
            raise SimsError(f"sensors: fov must be in [0, 2 pi] rad, got {self.fov:g}")
        if self.range <= 0:
            raise SimsError(f"sensors: range must be > 0 m, got {self.range:g}")

    @property
    def angles(self) -> np.ndarray:
        """(R,) ray angles relative to the heading; index 0 is the rightmost ray."""
        if self.n_rays == 1:
            return np.zeros(1)
        return np.linspace(-self.fov / 2, self.fov / 2, self.n_rays)


def ray_hits(
    ox: np.ndarray,
    oy: np.ndarray,
    dx: np.ndarray,
    dy: np.ndarray,
    seg: np.ndarray,
    cand: np.ndarray,
    max_dist: float,
) -> np.ndarray:
    """Distance along each ray to the first front-facing wall segment it crosses.

    Ray-major layout so that every elementwise op runs along the long car axis: origins
    (ox, oy) of shape (N,), unit directions (dx, dy) of shape (R, N); `seg` (4, S+1) holds
    segment starts and edge vectors (ax, ay, ex, ey), oriented with the track interior on their
    right; `cand` (K, R, N) the segment indices tested for each ray. Returns (R, N), capped at
    `max_dist`.
    """
    ax, ay, ex, ey = np.take(seg, cand, axis=1)  # 4 x (K, R, N)
    wx = ax - ox  # (K, R, N) ray origin -> segment start
    wy = ay - oy
    denom = dx * ey
    denom -= dy * ex  # cross(d, e): < 0 for a front face, 0 for the padding segment
    num_s = wx * dy
    num_s -= wy * dx  # s = num_s / denom: where along the segment
    num_t = wx * ey
    num_t -= wy * ex  # t = num_t / denom: how far along the ray
    # num_s, num_t <= 0 and num_s > denom: 0 <= s < 1, t >= 0 and denom < 0
    hit = np.maximum(num_s, num_t) <= 0
    hit &= num_s > denom
    np.divide(num_t, denom, out=num_t, where=hit)  # t, only where there is a hit
    return np.minimum.reduce(num_t, axis=0, where=hit, initial=max_dist)


def _wrap(angle: np.ndarray) -> np.ndarray:
    """Angles folded into [-pi, pi)."""
    return (angle + np.pi) % (2 * np.pi) - np.pi


def build_candidate_table(
    track: Track, max_range: float, lanes: int, bins: int
) -> tuple[np.ndarray, float]:
    """Per (cell, direction bin) list of the wall segments a ray could hit, padded to K.

    A cell is one centerline sample and one of `lanes` lateral strips of the track (plus one
    strip beyond each wall, cell = sample * (lanes + 2) + lane); a bin is one
    of `bins` equal sectors of absolute ray direction. A segment is listed when some ray from a
    point within `rho` of the cell centre, pointing into the bin, could reach it within
    `max_range` and cross it from the track side (conservative: the segment's angular extent
    seen from the centre, widened by asin(rho / distance)). Returns (table (C * B, K) with index
    S for padding, rho).
    """
    lane_w = track.width / lanes
    offsets = -track.width / 2 + lane_w * (np.arange(lanes + 2) - 0.5)  # (lanes + 2,)
    centres = track.points[:, None, :] + track.normals[:, None, :] * offsets[None, :, None]
    centres = centres.reshape(-1, 2)  # (C, 2), cell c = sample * lanes + lane
    rho = float(np.hypot(lane_w / 2, track.spacing)) + 0.1
    a, b = track.seg_a, track.seg_b
    n_seg = len(a)
    dist = point_segment_distance(centres, a, b)  # (C, S)
    ci, si = np.nonzero(dist <= max_range + rho)  # candidate pairs
    d = dist[ci, si]
    va = a[si] - centres[ci]
    vb = b[si] - centres[ci]
    ang_a = np.arctan2(va[:, 1], va[:, 0])
    span = _wrap(np.arctan2(vb[:, 1], vb[:, 0]) - ang_a)
    mid = ang_a + span / 2
    widen = np.arcsin(np.minimum(1.0, rho / np.maximum(d, 1e-9)))
    half = np.where(d > rho, np.abs(span) / 2 + widen, np.pi)  # angular half-width
    width = 2 * np.pi / bins
    lo = np.floor((mid - half) / width).astype(np.int64)
    count = np.minimum(np.floor((mid + half) / width).astype(np.int64) - lo + 1, bins)
    pair = np.repeat(np.arange(len(ci)), count)
    k = np.arange(len(pair)) - np.repeat(np.cumsum(count) - count, count)
    binn = (lo[pair] + k) % bins
    # front faces only: ray direction theta with sin(phi - theta) < 0, phi = segment angle
    e = b - a
    phi = np.arctan2(e[:, 1], e[:, 0])
    centre_angle = (binn + 0.5) * width
    facing = np.abs(_wrap(centre_angle - (phi[si[pair]] + np.pi / 2))) <= np.pi / 2 + width / 2
    pair, binn = pair[facing], binn[facing]
    key = ci[pair] * bins + binn
    order = np.argsort(key, kind="stable")
    key, seg = key[order], si[pair][order]
    n_rows = len(centres) * bins
    per_row = np.bincount(key, minlength=n_rows)
    k_max = max(int(per_row.max()), 1)
    rank = np.arange(len(key)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    table = np.full((n_rows, k_max), n_seg, dtype=np.int32)
    table[key, rank] = seg
    return table, rho


# per track: (max_range, lanes, bins) -> (table, rho), and ("counts", ...) -> counts
_TABLES: weakref.WeakKeyDictionary[Track, dict[tuple, object]] = weakref.WeakKeyDictionary()


def candidate_table(
    track: Track, max_range: float, lanes: int, bins: int
) -> tuple[np.ndarray, float]:
    """:func:`build_candidate_table`, cached per track: (C * B, K) int32, one row per
    (cell, bin), so that a ray's K candidates lie together in memory (one or two cache
    lines per ray; the table is several MB and rays land all over it).

    A track with a moved start line (:meth:`Track.starting_at`) is the same road with its
    samples renumbered: its table is its base track's, rolled by whole cells."""
    per_track = _TABLES.setdefault(track, {})
    key = (float(max_range), lanes, bins)
    if key not in per_track:
        if track.moved_from is not None:
            table, rho = candidate_table(track.moved_from, max_range, lanes, bins)
            shift = track.moved_by * (lanes + 2) * bins  # table rows are (cell, bin)
            per_track[key] = (np.roll(table, -shift, axis=0), rho)
        else:
            table, rho = build_candidate_table(track, max_range, lanes, bins)
            per_track[key] = (np.ascontiguousarray(table, dtype=np.int32), rho)
    return per_track[key]


def candidate_counts(track: Track, max_range: float, lanes: int, bins: int) -> np.ndarray:
    """(C * B,) how many entries of each row of :func:`candidate_table` are real segments
    (they come first; the rest is padding), in the smallest integer type; cached per track.
    2.75 on average over the default track's rows, K = 13 at most."""
    per_track = _TABLES.setdefault(track, {})
    key = ("counts", float(max_range), lanes, bins)
    if key not in per_track:
        table, _ = candidate_table(track, max_range, lanes, bins)
        counts = np.count_nonzero(table < len(track.seg_a), axis=1)
        per_track[key] = counts.astype(np.min_scalar_type(table.shape[1]))
    return per_track[key]


class RaySensor:
    """Ray fan against one track's walls, for any number of cars at once.

    `lanes` x `bins` set the resolution of the candidate table (see
    :func:`build_candidate_table`); two extra lanes just outside the walls catch cars whose
    centre is reported past the edge, so no clipping is needed.
    """

    def __init__(
        self, track: Track | Sequence[Track], params: SensorParams | None = None,
        lanes: int = 4, bins: int = 64, max_range: float | None = None,
    ) -> None:
        """`track` may be a list of tracks: cars then drive on several at once (:meth:`read`
        takes each car's track); the tracks' tables and segments are stacked with offsets,
        so one gather serves every car and each reading equals its own track's exactly.
        `max_range` (m, at least the fan's range): the longest ray :meth:`set_layout` may
        give a car (the candidate tables are built for it)."""
        if bins & (bins - 1):
            raise ValueError("bins must be a power of two")
        tracks = [track] if isinstance(track, Track) else list(track)
        self.tracks = tracks
        self.track = track = tracks[0]
        self.params = params or SensorParams()
        self.angles = self.params.angles  # (R,)
        self.range = float(self.params.range)
        # the tables' range: every ray of every car reaches at most this far
        self.max_range = max(self.range, float(max_range or 0.0))
        self.lanes = lanes
        self.bins = bins
        if len(tracks) == 1:
            # (C * B, K)
            self.table, self.rho = candidate_table(track, self.max_range, lanes, bins)
            # a reading tests only as many candidates as its rays need
            self._counts = candidate_counts(track, self.max_range, lanes, bins)  # (C * B,)
        else:
            self.table, self.rho, self._counts = self._stacked_table(tracks)
        # segment data with one degenerate padding segment (index S) that no ray can hit
        seg_a = np.concatenate([t.seg_a for t in tracks])
        e = np.concatenate([t.seg_b - t.seg_a for t in tracks])
        self.seg = np.stack(
            [
                np.append(seg_a[:, 0], 1e9),
                np.append(seg_a[:, 1], 1e9),
                np.append(e[:, 0], 0.0),
                np.append(e[:, 1], 0.0),
            ]
        )  # (4, S+1)
        self._lane_scale = lanes / track.width
        # per track (several tracks): lanes per metre, indexed by each car's track
        self._lane_scales = np.array([lanes / t.width for t in tracks])
        self._lane_offset = lanes / 2 + 1.0  # lane 0 is the extra one right of the track
        bin_scale = bins / (2 * np.pi)
        self._bin_scale = bin_scale
        # + a large multiple of `bins` keeps the value positive so truncation is floor
        self._bin_offset = (self.angles * bin_scale + bins * 2**24)[:, None]  # (R, 1)
        self.layout: tuple[np.ndarray, np.ndarray] | None = None  # per-car (angles, ranges)
        self.inv_range: float | np.ndarray = 1.0 / self.range  # or (N, R), per car
        self.last_origin = np.zeros((0, 2))  # (N, 2) of the last reading, for drawing
        self.last_angle = np.zeros((self.params.n_rays, 0))  # (R, N) absolute ray angles
        self.last_distance = np.zeros((self.params.n_rays, 0))  # (R, N) metres

    def _stacked_table(self, tracks: list[Track]) -> tuple[np.ndarray, float, np.ndarray]:
        """The tracks' candidate tables one after the other (rows in the order of their
        concatenated centerline samples), segment indices shifted to the stacked segments,
        padding pointing at the one shared padding segment; with the stacked counts."""
        lanes, bins = self.lanes, self.bins
        parts = [candidate_table(t, self.max_range, lanes, bins) for t in tracks]
        n_seg = np.cumsum([0] + [len(t.seg_a) for t in tracks])
        k_max = max(table.shape[1] for table, _ in parts)
        rows = sum(len(table) for table, _ in parts)
        stacked = np.full((rows, k_max), n_seg[-1], dtype=np.int32)
        row = 0
        for g, (table, _) in enumerate(parts):
            real = table < len(tracks[g].seg_a)
            stacked[row: row + len(table), : table.shape[1]] = np.where(
                real, table + n_seg[g], n_seg[-1])
            row += len(table)
        counts = np.concatenate([candidate_counts(t, self.max_range, lanes, bins)
                                 for t in tracks])
        return stacked, max(rho for _, rho in parts), counts

    @property
    def n_candidates(self) -> int:
        """K, the longest candidate list of any (cell, bin)."""
        return int(self.table.shape[1])

    def set_layout(self, angles: np.ndarray | None, ranges: np.ndarray | None = None) -> None:
        """Give every car its own rays: `angles` (N, R) rad from the heading and `ranges`
        (N, R) m, each in (0, max_range]; None: every car has the params' fan (the fixed
        layout, read as before). Applies to the next reading; readings normalised by the
        world divide by each car's own ranges (:attr:`inv_range`)."""
        if angles is None:
            self.layout, self.inv_range = None, 1.0 / self.range
            return
        r = self.params.n_rays
        angles = np.asarray(angles, np.float64)
        ranges = np.asarray(ranges, np.float64)
        if angles.ndim != 2 or angles.shape[1] != r or ranges.shape != angles.shape:
            raise SimsError(f"sensors: per-car angles and ranges must both have shape (N, {r}), "
                            f"got {angles.shape} and {ranges.shape}")
        if not np.all(np.abs(angles) <= np.pi):
            raise SimsError("sensors: per-car ray angles must be in [-pi, pi] rad")
        if not np.all((ranges > 0) & (ranges <= self.max_range)):
            raise SimsError(f"sensors: per-car ray ranges must be in (0, {self.max_range:g}] m "
                            f"(the sensor tables' range)")
        self._ang = np.ascontiguousarray(angles.T)  # (R, N)
        self._ang_bins = self._ang * self._bin_scale + self.bins * 2**24  # (R, N), as above
        self._ranges = np.ascontiguousarray(ranges.T)  # (R, N)
        self.layout = (angles.copy(), ranges.copy())
        self.inv_range = (1.0 / self._ranges).T  # (N, R) view: obs = distance * inv_range

    def ranges(self, n: int) -> np.ndarray:
        """(N, R) each car's ray ranges (m), for `n` cars without a per-car layout."""
        if self.layout is None:
            return np.full((n, self.params.n_rays), self.range)
        return self.layout[1]

    def read(
        self, position: np.ndarray, heading: np.ndarray, nearest: np.ndarray, lateral: np.ndarray,
        group: np.ndarray | None = None, cars: np.ndarray | None = None,
    ) -> np.ndarray:
        """Distances (R, N) in metres, capped at the range (ray-major).

        position (N, 2); heading (N,); nearest (N,) index of each car's nearest centerline
        sample and lateral (N,) its signed offset from it (both from the progress tracker);
        together they pick the candidate wall segments of each ray. With several tracks,
        `group` (N,) is each car's track and `nearest` indexes the concatenated samples.
        With a per-car layout (:meth:`set_layout`), `cars` (N,) says which of its cars these
        are (None: all, in order), and each ray is capped at its own range.
        """
        if self.layout is None:
            ang = self.angles[:, None] + heading  # (R, N)
            bin_offset = self._bin_offset  # (R, 1)
        else:  # the same sums, with each car's own angles (the table is by absolute angle)
            ang, bin_offset = self._ang, self._ang_bins  # (R, N)
            if cars is not None:
                ang, bin_offset = ang[:, cars], bin_offset[:, cars]
            ang = ang + heading
        scale = self._lane_scale if group is None else self._lane_scales[group]
        cell = (lateral * scale + self._lane_offset).astype(np.intp)  # (N,) lane
        cell += nearest * (self.lanes + 2)
        cell *= self.bins
        rows = (heading * self._bin_scale + bin_offset).astype(np.intp)  # (R, N) bin
        rows &= self.bins - 1
        rows += cell
        k = int(self._counts[rows].max(initial=1))  # the most candidates of any of these rays
        cand = np.take(self.table, rows, axis=0)[:, :, :k].transpose(2, 0, 1)  # (k, R, N) view
        ox, oy = position.T.copy()  # contiguous (N,) each
        if self.layout is None:
            dist = ray_hits(ox, oy, np.cos(ang), np.sin(ang), self.seg, cand, self.range)
        else:  # the tables cover max_range; min is exact, so this equals a table of each range
            dist = ray_hits(ox, oy, np.cos(ang), np.sin(ang), self.seg, cand, self.max_range)
            np.minimum(dist, self._ranges if cars is None else self._ranges[:, cars], out=dist)
        self.last_origin, self.last_angle, self.last_distance = position, ang, dist
        return dist

    def read_all_walls(self, position: np.ndarray, heading: np.ndarray) -> np.ndarray:
        """Like :meth:`read` but testing every wall segment (reference, slower). (R, N)."""
        ang = (self.angles[:, None] if self.layout is None else self._ang) + heading
        n_seg = self.seg.shape[1] - 1
        cand = np.broadcast_to(np.arange(n_seg)[:, None, None], (n_seg,) + ang.shape)
        dist = ray_hits(position[:, 0], position[:, 1], np.cos(ang), np.sin(ang), self.seg,
                        cand, self.max_range)
        return np.minimum(dist, self.range if self.layout is None else self._ranges)

    def ray_endpoints(self) -> np.ndarray:
        """(N, R, 2) where each ray of the last reading ended (wall hit or full range)."""
        d = self.last_distance
        x = self.last_origin[:, 0] + np.cos(self.last_angle) * d  # (R, N)
        y = self.last_origin[:, 1] + np.sin(self.last_angle) * d
        return np.stack([x.T, y.T], axis=-1)
