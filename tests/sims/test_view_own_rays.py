"""The car renderer draws the leader's own rays (evolved sensors: each car its own angles and
ranges), read back from a real window (see tests/gui.py)."""

from __future__ import annotations

import numpy as np
import pytest

from sims import ray_layout
from sims.sensors import SensorParams
from tests.gui import gui  # noqa: F401 - the session fixture
from tests.sims.test_view import H, W, at, frame


@pytest.fixture(scope="module")
def window(gui):  # noqa: F811
    from common.window import open_window

    win = open_window(W, H, "test_view_own_rays", offscreen=True)
    yield win
    win.close()


def test_the_leader_is_drawn_with_its_own_rays(window):
    import pyglet

    from sims.car_world import CarWorld
    from sims.view import cars as view

    fan = SensorParams()
    world = CarWorld("default", 2, max_range=ray_layout.max_range(fan))
    angles = np.array([fan.angles, fan.angles + np.pi / 8])  # car 1: turned a half-spacing
    world.set_sensors(angles, np.array([[50.0] * 5, [30.0] * 5]))
    world.reset(0)
    batch = pyglet.graphics.Batch()
    r = view.CarRenderer(window, batch, (0, 0, W, H))
    r.attach(world)
    origin = world.position[0]  # both cars start here
    shown = []
    for leader in (0, 1):
        r.update(world, np.zeros(2), leader=leader)
        px = frame(window, r, batch)
        probes = [r.world_to_screen(origin + 0.8 * (world.ray_endpoints()[car] - origin))
                  for car in (0, 1)]
        shown.append([(np.abs(at(px, p).astype(int) - view.ROAD).sum(axis=1) > 30).mean()
                      for p in probes])
    assert shown[0][0] >= 0.6 and shown[0][1] <= 0.4  # leader 0: its rays, not car 1's
    assert shown[1][1] >= 0.6 and shown[1][0] <= 0.4  # and the other way round
    assert world.ray_ranges()[1].tolist() == [30.0] * 5

