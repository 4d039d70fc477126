"""Each car's own rays (sims.ray_layout, CarWorld.set_sensors): genes 0 are the fixed fan bit
for bit, the genes' bounds, and readings of per-car layouts against one-car worlds, a
brute-force reference and a distance worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from sims import ray_layout
from sims.car_world import CarWorld, CarWorldConfig
from sims.errors import SimsError
from sims.sensors import SensorParams, ray_hits

FAN = SensorParams()  # 5 rays over pi, 50 m
TOP = ray_layout.max_range(FAN)


def _driver(obs: np.ndarray, throttle: np.ndarray) -> np.ndarray:
    steer = 2.0 * (obs[:, 4] - obs[:, 0]) + 1.0 * (obs[:, 3] - obs[:, 1])
    return np.stack([throttle, np.clip(steer, -1.0, 1.0)], axis=1)


def test_genes_0_are_the_fixed_fan_exactly_and_every_gene_stays_in_bounds():
    for params in (FAN, SensorParams(n_rays=1, fov=1.0), SensorParams(7, 2 * np.pi, 30.0)):
        r = params.n_rays
        angles, ranges = ray_layout.layout(params, np.zeros(2 * r))
        assert angles.tobytes() == params.angles.tobytes()
        assert ranges.tobytes() == np.full(r, params.range).tobytes()
        genes = np.random.default_rng(r).normal(0, 30, (200, 2 * r))
        genes[:4] = [[50.0] * 2 * r, [-50.0] * 2 * r, [np.inf] * 2 * r, [-np.inf] * 2 * r]
        angles, ranges = ray_layout.layout(params, genes)  # (200, R) each
        half = 0.5 * ray_layout.spacing(params)
        assert np.all(np.abs(angles - params.angles) <= half + 1e-12)
        assert np.all(np.abs(angles) <= np.pi)
        assert np.all(np.diff(angles, axis=1) >= 0)  # ray 0 stays the rightmost
        assert np.all((ranges >= 0.5 * params.range) & (ranges <= ray_layout.max_range(params)))
    assert ray_layout.n_genes(FAN) == 10 and TOP == 75.0
    with pytest.raises(ValueError, match="10 sensor genes"):
        ray_layout.layout(FAN, np.zeros(9))


def _layouts(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 5) angles and ranges: genes 0, a narrower even fan (2 rad, 40 m), the rest from
    random genes (some far out: rays at their limits)."""
    genes = np.random.default_rng(3).normal(0, 1.5, (n, 10))
    genes[0] = 0.0
    genes[-1] *= 20
    angles, ranges = ray_layout.layout(FAN, genes)
    angles[1], ranges[1] = np.linspace(-1.0, 1.0, 5), 40.0
    return angles, ranges


def test_each_car_reads_as_alone_in_a_world_of_its_own_rays():
    n = 7
    cfg = CarWorldConfig(max_time=30.0, stall_time=2.0, start_jitter=2.0, cars_per_space=3)
    angles, ranges = _layouts(n)
    world = CarWorld("default", n, cfg, max_range=TOP)
    world.set_sensors(angles, ranges)
    alone = []
    for i in range(n):
        w = CarWorld("default", 1, cfg, max_range=TOP)
        w.set_sensors(angles[i: i + 1], ranges[i: i + 1])
        alone.append(w)
    # independent references: worlds of the fixed fan (genes 0), and of the even fan of
    # car 1 as plain SensorParams (a table built for its own 40 m)
    fixed = CarWorld("default", 1, cfg)
    narrow = CarWorld("default", 1, CarWorldConfig(
        max_time=30.0, stall_time=2.0, start_jitter=2.0, sensors=SensorParams(5, 2.0, 40.0)))
    obs = world.reset(5)
    refs = [w.reset(5, first_member=i) for i, w in enumerate(alone)]
    assert fixed.reset(5).tobytes() == refs[0].tobytes()
    assert narrow.reset(5, first_member=1).tobytes() == refs[1].tobytes()
    np.testing.assert_array_equal(obs, np.concatenate(refs))
    throttle = np.linspace(0.3, 1.0, n)
    subset_steps = 0
    while not world.done.all():
        act = _driver(obs, throttle)
        obs, *_ = world.step(act)
        refs = [w.step(act[i: i + 1])[0] for i, w in enumerate(alone)]
        np.testing.assert_array_equal(obs, np.concatenate(refs))
        if not fixed.done.all():
            assert fixed.step(act[:1])[0].tobytes() == refs[0].tobytes()
        if not narrow.done.all():
            assert narrow.step(act[1:2])[0].tobytes() == refs[1].tobytes()
        live = ~world.done
        np.testing.assert_array_equal(world.ray_endpoints()[live], np.concatenate(
            [w.ray_endpoints() for w in alone])[live])
        subset_steps += 2 * live.sum() < n  # the path that senses only the cars still driving
        # brute force: every wall segment against each car's own rays, its own ranges
        ang = (angles + world.heading[:, None]).T  # (R, N)
        n_seg = world.sensor.seg.shape[1] - 1
        cand = np.broadcast_to(np.arange(n_seg)[:, None, None], (n_seg, *ang.shape))
        dist = np.minimum(ray_hits(world.position[:, 0], world.position[:, 1], np.cos(ang),
                                   np.sin(ang), world.sensor.seg, cand, 1e9), ranges.T)
        np.testing.assert_array_equal(obs[live, :5], (dist.T * (1.0 / ranges))[live])
    assert subset_steps > 0
    assert world.ray_ranges().tobytes() == ranges.tobytes()


def test_a_ray_against_a_straight_wall_by_hand():
    world = CarWorld("default", 2, max_range=TOP)
    track = world.track
    k = int(np.argmax(np.linalg.norm(track.seg_b - track.seg_a, axis=1)))  # an 8.5 m chord
    a, b = track.seg_a[k], track.seg_b[k]
    e = (b - a) / np.linalg.norm(b - a)
    inward = np.array([e[1], -e[0]])  # the track interior is right of a wall segment
    d = 3.0  # m from the wall, heading along it: the wall is on the car's left
    pos = np.array([(a + b) / 2 + inward * d] * 2)
    heading = np.full(2, np.arctan2(e[1], e[0]))
    angles = np.array([[-1.5, -0.6, 0.0, 1.1, 1.45], [-1.5, -0.6, 0.0, 0.5, 1.45]])
    ranges = np.array([[50.0, 50.0, 50.0, 70.0, 50.0], [50.0, 50.0, 50.0, 5.0, 50.0]])
    world.set_sensors(angles, ranges)
    world.reset(0)
    obs = world.place(pos, heading)
    # 1.1 rad left of the wall's direction, from 3 m: d / sin(1.1) = 3.3562 m, 1.57 m along
    assert obs[0, 3] * 70.0 == pytest.approx(d / np.sin(1.1), abs=1e-9)
    assert obs[0, 4] * 50.0 == pytest.approx(d / np.sin(1.45), abs=1e-9)
    # 0.5 rad: the wall is d / sin(0.5) = 6.26 m away, beyond this ray's 5 m: nothing seen
    assert obs[1, 3] == 1.0
    ends = world.ray_endpoints()
    assert np.linalg.norm(ends[1, 3] - pos[1]) == pytest.approx(5.0)


def test_set_sensors_refuses_what_the_tables_do_not_cover():
    world = CarWorld("default", 3, max_range=TOP)
    angles, ranges = _layouts(3)
    with pytest.raises(SimsError, match="3 cars"):
        world.set_sensors(angles[:2], ranges[:2])
    with pytest.raises(SimsError, match="shape"):
        world.set_sensors(angles[:, :4], ranges[:, :4])
    with pytest.raises(SimsError, match="75"):
        world.set_sensors(angles, ranges + 30.0)
    with pytest.raises(SimsError, match="pi"):
        world.set_sensors(angles * 3, ranges)
    with pytest.raises(SimsError, match=r"\(0, 50\]"):
        CarWorld("default", 3).set_sensors(angles, ranges + 5.0)  # tables for the fan's 50 m
    world.set_sensors(angles, ranges)
    world.set_sensors(None)  # back to the fixed fan
    fixed = CarWorld("default", 3)
    assert world.reset(2).tobytes() == fixed.reset(2).tobytes()
    assert world.ray_ranges().tobytes() == np.full((3, 5), 50.0).tobytes()
