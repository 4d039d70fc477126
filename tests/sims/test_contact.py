"""Wall contacts in numpy (sims.contact, CarWorld's default engine) against pymunk: the
screen never misses a contact pymunk finds, and a world integrated in numpy drives exactly
as one stepped through pymunk."""

from __future__ import annotations

import numpy as np
import pymunk
import pytest

from sims.car import CarParams, make_car
from sims.car_world import CarWorld, CarWorldConfig
from sims.contact import WallContacts, core_segments, near_table
from sims.errors import SimsError
from sims.track import load_track


def drive(world: CarWorld, seed: int, steps: int):
    """For ``steps`` steps: odd cars steer at random but smoothly (they crash sooner or
    later, at all sorts of angles), even cars steer toward the open side with a little
    noise (they drive on, grazing walls now and then).  Returns, per step, the poses and
    the crash flags, and the last info."""
    rng = np.random.default_rng(seed)
    obs = world.reset(seed=seed)
    wander = np.zeros(world.n_agents)
    follow = np.arange(world.n_agents) % 2 == 0
    r = world.n_rays
    out = []
    info = None
    for _ in range(steps):
        wander = np.clip(wander + rng.normal(0, 0.15, world.n_agents), -1, 1)
        rule = np.clip(2.0 * (obs[:, r - 1] - obs[:, 0]) + obs[:, r - 2] - obs[:, 1]
                       + rng.normal(0, 0.3, world.n_agents), -1, 1)
        steer = np.where(follow, rule, wander)
        throttle = np.where(follow, 0.6, 0.4 + 0.6 * rng.random(world.n_agents))
        obs, *_, info = world.step(np.stack([throttle, steer], axis=1))
        out.append((world.position.copy(), world.heading.copy(), world.crashed.copy()))
        if world.done.all():
            break
    return out, info


@pytest.mark.parametrize("tracks", [["default"], ["oval", "procedural:4:1", "procedural:7:0.6"],
                                    ["maze", "oval"]],
                         ids=["one track", "three tracks", "a course with barriers"])
def test_numpy_engine_drives_exactly_as_pymunk(tracks) -> None:
    tracks = [load_track(t) for t in tracks]
    if any(len(t.barriers) for t in tracks):  # barriers are walls too: cars crash into them
        assert len(core_segments(tracks[0])[0]) == (len(tracks[0].left_core) +
                                                    len(tracks[0].right_core) +
                                                    len(tracks[0].barriers))
    moved = tracks[-1].starting_at(37)  # a moved start line shares its base's tables
    tracks = [*tracks, moved]
    counts = [40] * len(tracks)
    cfg = CarWorldConfig(max_time=20.0, start_jitter=2.0)
    runs = {}
    for engine in ("numpy", "pymunk"):
        world = CarWorld(tracks if len(tracks) > 1 else tracks[0],
                         counts if len(tracks) > 1 else counts[0], cfg, engine=engine)
        runs[engine] = drive(world, 3, 1200)
    (a, info_a), (b, info_b) = runs["numpy"], runs["pymunk"]
    assert len(a) == len(b)
    before = np.zeros(len(a[0][2]), bool)  # crashed before this step
    for (pa, ha, ca), (pb, hb, cb) in zip(a, b):
        assert np.array_equal(ca, cb)
        live = ~before  # driving, or crashing in this step: the same pose to the bit
        assert np.array_equal(pa[live], pb[live]) and np.array_equal(ha[live], hb[live])
        # a crashed car stays where it touched the wall; pymunk's solver still pushes
        # its body out of the wall in the next step, by less than 5 cm
        assert np.abs(pa - pb).max(initial=0) < 0.05
        before = ca
    crashed = a[-1][2]
    assert 0.3 < crashed.mean() < 1.0  # many contacts, and cars that never touched a wall
    for key in ("progress", "laps", "crashed", "time_alive", "best_lap_time"):
        np.testing.assert_array_equal(info_a[key], info_b[key])


def test_the_screen_never_misses_a_contact_pymunk_finds() -> None:
    """Boxes at random poses within a few metres of the walls of a hairpin track: every one
    that pymunk finds touching a wall capsule is among the candidates (most are)."""
    track = load_track("procedural:5:1")
    params = CarParams()
    contacts = WallContacts([track], params.length, params.width)
    rng = np.random.default_rng(0)
    n = 3000
    i = rng.integers(0, track.n_samples, n)
    side = rng.choice([-1.0, 1.0], n)
    lateral = side * (track.width / 2 - rng.uniform(-0.5, 3.0, n))
    pos = track.points[i] + track.normals[i] * lateral[:, None]
    pos += rng.normal(0, 0.3, (n, 2))
    heading = rng.uniform(-np.pi, np.pi, n)
    found = set(contacts.candidates(pos, heading, i, lateral).tolist())
    space = pymunk.Space()
    a, b = core_segments(track)
    for p, q in zip(a.tolist(), b.tolist()):
        space.add(pymunk.Segment(space.static_body, p, q, track.wall_radius))
    touching = []
    for k in range(n):
        body, shape = make_car(params, tuple(pos[k]), float(heading[k]))
        shape.filter = pymunk.ShapeFilter()
        space.add(body, shape)
        if space.shape_query(shape):
            touching.append(k)
        space.remove(body, shape)
    assert len(touching) > 300  # the sample really tests contacts
    assert set(touching) <= found
    assert len(found) < 2 * len(touching)  # and the screen is tight: few false alarms


def test_a_car_far_from_its_cell_is_checked_against_every_wall() -> None:
    """A stale centerline sample (a car the tracker lost) still gets an exact answer."""
    track = load_track("oval")
    params = CarParams()
    contacts = WallContacts([track], params.length, params.width)
    i = 40
    wall = track.points[i] + track.normals[i] * (track.width / 2 + 0.2)  # on the left wall
    free = track.points[i]  # in the middle of the road
    stale = np.array([(i + track.n_samples // 2) % track.n_samples] * 2)  # the far side
    cand = contacts.candidates(np.stack([wall, free]), np.full(2, 0.3), stale, np.zeros(2))
    assert cand.tolist() == [0]


def test_a_moved_start_line_rolls_its_base_table() -> None:
    base = load_track("procedural:2:0.8")
    moved = base.starting_at(123)
    rolled = near_table(moved, 12, 3.0)
    fresh = near_table(moved.moved_from, 12, 3.0)
    shift = 123 * 14
    np.testing.assert_array_equal(rolled[0], np.roll(fresh[0], -shift, axis=0))
    # and the rolled rows describe the moved track's own cells: same centres as built anew
    centres = moved.points[:, None, :] + moved.normals[:, None, :] * (
        -moved.width / 2 + moved.width / 12 * (np.arange(14) - 0.5))[None, :, None]
    np.testing.assert_allclose(rolled[2], centres.reshape(-1, 2))


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(SimsError, match="engine"):
        CarWorld(load_track("oval"), 2, engine="bullet")


def test_the_cell_lists_equal_a_brute_force_search() -> None:
    """Each cell's listed walls and nearest-wall distance, against every (cell, wall) pair."""
    from sims.geometry import point_segment_distance

    track = load_track("procedural:3:0.9")
    reach = 3.0
    near, dmin, centres, rho = near_table(track, 12, reach)
    a, b = core_segments(track)
    dist = point_segment_distance(centres, a, b)  # (C, S)
    np.testing.assert_allclose(dmin, dist.min(axis=1), rtol=1e-12)
    for c in range(0, len(centres), 7):
        listed = set(near[c][near[c] < len(a)].tolist())
        assert listed == set(np.flatnonzero(dist[c] <= reach + rho).tolist())


def test_a_course_barrier_stops_a_car_as_pymunk_does() -> None:
    """Cars driven straight at a barrier of the maze course, from both sides and at angles:
    they crash into it at the same step and pose with either engine, short of its line."""
    track = load_track("maze")
    assert len(track.barriers)
    a, b = track.barriers[0]
    mid, u = (a + b) / 2, (b - a) / np.linalg.norm(b - a)
    n = np.array([-u[1], u[0]])
    angles = np.radians([0.0, 25.0, -40.0])
    pos, heading = [], []
    for side in (1.0, -1.0):
        for ang in angles:
            pos.append(mid + side * 7.0 * n + u * 1.5 * np.sin(ang))
            d = -side * n
            heading.append(np.arctan2(d[1], d[0]) + ang)
    pos, heading = np.array(pos), np.array(heading)
    runs = {}
    for engine in ("numpy", "pymunk"):
        world = CarWorld(track, len(pos), CarWorldConfig(max_time=10.0), engine=engine)
        world.reset(seed=0)
        world.place(pos, heading, np.full(len(pos), 8.0))
        steps = np.zeros(len(pos), int)
        for k in range(300):
            world.step(np.tile([1.0, 0.0], (len(pos), 1)))
            steps[(steps == 0) & world.crashed] = k + 1
            if world.crashed.all():
                break
        runs[engine] = (steps, world.position.copy())
    assert (runs["numpy"][0] > 0).all()
    np.testing.assert_array_equal(runs["numpy"][0], runs["pymunk"][0])
    side = np.sign((pos - mid) @ n)
    assert np.all(side * ((runs["numpy"][1] - mid) @ n) > 0)  # never past the barrier's line
