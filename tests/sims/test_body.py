"""Evolved bodies (sims.body) and walker worlds whose walkers each have their own body."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from common.config import parse_yaml
from sims.body import (
    LENGTH_SPREAD,
    MOTOR_SPREAD,
    WIDTH_SPREAD,
    body_genes_of,
    joint_tree,
    n_genes,
    scaled_creature,
)
from sims.errors import SimsError
from sims.walker import creature_yaml, load_creature, parse_creature
from sims.walker_world import WalkerWorld, WalkerWorldConfig

CREATURES = ["biped", "quadruped"]


def genes_of(spec, length, width, motor) -> np.ndarray:
    """One gene value for every length, every width and every motor."""
    return np.repeat([length, width, motor], [spec.n_bodies, spec.n_bodies, spec.n_joints])


def lowest(spec) -> float:
    """The lowest corner of any box (all shipped boxes are upright)."""
    return min(b.position[1] - b.size[1] / 2 for b in spec.bodies)


@pytest.mark.parametrize("name", CREATURES)
def test_genes_zero_give_back_the_shipped_creature_exactly(name):
    spec = load_creature(name)
    assert n_genes(spec) == 2 * spec.n_bodies + spec.n_joints
    assert scaled_creature(spec, np.zeros(n_genes(spec))) == spec


@pytest.mark.parametrize("name", CREATURES)
def test_every_scale_stays_in_its_bounds_whatever_the_genes(name):
    spec = load_creature(name)
    rng = np.random.default_rng(0)
    for genes in [np.full(n_genes(spec), 1e6), np.full(n_genes(spec), -1e6),
                  rng.normal(0, 50, n_genes(spec)), rng.choice([-1e9, 1e9], n_genes(spec))]:
        body = scaled_creature(spec, genes)
        eps = 1e-12
        for old, new in zip(spec.bodies, body.bodies):
            w, h = new.size[0] / old.size[0], new.size[1] / old.size[1]
            assert 1 - WIDTH_SPREAD - eps <= w <= 1 + WIDTH_SPREAD + eps
            assert 1 - LENGTH_SPREAD - eps <= h <= 1 + LENGTH_SPREAD + eps
            assert new.mass == pytest.approx(old.mass * w * h, rel=1e-12)  # same density
            assert new.angle == old.angle
        for old, new in zip(spec.joints, body.joints):
            t = new.max_torque / old.max_torque
            assert 1 - MOTOR_SPREAD - eps <= t <= 1 + MOTOR_SPREAD + eps
            assert (new.limits, new.max_speed, new.a, new.b) == \
                (old.limits, old.max_speed, old.a, old.b)
    with pytest.raises(ValueError, match="body genes"):
        scaled_creature(spec, np.zeros(n_genes(spec) + 1))
    with pytest.raises(ValueError, match="finite"):
        scaled_creature(spec, np.full(n_genes(spec), np.nan))


def local(body, point) -> np.ndarray:
    """``point`` in ``body``'s own axes, as a fraction of its box's width and height."""
    c, s = np.cos(body.angle), np.sin(body.angle)
    d = np.asarray(point) - body.position
    return np.array([c * d[0] + s * d[1], -s * d[0] + c * d[1]]) / body.size


@pytest.mark.parametrize("name", CREATURES)
def test_joints_stay_where_they_were_on_both_bodies_and_the_feet_on_the_ground(name):
    spec = load_creature(name)
    rng = np.random.default_rng(1)
    for _ in range(10):
        genes = rng.normal(0, 2, n_genes(spec))
        body = scaled_creature(spec, genes)
        for old, new in zip(spec.joints, body.joints):
            for i in (old.a, old.b):  # the anchor at the same place of each box
                np.testing.assert_allclose(local(body.bodies[i], new.anchor),
                                           local(spec.bodies[i], old.anchor), atol=1e-12)
        assert lowest(body) == pytest.approx(0.0, abs=1e-12)
        assert body.bodies[body.torso].position[0] == spec.bodies[spec.torso].position[0]
        np.testing.assert_allclose(body_genes_of(spec, body), genes, rtol=1e-6, atol=1e-6)
        # still a valid creature file (nothing below the ground), and it reads back exactly
        again = parse_creature(parse_yaml(creature_yaml(body, "a comment")), "again")
        assert dataclasses.replace(again, source=body.source) == body


def test_a_creature_whose_joints_are_no_tree_is_refused(tmp_path: Path):
    ring = """\
name: ring
torso: a
feet: [b]
bodies:
  a: {size: [0.4, 0.2], position: [0.0, 0.7], mass: 5.0}
  b: {size: [0.1, 0.6], position: [0.0, 0.3], mass: 1.0}
  c: {size: [0.1, 0.6], position: [0.3, 0.3], mass: 1.0}
joints:
  j1: {a: a, b: b, anchor: [0.0, 0.6], limits: [-1.0, 1.0], max_torque: 50.0}
  j2: {a: b, b: c, anchor: [0.2, 0.3], limits: [-1.0, 1.0], max_torque: 50.0}
  j3: {a: c, b: a, anchor: [0.3, 0.6], limits: [-1.0, 1.0], max_torque: 50.0}
"""
    loose = ring.replace("  j3: {a: c, b: a, anchor: [0.3, 0.6], limits: [-1.0, 1.0], "
                         "max_torque: 50.0}\n", "").replace("j2: {a: b, b: c", "j2: {a: b, b: a")
    for text, fragment in ((ring, "it has 3"), (loose, "c cannot be reached")):
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        spec = load_creature(str(path))
        with pytest.raises(SimsError) as err:
            joint_tree(spec)
        assert fragment in str(err.value) and str(path) in str(err.value)
        assert "tree" in str(err.value) and "\n" not in str(err.value)
    for name in CREATURES:  # every shipped creature is a tree
        assert len(joint_tree(load_creature(name))) == load_creature(name).n_joints


@pytest.mark.parametrize("name", CREATURES)
def test_bodies_at_the_corners_of_the_bounds_stand_still_for_four_seconds(name):
    spec = load_creature(name)
    big = 30.0  # tanh(30) = 1: the bounds themselves
    corners = [genes_of(spec, *c) for c in itertools.product((-big, 0.0, big), repeat=3)]
    bodies = [scaled_creature(spec, g) for g in corners]
    world = WalkerWorld(spec, len(bodies), WalkerWorldConfig(max_time=4.0))
    world.set_bodies(bodies)
    world.reset(seed=0)
    zeros = np.zeros((len(bodies), world.act_dim))
    tilt = 0.0
    while not world.done.all():
        obs, *_ = world.step(zeros)
        tilt = max(tilt, np.abs(obs[:, 0]).max())
    info = world.info()
    assert not info["fallen"].any() and (info["time_alive"] == pytest.approx(4.0))
    assert np.abs(info["distance"]).max() < 0.2
    rest = np.array([b.bodies[b.torso].position[1] for b in bodies])
    assert (info["torso_height"] > 0.9 * rest).all()
    assert tilt < 0.25  # rad: upright all along (a biped leans back up to ~0.14 rad)


@pytest.mark.parametrize("name", CREATURES)
def test_a_world_of_own_bodies_moves_each_walker_as_a_world_of_its_own(name):
    """N walkers with their own bodies in one world == N one-walker worlds, each of its
    own creature (the reference knows nothing of set_bodies), bit for bit."""
    spec = load_creature(name)
    rng = np.random.default_rng(2)
    bodies = [scaled_creature(spec, rng.normal(0, 1.5, n_genes(spec))) for _ in range(3)]
    bodies.append(spec)
    cfg = WalkerWorldConfig(max_time=2.0, ground_roughness=0.1, ground_sensors=2)
    crowd = WalkerWorld(spec, 4, cfg)
    crowd.set_bodies(bodies)
    alone = [WalkerWorld(b, 1, cfg) for b in bodies]
    obs = crowd.reset(seed=4)
    for i, w in enumerate(alone):
        assert np.array_equal(w.reset(seed=4)[0], obs[i])
        assert w.creatures[0] is bodies[i] and crowd.creatures[i] is bodies[i]
    np.testing.assert_array_equal(crowd.body_sizes,
                                  np.concatenate([w.body_sizes for w in alone]))
    while not crowd.done.all():
        act = rng.uniform(-1, 1, (4, crowd.act_dim))
        obs, reward, term, trunc, info = crowd.step(act)
        for i, w in enumerate(alone):
            o, r, t, u, inf = w.step(act[i:i + 1])
            assert np.array_equal(o[0], obs[i]) and r[0] == reward[i]
            assert (t[0], u[0]) == (term[i], trunc[i])
            assert all(inf[k][0] == info[k][i] for k in info)
            assert np.array_equal(w.body_polygons()[0], crowd.body_polygons()[i])


def test_set_bodies_takes_effect_at_reset_and_checks_what_it_gets(tmp_path: Path):
    spec = load_creature("biped")
    tall = scaled_creature(spec, genes_of(spec, 30.0, 0.0, 0.0))
    world = WalkerWorld(spec, 2)
    world.reset(0)
    world.set_bodies([spec, tall])
    assert np.array_equal(world.body_sizes[0], world.body_sizes[1])  # not before reset
    world.reset(0)
    sizes = world.body_sizes
    assert sizes.shape == (2, spec.n_bodies, 2)
    np.testing.assert_allclose(sizes[1, :, 1] / sizes[0, :, 1], 1 + LENGTH_SPREAD)
    polys = world.body_polygons()
    height = polys[..., 1].max(axis=(1, 2)) - polys[..., 1].min(axis=(1, 2))
    assert height[1] > 1.3 * height[0]
    assert world.obs[:, 4] == pytest.approx(1.0, abs=1e-3)  # each at its own rest height
    world.set_bodies(None)
    world.reset(0)
    assert np.array_equal(world.body_sizes[0], world.body_sizes[1])
    with pytest.raises(ValueError, match="3 bodies for a world of 2"):
        world.set_bodies([spec] * 3)
    quad = load_creature("quadruped")
    with pytest.raises(SimsError, match="cannot walk among 'biped'"):
        world.set_bodies([spec, quad])
    stiff = dataclasses.replace(spec, joints=(dataclasses.replace(spec.joints[0],
                                                                  limits=(-0.1, 0.1)),
                                              *spec.joints[1:]))
    with pytest.raises(SimsError, match="limits"):
        world.set_bodies([spec, stiff])
