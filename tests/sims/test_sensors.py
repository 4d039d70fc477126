"""Batched numpy ray sensors against pymunk's own ray queries and a brute-force reference."""

from __future__ import annotations

import numpy as np
import pymunk
import pytest

from sims.car import WALL_CATEGORY
from sims.car_world import CarWorld, CarWorldConfig
from sims.sensors import RaySensor, SensorParams
from sims.track import load_track


def _random_poses(track, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, track.n_samples, n)
    lat = rng.uniform(-track.width / 2 + 1.2, track.width / 2 - 1.2, n)
    pos = track.points[idx] + track.normals[idx] * lat[:, None]
    pos += track.tangents[idx] * rng.uniform(-0.5, 0.5, (n, 1))
    return pos, rng.uniform(-4 * np.pi, 4 * np.pi, n)


@pytest.mark.parametrize("name", ["default", "hairpins"])
def test_rays_match_pymunk_segment_query_first(name: str) -> None:
    n = 120
    cfg = CarWorldConfig(sensors=SensorParams(n_rays=7, fov=1.5 * np.pi, range=60.0))
    world = CarWorld(name, n, cfg)
    world.reset(0)
    pos, heading = _random_poses(world.track, n, seed=1)
    obs = world.place(pos, heading)
    dist = obs[:, : world.n_rays] * world.sensor.range  # (N, R)
    space = world.spaces[0]
    walls_only = pymunk.ShapeFilter(mask=WALL_CATEGORY)
    ref = np.empty_like(dist)
    for i in range(n):
        for r, a in enumerate(world.sensor.angles):
            u = np.array([np.cos(heading[i] + a), np.sin(heading[i] + a)])
            end = pos[i] + world.sensor.range * u
            hit = space.segment_query_first(tuple(pos[i]), tuple(end), 0.0, walls_only)
            ref[i, r] = hit.alpha * world.sensor.range if hit else world.sensor.range
    assert (ref < world.sensor.range).mean() > 0.5  # most rays do hit a wall
    np.testing.assert_allclose(dist, ref, atol=0.02)  # 2 cm: capsule walls vs their chords


def test_candidate_table_gives_exactly_the_brute_force_answer() -> None:
    for name in ["oval", "technical", "procedural:5:1"]:
        track = load_track(name)
        sensor = RaySensor(track, SensorParams(n_rays=5, fov=np.pi, range=50.0))
        pos, heading = _random_poses(track, 3000, seed=2)
        d2 = ((pos[:, None] - track.points[None]) ** 2).sum(axis=2)
        nearest = d2.argmin(axis=1)
        rel = pos - track.points[nearest]
        lateral = (rel * track.normals[nearest]).sum(axis=1)
        fast = sensor.read(pos, heading, nearest, lateral)
        slow = sensor.read_all_walls(pos, heading)
        assert np.array_equal(fast, slow), name
        assert sensor.n_candidates < len(track.seg_a) / 10


def test_ray_layout_and_endpoints(default_track) -> None:
    params = SensorParams(n_rays=3, fov=np.pi, range=40.0)
    assert np.allclose(params.angles, [-np.pi / 2, 0.0, np.pi / 2])  # right, ahead, left
    sensor = RaySensor(default_track, params)
    pos = default_track.points[:1]
    dist = sensor.read(pos, np.array([default_track.start_heading]), np.array([0]), np.zeros(1))
    # at the start on the centerline: the side walls are half a width away
    assert np.allclose(dist[[0, 2], 0], default_track.width / 2, atol=0.05)
    ends = sensor.ray_endpoints()
    assert ends.shape == (1, 3, 2)
    assert np.allclose(np.linalg.norm(ends[0] - pos[0], axis=1), dist[:, 0])


def test_readings_while_driving_equal_the_brute_force_answer() -> None:
    # the candidate lists are picked from the progress tracker's incremental nearest sample
    world = CarWorld("sbends", 20, CarWorldConfig(start_jitter=2.0))
    obs = world.reset(seed=4)
    rng = np.random.default_rng(3)
    throttle = np.linspace(0.3, 0.9, 20)
    for step in range(900):
        left, right = obs[:, world.n_rays - 1], obs[:, 0]
        steer = np.clip(2.0 * (left - right) + rng.normal(0.0, 0.3, 20), -1.0, 1.0)
        obs, *_ = world.step(np.stack([throttle, steer], axis=1))
        if step % 50 == 0:
            live = ~world.done
            brute = world.sensor.read_all_walls(world.position, world.heading).T / 50.0
            np.testing.assert_allclose(obs[live, : world.n_rays], brute[live], rtol=0, atol=1e-12)


def test_a_moved_start_reuses_its_base_table_and_reads_the_same() -> None:
    from sims.sensors import build_candidate_table, candidate_table

    base = load_track("sbends")
    moved = base.starting_at(173).starting_at(50)  # moves add up, from the base track
    assert moved.moved_from is base and moved.moved_by == 223
    table, _ = candidate_table(moved, 50.0, 4, 64)
    fresh, _ = build_candidate_table(moved, 50.0, 4, 64)  # built from scratch
    assert np.array_equal(table, fresh)
    # a reading needs each car's nearest sample: same places, renumbered samples
    world = CarWorld(moved, 40)
    world.reset(0)
    pos, heading = _random_poses(moved, 40, seed=3)
    obs = world.place(pos, heading)
    brute = world.sensor.read_all_walls(pos, heading) / world.sensor.range
    np.testing.assert_allclose(obs[:, :world.n_rays], brute.T, atol=1e-12)
