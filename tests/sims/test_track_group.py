"""A TrackGroup shows one track's cars of a several-track world as the world of that track
alone would show them: what a renderer reads, compared with single-track worlds."""

from __future__ import annotations

import numpy as np

from sims.car_world import CarWorld, CarWorldConfig
from sims.track import load_track
from sims.track_group import TrackGroup


def test_track_groups_read_as_single_track_worlds():
    default = load_track("default")
    tracks = [load_track("procedural:7"), default, default.starting_at(200)]
    counts, seeds = [4, 6, 3], [1, 2, 3]
    cfg = CarWorldConfig(max_time=20.0, laps=1, stall_time=1.5, start_jitter=1.5)
    multi = CarWorld(tracks, counts, cfg)
    singles = [CarWorld(t, n, cfg) for t, n in zip(tracks, counts)]
    views = [TrackGroup(multi, g) for g in range(len(tracks))]
    obs = multi.reset(seed=seeds)
    for w, s in zip(singles, seeds):
        w.reset(seed=s)
    throttle = np.linspace(-0.1, 1.0, multi.n_agents)  # the slow cars stall
    for _ in range(int(cfg.max_time / cfg.dt) + 1):
        steer = 2.0 * (obs[:, 4] - obs[:, 0]) + 1.0 * (obs[:, 3] - obs[:, 1])
        act = np.stack([throttle, np.clip(steer, -1.0, 1.0)], axis=1)
        obs = multi.step(act)[0]
        for view, w, grp in zip(views, singles, multi.groups):
            w.step(act[grp])
            assert view.n_agents == w.n_agents and view.track is w.track
            assert view.time == w.time
            for name in ("obs", "position", "heading", "done", "finished", "crashed"):
                np.testing.assert_array_equal(getattr(view, name), getattr(w, name), name)
            for name, value in w.info().items():
                np.testing.assert_array_equal(view.info()[name], value, name)
            np.testing.assert_array_equal(view.lap_clock(), w.lap_clock())
            np.testing.assert_array_equal(view.car_polygons(), w.car_polygons())
            np.testing.assert_array_equal(view.ray_ranges(), w.ray_ranges())
            live = ~w.done  # a done car's drawn rays depend on which cars were sensed with it
            np.testing.assert_array_equal(view.ray_endpoints()[live], w.ray_endpoints()[live])
            assert len(view.wall_polylines()) == len(w.wall_polylines())
            for a, b in zip(view.wall_polylines(), w.wall_polylines()):
                np.testing.assert_array_equal(a, b)
        if multi.done.all():
            break
    info = multi.info()  # the comparison went through stalls and crashes
    assert info["crashed"].any() and info["stalled"].any(), info
