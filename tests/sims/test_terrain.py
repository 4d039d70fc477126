"""Walker ground: procedural terrain (shape, determinism, difficulty, bad names) and
creatures that hold their rest pose standing on any ground as they do on flat ground."""

from __future__ import annotations

import numpy as np
import pytest

from sims.errors import SimsError
from sims.terrain import FLAT_START, RISER, height_at, parse_terrain, terrain_profile
from sims.walker_world import WalkerWorld, WalkerWorldConfig


def stand(creature: str, seconds: float, **world) -> dict:
    """One creature holding its rest pose (all actions 0) for ``seconds``: its final info."""
    w = WalkerWorld(creature, 1, WalkerWorldConfig(max_time=seconds, **world))
    w.reset(seed=0)
    info = w.info()
    while not w.done.all():
        *_, info = w.step(np.zeros((1, w.act_dim)))
    return info


@pytest.mark.parametrize("ground", [{"ground_roughness": 0.0001}, {"ground_roughness": 0.05},
                                    {"terrain": "procedural:3:1"}])
def test_rest_pose_stays_up_on_uneven_ground_as_on_flat(ground: dict) -> None:
    # Segments of a many-segment ground used to catch a foot on the joint between two of
    # them: the biped fell backward at 4.8 s on any roughness, even 0.1 mm.
    flat = stand("biped", 8.0)
    rough = stand("biped", 8.0, **ground)
    assert not flat["fallen"][0] and not rough["fallen"][0]
    assert rough["time_alive"][0] == pytest.approx(8.0)
    assert abs(rough["distance"][0]) < 0.1
    assert rough["torso_height"][0] == pytest.approx(flat["torso_height"][0], abs=0.02)


def test_quadruped_stands_on_top_difficulty_terrain() -> None:
    info = stand("quadruped", 6.0, terrain="procedural:4:1")
    assert not info["fallen"][0]


def test_limp_biped_still_falls_on_terrain() -> None:
    info = stand("biped", 4.0, terrain="procedural:3:1", motor_scale=0.0)
    assert info["fallen"][0] and info["time_alive"][0] < 3.0


def test_same_name_same_ground_and_level_start() -> None:
    a = terrain_profile("procedural:7:0.8")
    b = terrain_profile("procedural:7:0.8")
    assert np.array_equal(a, b)
    assert not np.array_equal(a, terrain_profile("procedural:8:0.8"))
    assert a[0, 0] == -20.0 and a[-1, 0] == 300.0
    assert np.all(np.diff(a[:, 0]) > 0)  # a function of x: no overhangs
    x = np.linspace(-FLAT_START, FLAT_START, 61)
    assert np.all(height_at(a, x) == 0.0)
    assert np.array_equal(terrain_profile("flat"), [[-20.0, 0.0], [300.0, 0.0]])
    assert terrain_profile("procedural:7", 50.0)[-1, 0] == 50.0


def steepest_rise(profile: np.ndarray) -> float:
    """The tallest step (m): the largest height change between neighbouring points at most
    a riser's run apart."""
    dx, dh = np.diff(profile[:, 0]), np.abs(np.diff(profile[:, 1]))
    return float(dh[dx <= RISER * 1.001].max(initial=0.0))


def test_difficulty_scales_bumps_slopes_and_steps() -> None:
    rises, spreads = [], []
    for d in (0.0, 0.5, 1.0):
        profiles = [terrain_profile(f"procedural:{s}:{d}") for s in range(5)]
        rises.append(np.median([steepest_rise(p) for p in profiles]))
        # how far the ground strays from level over the first 60 m
        spreads.append(np.median([np.ptp(p[p[:, 0] < 60, 1]) for p in profiles]))
    assert rises[0] < rises[1] < rises[2]
    assert rises[0] <= 0.05 and 0.1 <= rises[2] <= 0.16
    assert spreads[0] < spreads[2]


@pytest.mark.parametrize("spec", ["procedural", "procedural:x", "procedural:-1",
                                  "procedural:1:2", "procedural:1:hard", "hills", ""])
def test_bad_terrain_names_are_one_line_errors(spec: str) -> None:
    with pytest.raises(SimsError, match="terrain") as e:
        parse_terrain(spec)
    assert "\n" not in str(e.value)
    with pytest.raises(SimsError):
        WalkerWorldConfig(terrain=spec)


def test_roughness_applies_to_flat_terrain_only() -> None:
    with pytest.raises(SimsError, match="flat terrain only"):
        WalkerWorldConfig(terrain="procedural:1", ground_roughness=0.1)


def test_ground_sensors_read_the_ground_ahead() -> None:
    cfg = WalkerWorldConfig(terrain="procedural:5:1", ground_sensors=4, sensor_spacing=0.5)
    w = WalkerWorld("biped", 2, cfg)
    blind = WalkerWorld("biped", 2, WalkerWorldConfig(terrain="procedural:5:1"))
    assert w.obs_dim == blind.obs_dim + 4
    obs = w.reset(seed=0)
    assert np.array_equal(obs[:, :blind.obs_dim], blind.reset(seed=0))
    assert np.all(obs[:, -4:] == 0.0)  # level ground around the start
    act = np.zeros((2, w.act_dim))
    for _ in range(30):
        obs, *_ = w.step(act)
    # an independent reading of the same ground: heights ahead of the torso by hand
    x = w.state[:, w.spec.torso, 0]
    g = w.ground
    for i in range(2):
        under = np.interp(x[i], g[:, 0], g[:, 1])
        for k in range(4):
            ahead = np.interp(x[i] + 0.5 * (k + 1), g[:, 0], g[:, 1])
            assert obs[i, blind.obs_dim + k] == pytest.approx((ahead - under) / 0.5)
    # moved onto the terrain: the readings are those of its steps and slopes
    w2 = WalkerWorld("biped", 1, cfg)
    w2.reset(seed=0)
    w2.state[:, w2.spec.torso, 0] = 20.0
    far = w2._observe()[0, -4:]
    expect = (np.interp(20.0 + 0.5 * np.arange(1, 5), g[:, 0], g[:, 1])
              - np.interp(20.0, g[:, 0], g[:, 1])) / 0.5
    assert np.allclose(far, expect) and np.any(far != 0.0)
