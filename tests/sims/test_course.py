"""Courses: a track with barriers and a goal (the shipped deceptive ``maze``)."""

from __future__ import annotations

import numpy as np
import pytest

from common.errors import UserError
from sims.car_world import CarWorld, CarWorldConfig
from sims.errors import SimsError
from sims.sensors import RaySensor, SensorParams
from sims.track import load_track
from sims.track_geometry import barrier_outlines, with_course

MAZE_BARRIER_X = -15.0  # configs/tracks/maze.yaml: the barrier across the bottom straight
MAZE_GOAL = (-30.0, 0.0)


@pytest.fixture(scope="module")
def maze():
    return load_track("maze")


def _angle(v):
    return np.arctan2(v[..., 1], v[..., 0])


def drive(world, controllers, limit=100_000):
    """Step ``world`` with ``controllers(world) -> (N, 2)`` until every car is done."""
    steps = 0
    while not world.done.all() and steps < limit:
        world.step(controllers(world))
        steps += 1
    return world.info()


def pursuit(track, lookahead=10, throttle=0.5):
    """A scripted driver: aim at the centerline sample ``lookahead`` ahead of the nearest."""
    def act(world):
        k = (world.progress.nearest + lookahead) % track.n_samples
        to = track.points[k] - world.position
        err = (_angle(to) - world.heading + np.pi) % (2 * np.pi) - np.pi
        return np.stack([np.full(world.n_agents, throttle), np.clip(2 * err, -1, 1)], axis=1)
    return act


def straight_at_goal(world):
    """Full throttle, steering at the goal in a straight line."""
    to = world.track.goal - world.position
    err = (_angle(to) - world.heading + np.pi) % (2 * np.pi) - np.pi
    return np.stack([np.ones(world.n_agents), np.clip(2 * err, -1, 1)], axis=1)


def test_maze_geometry_as_the_file_says(maze):
    assert maze.goal.tolist() == list(MAZE_GOAL) and maze.goal_radius == 4.0
    np.testing.assert_array_equal(maze.barriers, [[[MAZE_BARRIER_X, -6.5],
                                                    [MAZE_BARRIER_X, 6.5]]])
    np.testing.assert_allclose(maze.start_position, [0.0, 0.0], atol=1e-9)
    assert abs(maze.start_heading) < 0.01  # east, away from the goal
    # the barrier's outline is part of the drawn walls and of the sensor segments
    outline = barrier_outlines(maze.barriers, maze.wall_radius)[0]
    assert any(np.array_equal(p, outline) for p in maze.wall_polylines())
    assert len(maze.seg_a) == len(load_track("maze").seg_a)
    np.testing.assert_array_equal(maze.seg_a[-4:], outline)


def test_driving_straight_at_the_goal_ends_at_the_barrier(maze):
    world = CarWorld(maze, 1, CarWorldConfig(max_time=20.0))
    world.reset(seed=0)
    world.place(world.position, np.array([np.pi]))  # turned toward the goal
    info = drive(world, straight_at_goal)
    assert info["crashed"][0] and not info["reached"][0]
    # stopped by the barrier's face (core - wall radius), its nose first (half a length)
    x = info["goal_distance"][0] + MAZE_GOAL[0]
    face = MAZE_BARRIER_X + maze.wall_radius
    assert face < x <= face + world.params.length / 2 + 0.3
    assert info["goal_distance"][0] > 15.0 and info["goal_start"][0] == pytest.approx(30.0)


def test_the_way_around_reaches_the_goal(maze):
    world = CarWorld(maze, 1, CarWorldConfig(max_time=90.0), behaviour=True)
    world.reset(seed=0)
    info = drive(world, pursuit(maze))
    assert info["reached"][0] and info["finished"][0] and world.terminated[0]
    assert not info["crashed"][0]
    assert info["goal_distance"][0] <= maze.goal_radius
    # it drove most of the loop: the goal lies behind the barrier, 30 m from the start
    assert info["distance"][0] > 0.9 * maze.length - 30
    final = np.array([info["final_x"][0], info["final_y"][0]])
    assert np.linalg.norm(final - maze.goal) == pytest.approx(info["goal_distance"][0])


def test_rays_see_the_barrier_as_every_wall_segment_says(maze):
    sensor = RaySensor(maze, SensorParams(n_rays=7, fov=np.pi, range=50.0))
    rng = np.random.default_rng(3)
    n = 64  # cars on the bottom straight around the barrier, any heading
    s = rng.uniform(-30, 30, n)
    pos = np.stack([s, rng.uniform(-4, 4, n)], axis=1)
    pos[:, 0] = np.where(np.abs(pos[:, 0] - MAZE_BARRIER_X) < 3, 5.0, pos[:, 0])
    heading = rng.uniform(-np.pi, np.pi, n)
    world = CarWorld(maze, n)
    world.reset(seed=0)
    world.place(pos, heading)
    got = sensor.read(pos, heading, world.progress.nearest, world.progress.lateral)
    np.testing.assert_allclose(got, sensor.read_all_walls(pos, heading), rtol=0, atol=1e-9)
    # straight at the barrier from 10 m east of its face: the centre ray reads 10 m
    face = MAZE_BARRIER_X + maze.wall_radius
    world = CarWorld(maze, 1, CarWorldConfig(sensors=SensorParams(n_rays=3, range=50.0)))
    world.reset(seed=0)
    obs = world.place(np.array([[face + 10.0, 0.0]]), np.array([np.pi]))
    assert obs[0, 1] * 50.0 == pytest.approx(10.0)


def test_same_actions_same_episode_and_goal_only_where_a_track_has_one(maze):
    def run():
        world = CarWorld([maze, load_track("oval")], [3, 2], CarWorldConfig(max_time=30.0),
                         behaviour=True)
        world.reset(seed=[1, 2])
        rng = np.random.default_rng(0)
        return drive(world, lambda w: rng.uniform(-1, 1, (w.n_agents, 2)) * [0.3, 1] + [0.7, 0])
    a, b = run(), run()
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not a["reached"][3:].any()  # the oval has no goal


def test_course_mistakes_are_one_line_errors(tmp_path):
    base = load_track("oval")
    cases = [
        (dict(barriers=[[[10, 0], [10, 0]]]), "no length"),
        (dict(barriers=[[[0, -9], [0, 9]]]), "start line"),
        (dict(goal=[100, 60]), "off the road"),
        (dict(goal=[1, 0], goal_radius=3.0), "start inside the goal"),
        (dict(goal=[50, 0], goal_radius=0.0), "goal_radius > 0"),
    ]
    for kw, words in cases:
        with pytest.raises(SimsError, match=words):
            with_course(base, **kw, source="course.yaml")
    text = (tmp_path / "maze.yaml")
    src = load_track("maze").source
    body = open(src).read()
    for old, new, words in [
        ("goal: [-30.0, 0.0]", "goal: [-30.0]", "goal"),
        ("goal: [-30.0, 0.0]\n", "", "goal_radius' without a 'goal"),
        ("  - [[-15.0, -6.5], [-15.0, 6.5]]", "  - [-15.0, -6.5]", "barriers.0."),
        ("goal: [-30.0, 0.0]", "goal: [-30.0, 40.0]", "off the road"),
    ]:
        assert old in body
        text.write_text(body.replace(old, new))
        with pytest.raises(UserError, match=words) as err:  # SimsError or ConfigError
            load_track(str(text))
        assert "\n" not in str(err.value) and str(text) in str(err.value)
