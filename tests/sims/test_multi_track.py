"""A world of cars on several tracks at once equals separate single-track worlds, car by car."""

from __future__ import annotations

import numpy as np
import pytest

from sims.car_world import CarWorld, CarWorldConfig
from sims.errors import SimsError
from sims.track import load_track


def _driver(obs: np.ndarray, throttle: np.ndarray) -> np.ndarray:
    steer = 2.0 * (obs[:, 4] - obs[:, 0]) + 1.0 * (obs[:, 3] - obs[:, 1])
    return np.stack([throttle, np.clip(steer, -1.0, 1.0)], axis=1)


def _tracks():
    default = load_track("default")
    # two procedural tracks, the default track twice (once with a moved start line)
    return [load_track("procedural:3:0.8"), default, load_track("procedural:7"),
            default.starting_at(200)]


@pytest.mark.parametrize("cars_per_space", [50, 7])
def test_multi_track_equals_separate_worlds(cars_per_space):
    tracks = _tracks()
    counts = [9, 12, 5, 9]
    seeds, firsts = [11, 12, 13, 14], [0, 3, 0, 20]
    cfg = CarWorldConfig(max_time=45.0, laps=1, stall_time=2.0, start_jitter=2.0,
                         cars_per_space=cars_per_space)
    multi = CarWorld(tracks, counts, cfg)
    singles = [CarWorld(t, n, cfg) for t, n in zip(tracks, counts)]
    assert multi.n_agents == sum(counts)
    obs = multi.reset(seed=seeds, first_member=firsts)
    sobs = [w.reset(seed=s, first_member=f) for w, s, f in zip(singles, seeds, firsts)]
    np.testing.assert_array_equal(obs, np.concatenate(sobs))
    throttle = np.linspace(-0.1, 0.8, multi.n_agents)
    steps = 0
    while not multi.done.all():
        act = _driver(obs, throttle)
        obs, rew, term, trunc, info = multi.step(act)
        outs = [w.step(act[g]) for w, g in zip(singles, multi.groups)]
        for k, mine in enumerate((obs, rew, term, trunc)):
            np.testing.assert_array_equal(mine, np.concatenate([o[k] for o in outs]))
        for key, value in info.items():
            np.testing.assert_array_equal(value, np.concatenate([o[4][key] for o in outs]))
        np.testing.assert_array_equal(multi.position,
                                      np.concatenate([w.position for w in singles]))
        np.testing.assert_array_equal(multi.heading,
                                      np.concatenate([w.heading for w in singles]))
        # rays of cars still driving (a done car's last drawn rays depend on which cars
        # its world sensed together, not its observation, which is frozen)
        live = ~multi.done
        np.testing.assert_array_equal(
            multi.ray_endpoints()[live],
            np.concatenate([w.ray_endpoints() for w in singles])[live])
        steps += 1
    assert all(w.done.all() for w in singles)
    info = multi.info()
    # the episode exercised crashes, laps and stalls
    assert info["crashed"].any() and info["laps"].any() and info["stalled"].any()
    assert steps > 100


def test_multi_track_place_and_checks():
    tracks = _tracks()[:2]
    world = CarWorld(tracks, [2, 3])
    world.reset(seed=0)
    single = CarWorld(tracks[1], 3)
    single.reset(seed=0)
    pos = np.concatenate([np.repeat(tracks[0].points[5:6], 2, 0),
                          np.repeat(tracks[1].points[40:41], 3, 0)])
    heading = np.zeros(5)
    obs = world.place(pos, heading, np.full(5, 10.0))
    np.testing.assert_array_equal(obs[2:], single.place(pos[2:], heading[2:], np.full(3, 10.0)))
    with pytest.raises(SimsError):
        CarWorld(tracks, [2])
    with pytest.raises(ValueError):
        world.reset(seed=[1, 2, 3])
