"""Ground for walking creatures: flat, gently rough, or procedural terrain with a difficulty.

A terrain is named by a string, like a track:

    flat                          one level floor
    procedural:SEED[:DIFFICULTY]  bumps, slopes and steps drawn from SEED; DIFFICULTY in
                                  [0, 1] (default 0.5) scales their size

and becomes a ground polyline ``(P, 2)`` of (x, height) points in metres from x = -20 m to
``length`` m, level around the start (|x| < 3 m) so a creature can stand up before the
ground changes under it.  The same name always gives the same ground.

Procedural ground is a run of sections, each 2-6 m long, of one of these kinds (their
sizes grow with the difficulty d):

    bumps   smooth random bumps, up to 0.02 + 0.10 d m high
    slope   a ramp up or down at up to 3 + 12 d degrees, then level again
    step    a single step up or down of 0.02 + 0.13 d m (a 2-cm riser)
    stairs  2-4 steps up or down, each 0.02 + 0.08 d m, 0.6-1.2 m deep
    flat    level

Section kinds are drawn with the same odds at any difficulty, and the heights of steps and
slopes are unbiased (up as likely as down), so the ground wanders around level.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sims.errors import SimsError
from sims.procedural import parse_procedural_spec

START = -20.0  # m, where the ground begins (behind the start)
FLAT_START = 3.0  # m, the ground is level for |x| < this
DX = 0.25  # m, spacing of the ground's points within a section
RISER = 0.02  # m, the horizontal run of a step's edge (nearly vertical)
KINDS = ("flat", "bumps", "slope", "step", "stairs")
ODDS = (0.15, 0.3, 0.2, 0.2, 0.15)


def parse_terrain(spec: str) -> tuple[int, float] | None:
    """'flat' -> None; 'procedural:SEED[:DIFFICULTY]' -> (seed, difficulty); else SimsError."""
    text = str(spec)
    if text == "flat":
        return None
    if not text.startswith("procedural:"):
        raise SimsError(f"terrain '{text}': expected flat or procedural:SEED[:DIFFICULTY]")
    return parse_procedural_spec(text, "terrain")


def terrain_profile(spec: str, length: float = 300.0) -> np.ndarray:
    """(P, 2) ground polyline of the terrain named ``spec`` from x = -20 m to ``length``."""
    parsed = parse_terrain(spec)
    if parsed is None:
        return np.array([[START, 0.0], [float(length), 0.0]])
    return _procedural(*parsed, float(length)).copy()


def rough_profile(rng: np.random.Generator, roughness: float, length: float) -> np.ndarray:
    """(P, 2) gently rough ground (1-m segments, height scale ``roughness`` m), level for
    |x| < 3 m and eased in over the next 5 m; drawn from ``rng``."""
    x = np.arange(START, length + 1.0, 1.0)
    if roughness <= 0:
        return np.stack([x[[0, -1]], np.zeros(2)], axis=1)
    steps = rng.normal(0.0, roughness, len(x))
    kernel = np.hanning(7)
    h = np.convolve(np.cumsum(steps) * 0.2, kernel / kernel.sum(), mode="same")
    h += np.convolve(steps, kernel / kernel.sum(), mode="same")
    ramp = np.clip((np.abs(x) - FLAT_START) / 5.0, 0.0, 1.0)  # flat start, eased in
    h = (h - h[np.argmin(np.abs(x))]) * ramp
    return np.stack([x, h], axis=1)


@lru_cache(maxsize=32)
def _procedural(seed: int, difficulty: float, length: float) -> np.ndarray:
    rng = np.random.default_rng([seed, 0x7E44A1])  # a stream of its own (not the track's)
    d = difficulty
    xs, hs = [START, FLAT_START], [0.0, 0.0]
    x, h = FLAT_START, 0.0

    def add(px: float, ph: float) -> None:
        xs.append(px)
        hs.append(ph)

    while x < length:
        kind = KINDS[rng.choice(len(KINDS), p=ODDS)]
        span = float(rng.uniform(2.0, 6.0))
        if kind == "flat":
            x += span
            add(x, h)
        elif kind == "bumps":
            n = max(int(round(span / DX)), 4)
            px = x + np.arange(1, n + 1) * (span / n)
            amp = 0.02 + 0.10 * d
            # a few smooth bumps: a sum of sines that starts and ends at 0 over the span
            k = rng.integers(1, 4, size=2)
            a = rng.uniform(0.3, 1.0, size=2) * rng.choice([-1, 1], size=2)
            u = (px - x) / span
            bump = (a[0] * np.sin(np.pi * k[0] * u) + a[1] * np.sin(np.pi * k[1] * u)) / 2
            for pxi, bi in zip(px.tolist(), (amp * bump).tolist()):
                add(pxi, h + bi)
            x = float(px[-1])
        elif kind == "slope":
            angle = np.deg2rad(rng.uniform(0.3, 1.0) * (3.0 + 12.0 * d)) * rng.choice([-1, 1])
            x += span
            h += float(np.tan(angle) * span)
            add(x, h)
        elif kind == "step":
            rise = (0.02 + 0.13 * d) * float(rng.choice([-1, 1]))
            x += RISER
            h += rise
            add(x, h)
            x += span
            add(x, h)
        else:  # stairs
            sign = float(rng.choice([-1, 1]))
            for _ in range(int(rng.integers(2, 5))):
                x += RISER
                h += sign * (0.02 + 0.08 * d)
                add(x, h)
                x += float(rng.uniform(0.6, 1.2))
                add(x, h)
    profile = np.stack([np.array(xs), np.array(hs)], axis=1)
    profile = profile[profile[:, 0] <= length]
    if profile[-1, 0] < length:  # end exactly at `length`, level with the last point
        profile = np.vstack([profile, [length, profile[-1, 1]]])
    profile.setflags(write=False)
    return profile


def height_at(ground: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Ground height (m) under ``x`` (any shape), read off the polyline ``ground (P, 2)``."""
    return np.interp(x, ground[:, 0], ground[:, 1])
