"""The live window with evolved sensors (cars.sensors: evolve): it shows what the headless run
computes, each car with its own rays, and R replays the best genome with its rays."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evo.backends import SerialBackend
from evo.run import EvolutionRun
from sims import ray_layout
from tests.gui import gui  # noqa: F401 - the session fixture
from tests.neuroevo.test_watch import SMALL, make_watch, press, small_cfg

EVOLVE = {"sensors": "evolve", "world": SMALL["cars"]["world"]}


@pytest.mark.parametrize("over", [
    {"cars": EVOLVE},
    # three training tracks, played in one pass (one several-track world)
    {"episodes": 3, "cars": {**EVOLVE, "tracks": ["oval", "procedural:3:1", "sbends"]}},
])
def test_a_window_run_with_evolved_sensors_gives_the_headless_fitness(
        gui, tmp_path, over):  # noqa: F811
    from neuroevo.watch import WindowBackend

    cfg = small_cfg("cars", **over)
    headless = EvolutionRun(cfg, tmp_path / "headless")
    assert headless.run() == "completed"
    windowed = EvolutionRun(cfg, tmp_path / "window")
    watch = make_watch(windowed.task, speed=8)
    try:
        assert windowed.run(WindowBackend(windowed, watch)) == "completed"
        assert watch.frame > 5
    finally:
        watch.close()
    assert json.dumps(windowed.rows, sort_keys=True) == json.dumps(headless.rows, sort_keys=True)


def test_evolved_cars_are_shown_and_replayed_with_their_own_rays(gui, tmp_path):  # noqa: F811
    from pyglet.window import key

    from neuroevo.watch import WindowBackend

    run = EvolutionRun(small_cfg("cars", cars=EVOLVE), tmp_path / "run")
    thetas = run.strategy.ask(np.random.default_rng(0))
    expected = SerialBackend(run.spec).evaluate(thetas, 11)
    watch = make_watch(run.task, speed=4)
    watch.best_ever = (thetas[4], 0.5)
    seen = {}

    def script(w):
        if w.frame == 2:
            seen["evolve"] = (w._world.ray_ranges().copy(), w._world.sensor.layout[0].copy())
            press(w, key.R)  # replay the best-ever genome: its rays too
        elif w.frame == 5:
            seen["replay"] = (w.mode, w._world.ray_ranges().copy())
            press(w, key.R)

    watch.frame_hooks.append(script)
    try:
        got = WindowBackend(run, watch).evaluate(thetas, 11)
    finally:
        watch.close()
    np.testing.assert_array_equal(got["fitness"], expected["fitness"])
    d = run.net.num_params
    angles, ranges = ray_layout.layout(run.cfg.cars.world.sensors, thetas[:, d:])
    assert len(np.unique(ranges.round(9), axis=0)) == len(thetas)  # ten layouts
    np.testing.assert_array_equal(seen["evolve"][0], ranges)
    np.testing.assert_array_equal(seen["evolve"][1], angles)
    assert seen["replay"][0] == "replay"
    np.testing.assert_array_equal(seen["replay"][1], ranges[4:5])
