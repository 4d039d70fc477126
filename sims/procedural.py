"""Procedural tracks from a seed: smooth closed star-shaped loops of selectable difficulty.

Difficulty in [0, 1]: 0 gives a wide, gently curving loop; 1 a narrower track with more and
tighter bends (down to about 15 m radius). The same (seed, difficulty) always gives the same
track; candidates that fail validation are redrawn from the same generator.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sims.errors import SimsError
from sims.track import Track, build_track

MAX_ATTEMPTS = 200
MAX_LENGTH = 1400.0  # m


def parse_procedural_spec(spec: str) -> tuple[int, float]:
    """'procedural:SEED[:DIFFICULTY]' -> (seed, difficulty)."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or parts[0] != "procedural":
        raise SimsError(f"track '{spec}': expected procedural:SEED or procedural:SEED:DIFFICULTY")
    try:
        seed = int(parts[1])
    except ValueError:
        raise SimsError(f"track '{spec}': SEED must be a non-negative integer") from None
    if seed < 0:
        raise SimsError(f"track '{spec}': SEED must be a non-negative integer")
    difficulty = 0.5
    if len(parts) == 3:
        try:
            difficulty = float(parts[2])
        except ValueError:
            raise SimsError(f"track '{spec}': DIFFICULTY must be a number in [0, 1]") from None
        if not 0.0 <= difficulty <= 1.0:
            raise SimsError(f"track '{spec}': DIFFICULTY must be in [0, 1], got {difficulty:g}")
    return seed, difficulty


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


@lru_cache(maxsize=32)
def procedural_track(seed: int, difficulty: float = 0.5) -> Track:
    """A valid random track, a pure function of (seed, difficulty) (cached)."""
    rng = np.random.default_rng([seed, int(round(difficulty * 1000))])
    min_radius = 40.0 - 25.0 * difficulty  # m, tightest bend allowed
    name = f"procedural:{seed}:{difficulty:g}"
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
