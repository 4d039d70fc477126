"""Sensors that evolve: sensor genes -> each car's own ray angles and ranges.

A fan of R rays (:class:`~sims.sensors.SensorParams`) has ``2 R`` sensor genes, in this
order::

    [angle_0 .. angle_{R-1} | range_0 .. range_{R-1}]

Ray j of the fixed fan points at ``a_j`` (evenly spread over ``fov``, ray 0 the rightmost)
and reaches ``range``.  Its genes give

* angle ``a_j + ANGLE_SPREAD * spacing * tanh(g)``, ``spacing`` the fan's angle between
  neighbouring rays (``fov / (R - 1)``; the whole ``fov`` for one ray), so a ray moves at
  most half-way to its neighbour's fixed place: the rays keep their order (ray 0 stays the
  rightmost; the layout is made non-decreasing, which only matters for rays that meet at
  the limit) and each stays in its own sector; clipped to [-pi, pi];
* range ``range * (1 + RANGE_SPREAD * tanh(g))``, within ``range`` x [0.5, 1.5]: the
  sensor tables are built for :func:`max_range` (the fan's range x 1.5).

Genes 0 give the fixed fan exactly (the same floats), so a car whose sensor genes are all 0
reads what it reads in a world without evolved sensors, bit for bit.
"""

from __future__ import annotations

import numpy as np

from sims.sensors import SensorParams

ANGLE_SPREAD = 0.5  # of the spacing between neighbouring rays: half-way to a neighbour
RANGE_SPREAD = 0.5  # a ray's range: x [0.5, 1.5]


def n_genes(params: SensorParams) -> int:
    """How many sensor genes a fan has: per ray an angle and a range."""
    return 2 * params.n_rays


def spacing(params: SensorParams) -> float:
    """rad between neighbouring rays of the fixed fan (the whole fov for one ray)."""
    return params.fov / (params.n_rays - 1) if params.n_rays > 1 else params.fov


def max_range(params: SensorParams) -> float:
    """m, the longest range a gene can give (what the sensor tables must cover)."""
    return params.range * (1.0 + RANGE_SPREAD)


def layout(params: SensorParams, genes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sensor genes ``(..., 2 R)`` -> ``(angles (..., R) rad from the heading, ranges
    (..., R) m)``; every value within its bounds whatever the genes (see the module)."""
    genes = np.asarray(genes, np.float64)
    r = params.n_rays
    if genes.shape[-1] != 2 * r:
        raise ValueError(f"expected {2 * r} sensor genes (per ray an angle and a range), "
                         f"got shape {genes.shape}")
    offset = (ANGLE_SPREAD * spacing(params)) * np.tanh(genes[..., :r])
    angles = np.clip(params.angles + offset, -np.pi, np.pi)
    angles = np.maximum.accumulate(angles, axis=-1)  # ordered, even where rays meet
    ranges = params.range * (1.0 + RANGE_SPREAD * np.tanh(genes[..., r:]))
    return angles, np.minimum(ranges, max_range(params))
