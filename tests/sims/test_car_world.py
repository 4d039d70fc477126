"""The car world: contract, determinism, drivability, crashes, no tunnelling."""

from __future__ import annotations

import numpy as np
import pytest

from sims.car_world import CarWorld, CarWorldConfig
from sims.errors import SimsError


def steer_to_open_side(obs: np.ndarray, n_rays: int, throttle: float) -> np.ndarray:
    """Hand-written driver: steer toward the longer side ray, fixed throttle."""
    left, right = obs[:, n_rays - 1], obs[:, 0]
    left2, right2 = obs[:, n_rays - 2], obs[:, 1]
    steer = np.clip(2.0 * (left - right) + 1.0 * (left2 - right2), -1.0, 1.0)
    return np.stack([np.full(len(obs), throttle), steer], axis=1)


def test_contract_shapes_and_types(default_track) -> None:
    world = CarWorld(default_track, 3)
    assert (world.n_agents, world.obs_dim, world.act_dim) == (3, 6, 2)
    obs = world.reset(seed=0)
    assert obs.shape == (3, 6) and obs.dtype == np.float64
    obs, reward, terminated, truncated, info = world.step(np.zeros((3, 2)))
    assert obs.shape == (3, 6) and reward.shape == (3,)
    assert terminated.dtype == bool and truncated.dtype == bool
    for key in ("progress", "laps", "crashed", "time_alive", "lap_time", "distance"):
        assert info[key].shape == (3,), key
    assert np.all((obs[:, :5] > 0) & (obs[:, :5] <= 1))
    assert world.car_polygons().shape == (3, 4, 2)
    assert world.ray_endpoints().shape == (3, 5, 2)
    assert len(world.wall_polylines()) == 2
    with pytest.raises(ValueError):
        world.step(np.zeros((2, 2)))
    with pytest.raises(ValueError):
        world.step(np.full((3, 2), np.nan))
    with pytest.raises(SimsError):
        CarWorld(default_track, 0)


def test_a_chunk_starts_its_cars_where_the_whole_population_would(default_track) -> None:
    cfg = CarWorldConfig(start_jitter=1.5)
    whole = CarWorld(default_track, 7, cfg)
    whole.reset(seed=42)
    parts = [CarWorld(default_track, n, cfg) for n in (3, 4)]
    parts[0].reset(seed=42, first_member=0)
    parts[1].reset(seed=42, first_member=3)
    pos = np.concatenate([p.position for p in parts])
    heading = np.concatenate([p.heading for p in parts])
    np.testing.assert_array_equal(whole.position, pos)
    np.testing.assert_array_equal(whole.heading, heading)
    offsets = (whole.position - default_track.start_position) @ default_track.normals[0]
    assert np.all(np.abs(offsets) <= 1.5) and np.ptp(offsets) > 0.5


def test_same_seed_same_trajectories_over_1000_steps(default_track) -> None:
    cfg = CarWorldConfig(start_jitter=1.0, max_time=100.0, cars_per_space=4)
    worlds = [CarWorld(default_track, 10, cfg) for _ in range(2)]
    obs = [w.reset(seed=123) for w in worlds]
    assert np.array_equal(obs[0], obs[1])
    assert not np.array_equal(obs[0][0], obs[0][1])  # the jitter did something
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 0.3, (1000, 10, 2))
    for k in range(1000):
        out = [w.step(steer_to_open_side(o, w.n_rays, 0.6) + noise[k]) for w, o in zip(worlds, obs)]
        obs = [o[0] for o in out]
        assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])
        assert np.array_equal(out[0][2], out[1][2])
    assert out[0][4]["progress"].max() > 0.2


def test_rays_follow_the_cars_still_driving_when_most_have_crashed(default_track) -> None:
    """With few cars left the world senses only those; their rays (what a renderer draws)
    and observations still match a fresh reading of every wall."""
    world = CarWorld(default_track, 8, CarWorldConfig(start_jitter=1.0))
    obs = world.reset(seed=3)
    frozen = None
    for _ in range(300):
        act = steer_to_open_side(obs, world.n_rays, 0.6)
        act[2:] = 1.0  # six cars turn hard left at full throttle, into a wall
        obs, *_ = world.step(act)
        if frozen is None and world.crashed[2:].all():
            frozen = obs[2:].copy()
    assert world.crashed[2:].all() and not world.done[:2].any()
    pos, heading = world.position[:2], world.heading[:2]
    dist = world.sensor.read_all_walls(pos, heading)  # (R, 2)
    ang = heading + world.sensor.angles[:, None]
    expected = np.stack([pos[:, 0] + np.cos(ang) * dist, pos[:, 1] + np.sin(ang) * dist],
                        axis=-1).transpose(1, 0, 2)
    ends = world.ray_endpoints()
    assert ends.shape == (8, world.n_rays, 2) and np.isfinite(ends).all()
    np.testing.assert_allclose(ends[:2], expected, atol=1e-9)
    np.testing.assert_allclose(obs[:2, : world.n_rays] * world.sensor.range, dist.T, atol=1e-9)
    np.testing.assert_array_equal(obs[2:], frozen)  # crashed cars keep their last observation


def test_splitting_cars_over_spaces_changes_nothing(default_track) -> None:
    results = []
    for per_space in (1, 3, 8):
        cfg = CarWorldConfig(start_jitter=1.0, cars_per_space=per_space)
        world = CarWorld(default_track, 8, cfg)
        obs = world.reset(seed=5)
        for _ in range(300):
            obs, reward, *_ = world.step(steer_to_open_side(obs, world.n_rays, 0.7))
        results.append((obs, world.position.copy()))
    for obs, pos in results[1:]:
        assert np.array_equal(obs, results[0][0]) and np.array_equal(pos, results[0][1])


@pytest.mark.parametrize("start", [0, 205])
def test_steering_rule_completes_a_lap_of_the_default_track(default_track, start) -> None:
    track = default_track.starting_at(start)  # a start line moved into a bend: still one lap
    if start:
        assert np.array_equal(track.start_position, default_track.points[start])
        assert abs(track.curvature[0]) > 0.01 and track.length == default_track.length
    world = CarWorld(track, 2, CarWorldConfig(laps=1, max_time=120.0))
    obs = world.reset(seed=0)
    throttle = np.array([0.5, 0.6])
    reward_sum = np.zeros(2)
    while not world.done.all():
        action = steer_to_open_side(obs, world.n_rays, 0.0)
        action[:, 0] = throttle
        obs, reward, terminated, truncated, info = world.step(action)
        reward_sum += reward
    assert info["laps"].tolist() == [1, 1]
    assert not info["crashed"].any() and info["finished"].all() and terminated.all()
    assert np.all((info["lap_time"] > 40.0) & (info["lap_time"] < 90.0))
    assert np.allclose(reward_sum, default_track.length, rtol=0.01)


def test_two_laps_record_the_fastest_and_the_clock_restarts(default_track) -> None:
    world = CarWorld(default_track, 1, CarWorldConfig(laps=2, max_time=200.0))
    obs = world.reset(seed=0)
    laps_seen, clock_at_lap = 0, []
    while not world.done.all():
        action = steer_to_open_side(obs, world.n_rays, 0.0)
        action[:, 0] = 0.5
        before = world.lap_clock()[0]
        obs, _, _, _, info = world.step(action)
        if info["laps"][0] > laps_seen:  # a lap ended: its clock starts again from 0
            laps_seen = int(info["laps"][0])
            clock_at_lap.append(before + world.config.dt)
            assert world.lap_clock()[0] == pytest.approx(0.0, abs=1e-9) or world.done[0]
    assert laps_seen == 2 and info["finished"][0]
    # the first lap starts standing, the second flying: it is the faster one
    first, second = clock_at_lap
    assert second < first
    assert info["lap_time"][0] == pytest.approx(second)
    assert info["best_lap_time"][0] == pytest.approx(min(first, second))


def test_cars_never_touch_each_other(default_track) -> None:
    # all cars start on the same spot; identical inputs give identical motion
    world = CarWorld(default_track, 6)
    obs = world.reset(seed=0)
    for _ in range(200):
        obs, *_ = world.step(steer_to_open_side(obs, world.n_rays, 0.8))
    assert np.allclose(world.position, world.position[0]) and not world.crashed.any()


@pytest.mark.parametrize("angle_deg", [3, 10, 30, 60, 90, 135])
def test_full_speed_into_a_wall_stops_without_tunnelling(oval_track, angle_deg: int) -> None:
    t = oval_track
    world = CarWorld(t, 2)
    world.reset(seed=0)
    i = 40  # bottom straight, heading +x; left wall at +y
    angle = np.radians(angle_deg)
    pos = np.stack([t.points[i] - t.normals[i] * 3.0] * 2)
    heading = np.array([t.start_heading + angle, t.start_heading - angle])  # left, right wall
    top = world.params.max_speed
    world.place(pos, heading, np.full(2, top))
    for _ in range(600):
        obs, reward, terminated, truncated, info = world.step(np.array([[1.0, 0.0]] * 2))
        if terminated.all():
            break
    assert info["crashed"].all() and terminated.all()
    rel = world.position - t.points[i]
    lateral = rel @ t.normals[i]
    assert np.all(np.abs(lateral) < t.width / 2)  # the centre never got past a wall face
    assert np.all(obs[:, -1] == 0.0)  # stopped
    world.step(np.array([[1.0, 1.0]] * 2))  # the solver's last push-out of the wall (< 5 cm)
    before = world.position.copy()
    for _ in range(30):
        world.step(np.array([[1.0, 1.0]] * 2))
    assert np.array_equal(world.position, before)


def test_reversing_car_gains_no_progress(default_track) -> None:
    world = CarWorld(default_track, 1, CarWorldConfig(max_time=10.0))
    world.reset(seed=0)
    total = 0.0
    while not world.done.all():
        obs, reward, *_ = world.step(np.array([[-1.0, 0.0]]))
        total += reward[0]
    assert total == 0.0  # whether the car crashed or not
    assert world.speed[0] < 0 or world.crashed[0]
    assert world.progress.s[0] < -10.0


def test_truncation_at_max_time_and_stall(default_track) -> None:
    cfg = CarWorldConfig(max_time=3.0, stall_time=1.0, stall_distance=2.0)
    world = CarWorld(default_track, 2, cfg)
    world.reset(seed=0)
    steps = 0
    while not world.done.all():
        *_, truncated, info = world.step(np.array([[0.0, 0.0], [1.0, 0.0]]))
        steps += 1
    assert truncated.all()
    assert info["stalled"].tolist() == [True, False]
    assert info["time_alive"][0] < 1.1 < 2.9 < info["time_alive"][1]


def test_a_car_moves_the_same_whatever_the_number_of_cars(default_track) -> None:
    rng = np.random.default_rng(0)
    alone, crowd = CarWorld(default_track, 1), CarWorld(default_track, 5)
    alone.reset(seed=0)
    crowd.reset(seed=0)
    for _ in range(500):
        act = np.stack([rng.uniform(0.3, 1.0, 5), rng.uniform(-1.0, 1.0, 5)], axis=1)
        obs_a, reward_a, *_ = alone.step(act[3:4])
        obs_c, reward_c, *_ = crowd.step(act)
        assert np.array_equal(obs_a[0], obs_c[3]) and reward_a[0] == reward_c[3]
    assert crowd.crashed.sum() >= 1  # random drivers: some crash, which must not matter


def test_place_brings_crashed_cars_back(oval_track) -> None:
    t = oval_track
    world = CarWorld(t, 1)
    world.reset(seed=0)
    aim = np.array([t.start_heading + np.pi / 2])  # straight at the left wall
    world.place(t.points[:1], aim, np.array([20.0]))
    for _ in range(120):
        *_, terminated, _, info = world.step(np.array([[1.0, 0.0]]))
    assert info["crashed"][0] and terminated[0]
    world.place(t.points[:1], np.array([t.start_heading]), np.array([10.0]))
    assert not world.done[0]
    for _ in range(120):
        *_, terminated, _, info = world.step(np.array([[0.5, 0.0]]))
    assert not info["crashed"][0] and info["distance"][0] > 15.0
