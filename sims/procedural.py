"""Procedural tracks from a seed, of selectable difficulty in [0, 1].

Up to difficulty 0.5 a track is a smooth closed star-shaped loop r(theta) = R (1 + Fourier
terms): 0 gives a wide (16-18 m), gently curving loop, 0.5 a narrower one (13-15 m) with bends
down to ~28 m radius. Above 0.5 the centerline is a polygon with rounded corners (straights
joined by arcs of chosen radii) that gains road features as the difficulty rises, with the
road narrowing to 12-13 m at 1.0: hairpins at the end of long straights (a finger run out past
a corner, out of an edge or into the loop; 150-200 degrees around a 16.5-19.5 m radius at 1.0),
chicanes (quick left-right jogs) and S-bends. Just above 0.5 there are no features yet and the
bends are as tight as at 0.5; `track_features` measures all of this on any track.

The same (seed, difficulty) always gives the same track; candidates that fail validation are
redrawn from the same generator. Tracks up to difficulty 0.5 are exactly those of the first
version of this module (benchmarks were recorded on them).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sims.errors import SimsError
from sims.track_geometry import WALL_RADIUS, Track, build_track

MAX_ATTEMPTS = 200
MAX_LENGTH = 1400.0  # m
MIN_LENGTH = 500.0  # m, featured tracks (difficulty > 0.5)
FEATURES_ABOVE = 0.5  # difficulties above this get the featured generator


def parse_procedural_spec(spec: str, what: str = "track") -> tuple[int, float]:
    """'procedural:SEED[:DIFFICULTY]' -> (seed, difficulty); errors name ``what`` (a track,
    a terrain)."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or parts[0] != "procedural":
        raise SimsError(f"{what} '{spec}': expected procedural:SEED or procedural:SEED:DIFFICULTY")
    try:
        seed = int(parts[1])
    except ValueError:
        raise SimsError(f"{what} '{spec}': SEED must be a non-negative integer") from None
    if seed < 0:
        raise SimsError(f"{what} '{spec}': SEED must be a non-negative integer")
    difficulty = 0.5
    if len(parts) == 3:
        try:
            difficulty = float(parts[2])
        except ValueError:
            raise SimsError(f"{what} '{spec}': DIFFICULTY must be a number in [0, 1]") from None
        if not 0.0 <= difficulty <= 1.0:
            raise SimsError(f"{what} '{spec}': DIFFICULTY must be in [0, 1], got {difficulty:g}")
    return seed, difficulty


@lru_cache(maxsize=32)
def procedural_track(seed: int, difficulty: float = 0.5) -> Track:
    """A valid random track, a pure function of (seed, difficulty) (cached)."""
    rng = np.random.default_rng([seed, int(round(difficulty * 1000))])
    name = f"procedural:{seed}:{difficulty:g}"
    if difficulty <= FEATURES_ABOVE:
        return _star_track(rng, difficulty, name)
    return _featured_track(rng, difficulty, name)


# ---------------------------------------------------------------------------------------------
# difficulty <= 0.5: star-shaped loops (unchanged, bit for bit)


def _candidate(rng: np.random.Generator, difficulty: float) -> tuple[np.ndarray, float]:
    """Control points (n, 2) and width of one random loop r(theta) = R (1 + Fourier terms)."""
    n = 36
    harmonics = 2 + int(round(4 * difficulty)) + int(rng.integers(0, 2))
    base = rng.uniform(70.0, 110.0)  # m, mean radius
    amp = 0.10 + 0.10 * difficulty
    theta = 2 * np.pi * np.arange(n) / n
    k = np.arange(2, harmonics + 2)[:, None]  # (H, 1)
    coef = amp * rng.uniform(0.3, 1.0, (len(k), 1)) / np.sqrt(k - 1)
    phase = rng.uniform(0, 2 * np.pi, (len(k), 1))
    radius = base * (1.0 + (coef * np.cos(k * theta[None] + phase)).sum(axis=0))  # (n,)
    pts = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
    width = 17.0 - 6.0 * difficulty + rng.uniform(-1.0, 1.0)
    return pts, width


def _star_track(rng: np.random.Generator, difficulty: float, name: str) -> Track:
    min_radius = 40.0 - 25.0 * difficulty  # m, tightest bend allowed
    for _ in range(MAX_ATTEMPTS):
        pts, width = _candidate(rng, difficulty)
        try:
            track = build_track(pts, width, name=name, source=name)
        except SimsError:
            continue
        if track.min_radius < min_radius:
            scale = min_radius / track.min_radius * 1.02  # grow the loop to open its bends
            if track.length * scale > MAX_LENGTH:
                continue
            try:
                track = build_track(pts * scale, width, name=name, source=name)
            except SimsError:
                continue
        if track.min_radius >= min_radius:
            return track
    raise SimsError(f"track '{name}': no valid track found in {MAX_ATTEMPTS} attempts")


# ---------------------------------------------------------------------------------------------
# difficulty > 0.5: rounded polygons with hairpins, chicanes and S-bends

GAP = 2.0  # m, shortest straight left between two rounded corners
ARC_STEP = 3.0  # m, control point spacing along arcs
LINE_STEP = 5.0  # m, control point spacing along straights
NEAR_ARC = 25.0  # m, parts of the loop this far apart along it are checked for clearance


def _rot(v: np.ndarray) -> np.ndarray:
    """v turned 90 degrees left."""
    return np.array([-v[1], v[0]])


def _turns(verts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per vertex of a closed polygon: signed turn (rad, > 0 left), unit edge directions out
    of it `(n, 2)`, and the lengths of those edges `(n,)`."""
    edge = np.roll(verts, -1, axis=0) - verts
    length = np.linalg.norm(edge, axis=1)
    out = edge / length[:, None]
    inc = np.roll(out, 1, axis=0)
    turn = np.arctan2(inc[:, 0] * out[:, 1] - inc[:, 1] * out[:, 0], (inc * out).sum(axis=1))
    return turn, out, length


def _fit_radii(verts: np.ndarray, radii: np.ndarray) -> np.ndarray | None:
    """Radii shrunk where two neighbouring corners do not fit on their edge; None if the
    polygon has a degenerate edge or a corner turning (almost) straight back."""
    turn, _, length = _turns(verts)
    if length.min() < GAP or np.abs(turn).max() > np.radians(170.0):
        return None
    tan = np.tan(np.abs(turn) / 2.0)
    r = radii.copy()
    for _ in range(8):
        tang = r * tan
        need = tang + np.roll(tang, -1)  # on edge i -> i+1
        over = need > length - GAP
        if not over.any():
            return r
        f = np.where(over, (length - GAP) / np.maximum(need, 1e-9), 1.0)
        r = r * np.minimum(f, np.roll(f, 1))
    return None


def _render(verts: np.ndarray, radii: np.ndarray) -> tuple[np.ndarray, int]:
    """Control points of the polygon with corner i rounded to radii[i] (arcs every ARC_STEP,
    straights every LINE_STEP), and the index where its longest straight begins."""
    turn, out, length = _turns(verts)
    inc = np.roll(out, 1, axis=0)
    tang = radii * np.tan(np.abs(turn) / 2.0)
    pieces: list[np.ndarray] = []
    count, best, best_len = 0, 0, -1.0
    for i in range(len(verts)):
        a = turn[i]
        start = verts[i] - tang[i] * inc[i]
        if abs(a) > 1e-9:
            normal = _rot(inc[i]) * np.sign(a)
            centre = start + radii[i] * normal
            n = max(2, int(np.ceil(radii[i] * abs(a) / ARC_STEP)))
            ang = np.arctan2(*(start - centre)[::-1]) + a * np.arange(n + 1) / n
            arc = centre + radii[i] * np.stack([np.cos(ang), np.sin(ang)], axis=1)
        else:
            arc = start[None]
        pieces.append(arc)
        count += len(arc)
        end = arc[-1]
        free = length[i] - tang[i] - tang[(i + 1) % len(verts)]
        n = int(free // LINE_STEP)
        if free > best_len:
            best, best_len = count - 1, free
        if n >= 2:
            f = np.arange(1, n)[:, None] / n
            pieces.append(end + f * free * out[i])
            count += n - 1
    return np.vstack(pieces), best


def _crowded(points: np.ndarray, clearance: float) -> bool:
    """True if two parts of a closed polyline more than NEAR_ARC apart along it come closer
    than `clearance` (a cheap stand-in for build_track's wall checks)."""
    seg = np.linalg.norm(np.roll(points, -1, axis=0) - points, axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)[:-1]])
    total = s[-1] + seg[-1]
    sep = np.abs(s[:, None] - s[None, :])
    sep = np.minimum(sep, total - sep)
    d2 = ((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
    return bool(np.any(d2[sep > NEAR_ARC] < clearance**2))


def _hairpin_on_edge(
    rng: np.random.Generator, t: float, inward: bool
) -> tuple[np.ndarray, np.ndarray, float]:
    """A finger across an edge (edge-local x along it, y to its left): in or out along a leg,
    round a hairpin, back along the other leg. Returns (xy, radii, span)."""
    r_h = rng.uniform(16.5, 19.5) + 10.0 * (1.0 - t)
    r_b = rng.uniform(18.0, 26.0) + 6.0 * (1.0 - t)
    lean = np.radians(rng.uniform(-10.0, 12.0))  # > 0: the legs converge towards the tip
    beta = np.pi / 2 - lean  # turn of each of the four corners
    tan = np.tan(beta / 2)
    depth = r_b * tan + r_h * tan + (rng.uniform(25.0, 45.0) if inward else rng.uniform(30, 70))
    w = 2.0 * r_h * tan + rng.uniform(1.0, 5.0)
    dx = depth * np.tan(lean)
    x0 = r_b * tan + GAP
    y = depth if inward else -depth
    xy = np.array([[x0, 0.0], [x0 + dx, y], [x0 + dx + w, y], [x0 + 2 * dx + w, 0.0]])
    return xy, np.array([r_b, r_h, r_h, r_b]), x0 + 2 * dx + w + r_b * tan + GAP


def _jog(
    rng: np.random.Generator, t: float, sbend: bool
) -> tuple[np.ndarray, np.ndarray, float]:
    """A chicane (quick left-right jog across the road) or an S-bend (a run of alternating
    bends) along an edge. Returns (xy, radii, span) in edge-local coordinates."""
    side = 1.0 if rng.random() < 0.5 else -1.0
    if sbend:
        n = int(rng.integers(2, 5))  # bends inside the S
        step = rng.uniform(34.0, 48.0)
        amp = rng.uniform(6.0, 11.0)
        r = rng.uniform(20.0, 28.0) + 8.0 * (1.0 - t)
        x = step * np.arange(n + 2)
        y = np.concatenate([[0.0], amp * side * (-1.0) ** np.arange(n), [0.0]])
    else:
        a, b = rng.uniform(14.0, 22.0), rng.uniform(16.0, 28.0)
        h = rng.uniform(4.0, 6.5)
        r = rng.uniform(15.0, 22.0) + 8.0 * (1.0 - t)
        x = np.array([0.0, a, a + b, 2 * a + b])
        y = side * (np.array([0.0, h, -h, 0.0]) if rng.random() < 0.6 else
                    np.array([0.0, 1.6 * h, 1.6 * h, 0.0]))
    end_turn = np.arctan2(abs(y[1]), x[1])
    lead = r * np.tan(end_turn / 2) + GAP
    xy = np.stack([x + lead, y], axis=1)
    return xy, np.full(len(x), r), x[-1] + 2 * lead


def _featured_candidate(
    rng: np.random.Generator, t: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """One closed polygon, counter-clockwise, to be rounded: vertices (n, 2), wanted corner
    radii (n,), and the road width. `t` in (0, 1] is the difficulty above 0.5, rescaled.

    A jittered 4- to 6-gon, then up to 3 hairpins (at a corner or across an edge), 1-2
    chicanes and an S-bend, as many as `t` asks for and the edges have room for."""
    width = 14.0 - 1.5 * t + rng.uniform(-0.5, 0.5)
    k = int(rng.integers(4, 7))
    size = rng.uniform(95.0, 125.0)
    phi = 2 * np.pi * (np.arange(k) + rng.uniform(-0.25, 0.25, k)) / k + rng.uniform(0, 2 * np.pi)
    rad = size * rng.uniform(0.75, 1.0, k)
    base = np.stack([rad * np.cos(phi), rad * np.sin(phi)], axis=1)
    corner_r = rng.uniform(28.0 - 8.0 * t, 50.0 - 15.0 * t, k)
    turn, out, length = _turns(base)
    inc = np.roll(out, 1, axis=0)
    n_hairpins = min(3, int(t * rng.uniform(1.0, 4.0)))
    n_chicanes = int(t * rng.uniform(1.0, 3.0))
    n_sbends = int(t * rng.uniform(1.0, 2.0))

    corners: list[tuple[np.ndarray, np.ndarray]] = [(base[i][None], corner_r[i:i + 1])
                                                    for i in range(k)]
    # free stretch [lo, hi] of each edge, edge-local x from its first vertex
    tang = corner_r * np.tan(np.abs(turn) / 2)
    lo = tang + GAP
    hi = length - np.roll(tang, -1) - GAP
    features: list[str] = ["hairpin"] * n_hairpins + ["chicane"] * n_chicanes
    features += ["sbend"] * n_sbends
    on_edge: list[list[tuple[float, np.ndarray, np.ndarray]]] = [[] for _ in range(k)]

    def corner_finger() -> bool:
        """Run on past a left corner, round a hairpin, come back and turn into the next edge
        (only at corners whose two edges carry nothing yet)."""
        ok = [i for i in range(k) if np.radians(60) < turn[i] < np.radians(130)
              and len(corners[i][0]) == 1 and not on_edge[i] and not on_edge[i - 1]]
        if not ok:
            return False
        i = ok[int(rng.integers(len(ok)))]
        r_h = rng.uniform(16.5, 19.5) + 10.0 * (1.0 - t)
        r_q = rng.uniform(18.0, 26.0) + 6.0 * (1.0 - t)
        w = 2.0 * r_h + rng.uniform(1.0, 5.0)  # between the legs
        back = np.tan((np.pi - turn[i]) / 2) * r_q
        reach = w / np.tan(turn[i]) + r_h + back + GAP + rng.uniform(25.0, 60.0)
        a = base[i] + reach * inc[i]
        b = a + w * _rot(inc[i]) + rng.uniform(-8.0, 4.0) * inc[i]
        q = base[i] + w / np.sin(turn[i]) * out[i]
        corners[i] = (np.stack([a, b, q]), np.array([r_h, r_h, r_q]))
        lo[i] = max(lo[i], w / np.sin(turn[i]) + back + GAP)
        hi[i - 1] = length[i - 1] - GAP - 15.0
        return True

    def on_an_edge(xy: np.ndarray, r: np.ndarray, span: float) -> bool:
        """Put a feature somewhere on the roomiest free stretch, if it fits there."""
        room, i = max((hi[i] - lo[i], i) for i in range(k))
        if room < span:
            return False
        x0 = lo[i] + rng.uniform(0.0, room - span)
        on_edge[i].append((x0, xy + [x0, 0.0], r))
        if x0 - lo[i] > hi[i] - (x0 + span):  # keep the longer part of the edge free
            hi[i] = x0
        else:
            lo[i] = x0 + span
        return True

    for kind in features:
        if kind == "hairpin":
            at_corner = rng.random() < 0.6
            if at_corner and corner_finger():
                continue
            if not on_an_edge(*_hairpin_on_edge(rng, t, inward=rng.random() < 0.5)):
                if not at_corner:
                    corner_finger()
        else:
            on_an_edge(*_jog(rng, t, sbend=kind == "sbend"))

    verts, radii = [], []
    for i in range(k):
        verts.append(corners[i][0])
        radii.append(corners[i][1])
        normal = _rot(out[i])
        for _, xy, r in sorted(on_edge[i], key=lambda f: f[0]):
            verts.append(base[i] + xy[:, :1] * out[i] + xy[:, 1:] * normal)
            radii.append(r)
    return np.vstack(verts), np.concatenate(radii), width


def _featured_track(rng: np.random.Generator, difficulty: float, name: str) -> Track:
    t = (difficulty - FEATURES_ABOVE) / (1.0 - FEATURES_ABOVE)  # (0, 1]
    for _ in range(MAX_ATTEMPTS):
        verts, want, width = _featured_candidate(rng, t)
        if rng.random() < 0.5:  # mirror: clockwise loops, hairpins the other way
            verts = verts * [-1.0, 1.0]
        radii = _fit_radii(verts, want)
        if radii is None or np.any(radii < 0.9 * want):
            continue
        pts, start = _render(verts, radii)
        length = float(np.linalg.norm(np.roll(pts, -1, axis=0) - pts, axis=1).sum())
        if not MIN_LENGTH <= length <= MAX_LENGTH:
            continue
        if _crowded(pts, width + 4.0 * WALL_RADIUS + 3.0):
            continue
        try:
            track = build_track(np.roll(pts, -start, axis=0), width, name=name, source=name)
        except SimsError:
            continue
        if track.min_radius >= 0.75 * radii.min():
            return track
    raise SimsError(f"track '{name}': no valid track found in {MAX_ATTEMPTS} attempts")


# ---------------------------------------------------------------------------------------------
# measuring a track's features (any track: shipped, from a file or procedural)

HAIRPIN_TURN = np.radians(150.0)  # a hairpin turns at least this much ...
HAIRPIN_ARC = 120.0  # m, ... within this stretch of road
TIGHT_RADIUS = 30.0  # m, bends sharper than this are counted
STRAIGHT_RADIUS = 200.0  # m, road straighter than this counts as straight
REVERSAL_RADIUS = 40.0  # m, chicanes and S-bends have a bend at least this sharp


def _runs(flag: np.ndarray) -> int:
    """Number of runs of True in a closed (circular) boolean sequence."""
    if flag.all():
        return 1
    return int(np.count_nonzero(flag & ~np.roll(flag, 1)))


def _window(values: np.ndarray, m: int, w: int) -> np.ndarray:
    """(m, w + 1): row i holds values[i .. i + w] (values extended past the loop end)."""
    return np.lib.stride_tricks.sliding_window_view(values, w + 1)[:m]


def _reversals(heading: np.ndarray, m: int, w: int, turn: float) -> np.ndarray:
    """(m,) True where the road turns >= `turn` one way within `w` samples before a sample
    and >= `turn` the other way within `w` samples after it."""
    after = _window(heading[w:], m, w) - heading[w:w + m, None]
    before = heading[w:w + m, None] - _window(heading, m, w)
    left = (before.max(axis=1) >= turn) & (-after.min(axis=1) >= turn)
    right = (-before.min(axis=1) >= turn) & (after.max(axis=1) >= turn)
    return left | right


def track_features(track: Track) -> dict[str, float]:
    """Road features of a track, measured on its centerline samples.

    `min_radius`, `width`, `length` (m); `tight_bends`: bends sharper than TIGHT_RADIUS;
    `hairpins`: places where the heading changes by >= 150 degrees within 120 m; `chicanes`:
    quick reversals (>= 20 degrees one way then >= 20 the other, each within 30 m);
    `sbends`: big reversals (>= 40 degrees each way, each within 60 m), both only where a bend
    sharper than REVERSAL_RADIUS lies within that stretch; `braking`: the longest
    straight (radius > STRAIGHT_RADIUS) that ends less than 30 m before a tight bend (m).
    """
    m, ds = track.n_samples, track.spacing
    curv = np.abs(track.curvature)
    heading = np.cumsum(np.tile(track.curvature, 3)) * ds  # unwrapped, three laps
    heading = heading - heading[m]  # sample i of the middle lap is index m + i

    w = int(round(HAIRPIN_ARC / ds))
    seg = _window(heading[m:], m, w) - heading[m:2 * m, None]
    hairpin = np.abs(seg).max(axis=1) >= HAIRPIN_TURN

    def rev(arc: float, degrees: float) -> int:
        k = int(round(arc / ds))
        flag = _reversals(heading[m - k:], m, k, np.radians(degrees))
        bent = np.tile(curv > 1.0 / REVERSAL_RADIUS, 3)[m - k:2 * m + k]
        flag &= _window(bent, m, 2 * k).any(axis=1)  # a real bend within `arc` of it
        return _runs(flag) if flag.any() else 0

    tight = curv > 1.0 / TIGHT_RADIUS
    straight = curv < 1.0 / STRAIGHT_RADIUS
    braking = 0.0
    if tight.any() and not straight.all():
        lead = int(round(30.0 / ds))
        soon = np.convolve(np.tile(tight, 2), np.ones(lead), "full")[lead:lead + m] > 0
        # soon[i]: a tight bend starts within `lead` samples after i
        run = 0
        for i in range(2 * m):  # twice round: runs crossing the start line
            run = run + 1 if straight[i % m] else 0
            if run and soon[i % m] and not straight[(i + 1) % m]:
                braking = max(braking, run * ds)
    return {
        "min_radius": track.min_radius,
        "width": track.width,
        "length": track.length,
        "tight_bends": _runs(tight) if tight.any() else 0,
        "hairpins": _runs(hairpin) if hairpin.any() else 0,
        "chicanes": rev(30.0, 20.0),
        "sbends": rev(60.0, 40.0),
        "braking": braking,
    }
