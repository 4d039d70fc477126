"""sims.view: renderers draw what the worlds hold, read back from a real window (Xvfb, or
pyglet's EGL headless mode; see tests/gui.py)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.gui import gui  # noqa: F401 - the session fixture

W, H = 960, 640


def test_importing_sims_view_does_not_import_pyglet():
    code = ("import sys, sims.view, common.window; "
            "sys.exit(1 if 'pyglet' in sys.modules else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@pytest.fixture(scope="module")
def window(gui):  # noqa: F811
    from common.window import open_window

    win = open_window(W, H, "test_view", offscreen=True)
    yield win
    win.close()


def frame(window, renderer, batch):
    """Draw one frame and return its pixels, row 0 at the bottom (``pixels[y, x]`` is
    window coordinate ``(x, y)``)."""
    from common.window import read_pixels
    from sims.view.draw import clear

    clear(window, renderer.background)
    batch.draw()
    pixels = read_pixels(window)[::-1]
    window.flip()
    return pixels


def at(pixels, xy):
    """Pixel colours at window coordinates ``(K, 2)``."""
    ij = np.floor(np.asarray(xy)).astype(int)
    return pixels[ij[:, 1], ij[:, 0]]


def test_car_renderer_draws_the_road_and_every_car_where_it_is(window):
    import pyglet

    from sims.car_world import CarWorld
    from sims.view import cars as view

    world = CarWorld("default", 12)
    world.reset(0)
    t = world.track
    idx = np.linspace(0, t.n_samples, 12, endpoint=False).astype(int) + 7
    lateral = np.resize([-3.0, 0.0, 3.0], 12)[:, None]
    pos = t.points[idx] + lateral * t.normals[idx]
    heading = np.arctan2(t.tangents[idx, 1], t.tangents[idx, 0])
    world.place(pos, heading)
    batch = pyglet.graphics.Batch()
    r = view.CarRenderer(window, batch, (0, 0, W, H))
    r.attach(world)
    fitness = np.linspace(0.0, 1.0, 12)
    r.update(world, fitness, leader=None)
    cars_vlist = r.cars.vlist
    px = frame(window, r, batch)

    # the road's colour along the centerline, away from cars and the start line
    d = np.linalg.norm(t.points[:, None] - pos[None], axis=2).min(axis=1)
    free = (d > 5.0) & (np.linalg.norm(t.points - t.points[0], axis=1) > 2.0)
    road = at(px, r.world_to_screen(t.points[free]))
    assert (road == view.ROAD).all(axis=1).all()
    # every car in its own colour at its position (they are alive: opaque)
    got = at(px, r.world_to_screen(world.position))
    np.testing.assert_array_equal(got, r.car_colors[:, :3])
    assert len({tuple(c) for c in got}) > 6  # coloured by fitness, not all the same
    # grass outside the track (the window's corners)
    assert (at(px, [[2, 2], [W - 3, H - 3]]) == view.GRASS).all()

    # the leader is highlighted; a crashed car is dimmed (blended towards the road)
    world.crashed[3] = world.terminated[3] = True
    r.update(world, fitness, leader=11)
    px = frame(window, r, batch)
    got = at(px, r.world_to_screen(world.position))
    np.testing.assert_array_equal(got[11], view.LEADER)
    assert np.abs(got[3].astype(int) - view.ROAD).sum() < 80
    assert r.car_colors[3, 3] == view.DIM_ALPHA
    assert r.cars.vlist is cars_vlist  # one vertex list for all cars, rewritten in place


def test_car_renderer_draws_the_leaders_rays(window):
    import pyglet

    from sims.car_world import CarWorld
    from sims.view import cars as view

    world = CarWorld("default", 3)
    world.reset(0)
    batch = pyglet.graphics.Batch()
    r = view.CarRenderer(window, batch, (0, 0, W, H))
    r.attach(world)
    r.update(world, np.zeros(3), leader=0)
    px = frame(window, r, batch)
    ends = world.ray_endpoints()[0]  # (R, 2)
    origin = world.position[0]
    # a point 80% of the way along each ray (beyond the car, before the wall)
    probe = r.world_to_screen(origin + 0.8 * (ends - origin))
    colours = at(px, probe).astype(int)
    assert (np.abs(colours - view.ROAD).sum(axis=1) > 30).mean() >= 0.6


def test_walker_renderer_ground_bodies_and_camera(window):
    import pyglet

    from sims.view import walkers as view
    from sims.walker_world import WalkerWorld

    world = WalkerWorld("biped", 4)
    world.reset(0)
    rng = np.random.default_rng(1)
    for _ in range(30):
        world.step(rng.uniform(-1, 1, (4, world.act_dim)))
    batch = pyglet.graphics.Batch()
    r = view.WalkerRenderer(window, batch, (0, 0, W, H))
    r.attach(world)
    fitness = world.info()["distance"]
    r.update(world, fitness, leader=None)
    px = frame(window, r, batch)
    # ground below y = 0 across the view, sky above
    xs = r.camera.to_world([[40, 0], [W - 40, 0]])[:, 0]
    below = r.world_to_screen(np.stack([np.linspace(*xs, 9), np.full(9, -1.0)], 1))
    assert (at(px, below) == view.GROUND).all()
    above = r.world_to_screen(np.stack([np.linspace(*xs, 9), np.full(9, 2.6)], 1))
    assert (at(px, above) == view.SKY).all()
    # the torsos are drawn (translucent over the sky)
    torso = world.state[:, world.spec.torso, :2]
    got = at(px, r.world_to_screen(torso)).astype(int)
    assert (np.abs(got - view.SKY).sum(axis=1) > 60).all()
    # the camera follows the leader
    world.state[2, :, 0] += 40.0  # a leader far ahead (only drawing reads this)
    for _ in range(60):
        r.focus(world, 2)
    r.update(world, fitness, leader=2)
    centre = r.world_to_screen(world.state[2, world.spec.torso, :2])
    assert abs(centre[0] - W / 2) < 5
    px = frame(window, r, batch)
    assert (at(px, centre[None]) != view.SKY).any()


# -- text: every label on whole pixels, none cut ------------------------------------------
@pytest.mark.parametrize("font,size,anchor_y", [("DejaVu Sans Mono", 8, "center"),
                                                (None, 7, "center"), (None, 10, "baseline"),
                                                (None, 9, "top")])
def test_labels_at_fractional_positions_keep_minus_signs_and_underscores(window, font, size,
                                                                          anchor_y):
    """Text at half a pixel used to lose a row of ink: "ankle_l -1.00" read "ankle l 1.00"."""
    import pyglet

    from common.window import read_pixels
    from sims.view.draw import clear, label
    from tests.sims.textcheck import assert_glyph_drawn, glyph_ink, ink

    batch = pyglet.graphics.Batch()
    text = "ankle_l -1.00"
    labels = [label(text, 20 + 200 * i + fx, 300 + fy, batch, None, size=size, font=font,
                    anchor_y=anchor_y)
              for i, (fx, fy) in enumerate([(0, 0), (0.5, 0.5), (0.25, 0.5), (0.5, 0.75)])]
    clear(window, (0, 0, 0))
    batch.draw()
    mask = ink(read_pixels(window)[::-1], (0, 0, 0))
    window.flip()
    whole = [glyph_ink(mask, labels[0], k)[0] for k in range(len(text))]
    for lbl in labels:
        assert_glyph_drawn(mask, lbl, "_")
        assert_glyph_drawn(mask, lbl, "-")
        # every glyph has the ink it has at whole pixels
        assert [glyph_ink(mask, lbl, k)[0] for k in range(len(text))] == whole, (lbl.x, lbl.y)
    for lbl in labels:
        lbl.delete()


def test_walker_distance_labels_show_their_minus_signs_and_are_never_cut(window):
    import pyglet

    from sims.view import walkers as view
    from sims.walker_world import WalkerWorld
    from tests.sims.textcheck import assert_glyph_drawn, ink, inside

    world = WalkerWorld("biped", 1)
    world.reset(0)
    batch = pyglet.graphics.Batch()
    vw = 811  # markers at -4 m and 4 m fall on the viewport's edges (x = 6, 806.5)
    r = view.WalkerRenderer(window, batch, (0, 0, vw, H))
    r.attach(world)
    r.camera.scale = 100.0
    r.camera.offset = np.array([vw / 2 + 0.5, 200.5])  # markers at half pixels
    r.update(world, np.zeros(1), leader=None)
    px = frame(window, r, batch)
    mask = ink(px, view.GROUND)
    shown = {lb.text: lb for lb in r._labels if lb.x > -100}
    for text in ("-3 m", "-2 m", "-1 m"):
        assert_glyph_drawn(mask, shown[text], "-")
    # the labels of -4 m and 4 m would be cut by the viewport's edges: they are not shown
    assert {"-3 m", "-2 m", "-1 m", "0 m", "1 m", "2 m", "3 m"} == set(shown)
    assert r.world_to_screen([[4.0, 0.0]])[0, 0] < vw < r.world_to_screen([[5.0, 0.0]])[0, 0]
    for text, lb in shown.items():
        assert inside(lb, (0, 0, vw, H)), text
    # the marker the edge would cut is hidden: below the ground line, right of the viewport's
    # edge, nothing but the window's background
    ground_y = int(r.world_to_screen([[0.0, 0.0]])[0, 1])
    edge = px[: ground_y - 8, vw:]
    assert (np.abs(edge.astype(int) - view.SKY).sum(axis=2) == 0).all()


def test_walker_renderer_draws_each_walker_with_its_own_body(window):
    """Walkers of evolved bodies (a short and a tall biped) are drawn each as tall as its
    own body: the top of each head where that body's head is."""
    import pyglet

    from sims.body import n_genes, scaled_creature
    from sims.view import walkers as view
    from sims.walker import load_creature
    from sims.walker_world import WalkerWorld

    spec = load_creature("biped")
    lengths = np.zeros(n_genes(spec))
    bodies = []
    for g in (-30.0, 30.0):  # every box 0.6x, then 1.4x as tall
        lengths[:spec.n_bodies] = g
        bodies.append(scaled_creature(spec, lengths))
    world = WalkerWorld(spec, 2)
    world.set_bodies(bodies)
    world.reset(0)
    world.state[1, :, 0] += 1.5  # side by side (only drawing reads this)
    batch = pyglet.graphics.Batch()
    r = view.WalkerRenderer(window, batch, (0, 0, W, H))
    r.attach(world)
    r.look_at(0.75)
    r.update(world, np.zeros(2), leader=None)
    px = frame(window, r, batch)
    head = spec.bodies.index(next(b for b in spec.bodies if b.name == "head"))
    tops = []
    for i, body in enumerate(bodies):
        top = body.bodies[head].position[1] + body.bodies[head].size[1] / 2  # m
        x = world.state[i, head, 0]
        inside, outside = r.world_to_screen([[x, top - 0.03], [x, top + 0.03]])
        assert (np.abs(at(px, inside[None]).astype(int) - view.SKY).sum() > 60)
        assert (at(px, outside[None]) == view.SKY).all()
        tops.append(top)
    assert tops[1] > 1.3 * tops[0]
    polys = world.body_polygons()
    assert np.ptp(polys[1, ..., 1]) > 1.3 * np.ptp(polys[0, ..., 1])


def test_car_renderer_draws_a_courses_barrier_and_goal(window):
    import pyglet

    from sims.car_world import CarWorld
    from sims.view import cars as view

    world = CarWorld("maze", 1)
    world.reset(0)
    t = world.track
    batch = pyglet.graphics.Batch()
    r = view.CarRenderer(window, batch, (0, 0, W, H))
    r.attach(world)
    r.update(world, np.zeros(1), leader=None)
    px = frame(window, r, batch)

    def near(points, colour):
        """Whether ``colour`` is drawn within a pixel of each screen point."""
        found = []
        for x, y in np.floor(r.world_to_screen(points)).astype(int):
            patch = px[y - 1: y + 2, x - 1: x + 2].reshape(-1, 3)
            found.append(bool((patch == colour).all(axis=1).any()))
        return np.array(found)

    a = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    ring = t.goal + t.goal_radius * np.stack([np.cos(a), np.sin(a)], axis=1)
    assert near(ring, view.GOAL).all()
    assert not near(t.goal[None], view.GOAL).any()  # a ring, not a disc
    # the barrier's two long sides, across the road
    (x0, y0), (x1, y1) = t.barriers[0]
    ys = np.linspace(y0 + 1, y1 - 1, 5)
    for side in (-1, 1):
        pts = np.stack([np.full(5, x0 + side * t.wall_radius), ys], axis=1)
        assert near(pts, view.WALL).all()
    # road between the barrier and the goal, untouched
    assert (at(px, r.world_to_screen([[-22.0, 3.0]])) == view.ROAD).all()
