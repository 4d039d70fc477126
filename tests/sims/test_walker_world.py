"""Walker world: creature files, standing still, falling, determinism, contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.errors import UserError
from sims.errors import SimsError
from sims.walker import CREATURES_DIR, load_creature
from sims.walker_world import WalkerWorld, WalkerWorldConfig


def test_shipped_creatures_load() -> None:
    biped, quad = load_creature("biped"), load_creature("quadruped")
    assert biped.n_joints == 7 and len(biped.feet) == 2
    assert quad.n_joints == 9 and len(quad.feet) == 4
    assert load_creature(str(CREATURES_DIR / "biped.yaml")).bodies == biped.bodies


def test_contract(tmp_path: Path) -> None:
    world = WalkerWorld("biped", 3, WalkerWorldConfig(max_time=0.5))
    j = world.act_dim
    assert world.obs_dim == 5 + 2 * j + 2
    obs = world.reset(seed=0)
    assert obs.shape == (3, world.obs_dim)
    steps = 0
    while not (world.terminated | world.truncated).all():
        obs, reward, terminated, truncated, info = world.step(np.zeros((3, j)))
        steps += 1
    assert steps == 30 and truncated.all() and not terminated.any()
    assert reward.shape == (3,) and set(info) >= {"distance", "fallen", "time_alive"}
    assert world.body_poses().shape == (3, world.n_bodies, 3)
    assert world.body_polygons().shape == (3, world.n_bodies, 4, 2)
    with pytest.raises(ValueError):
        world.step(np.zeros((3, j + 1)))


@pytest.mark.parametrize("name", ["biped", "quadruped"])
def test_zero_commands_stand_still_and_limp_bodies_fall(name: str) -> None:
    n = 2
    standing = WalkerWorld(name, n, WalkerWorldConfig(max_time=4.0))
    standing.reset(seed=0)
    limp = WalkerWorld(name, n, WalkerWorldConfig(max_time=4.0, motor_scale=0.0))
    limp.reset(seed=0)
    zeros = np.zeros((n, standing.act_dim))
    for _ in range(240):
        _, _, term_s, _, info_s = standing.step(zeros)
        _, _, term_l, _, info_l = limp.step(zeros)
    # holding the rest pose: upright, no travel
    assert not term_s.any() and not info_s["fallen"].any()
    assert np.all(np.abs(info_s["distance"]) < 0.1)
    rest_height = standing.spec.bodies[standing.spec.torso].position[1]
    assert np.all(info_s["torso_height"] > 0.9 * rest_height)
    feet = standing.obs[:, -len(standing.spec.feet) :]
    assert np.all(feet == 1.0)  # standing on all feet
    # without motor torque it collapses, and the fall is detected
    assert term_l.all() and info_l["fallen"].all()
    assert np.all(info_l["time_alive"] < 3.0)
    assert np.all(np.abs(info_l["distance"]) < 1.5)  # falling over is not walking


def test_same_seed_same_motion_on_uneven_ground() -> None:
    cfg = WalkerWorldConfig(ground_roughness=0.3, max_time=5.0)
    a, b = WalkerWorld("quadruped", 4, cfg), WalkerWorld("quadruped", 4, cfg)
    oa, ob = a.reset(seed=9), b.reset(seed=9)
    assert np.array_equal(a.ground, b.ground) and np.ptp(a.ground[:, 1]) > 0.3
    rng = np.random.default_rng(0)
    for _ in range(200):
        act = np.sin(np.arange(a.act_dim) + rng.normal(size=(4, 1)))
        oa, ra, *_ = a.step(act)
        ob, rb, *_ = b.step(act)
        assert np.array_equal(oa, ob) and np.array_equal(ra, rb)
    c = WalkerWorld("quadruped", 4, cfg)
    c.reset(seed=10)
    assert not np.array_equal(c.ground, a.ground)


def test_walkers_do_not_interact() -> None:
    world = WalkerWorld("biped", 3, WalkerWorldConfig(max_time=3.0))
    world.reset(seed=0)
    act = np.zeros((3, world.act_dim))
    act[1] = 0.8  # only walker 1 moves; the others stand where it flails
    for _ in range(120):
        world.step(act)
    assert np.allclose(world.body_poses()[0], world.body_poses()[2])
    assert not np.allclose(world.body_poses()[0], world.body_poses()[1])


GOOD = """\
name: stick
torso: torso
feet: [leg]
bodies:
  torso: {size: [0.4, 0.2], position: [0.0, 0.7], mass: 5.0}
  leg: {size: [0.1, 0.6], position: [0.0, 0.3], mass: 1.0}
joints:
  hip: {a: torso, b: leg, anchor: [0.0, 0.6], limits: [-1.0, 1.0], max_torque: 50.0}
"""

BAD = {
    "unknown key": (GOOD + "wings: 2\n", "unknown key"),
    "unknown body": (GOOD.replace("b: leg", "b: arm"), "unknown body 'arm'"),
    "wrong type": (GOOD.replace("mass: 5.0", "mass: heavy"), "'mass' must be a number"),
    "bad limits": (GOOD.replace("[-1.0, 1.0]", "[1.0, -1.0]"), "low < high"),
    "below ground": (GOOD.replace("[0.0, 0.3]", "[0.0, 0.1]"), "below the ground"),
    "missing key": (GOOD.replace("torso: torso\n", ""), "missing key"),
    "malformed": ("bodies: {torso: [\n", "malformed YAML"),
    "joint key": (GOOD.replace("max_torque: 50.0", "torque: 50.0"), "unknown key"),
}


def test_a_user_creature_file_works(tmp_path: Path) -> None:
    path = tmp_path / "stick.yaml"
    path.write_text(GOOD)
    world = WalkerWorld(str(path), 2)
    assert world.act_dim == 1 and world.reset(seed=0).shape == (2, 5 + 2 + 1)


def test_body_length_is_the_longer_side_of_the_rest_pose(tmp_path: Path) -> None:
    # the biped stands from its feet' soles (0.03 - 0.06 / 2) to the top of its head
    assert load_creature("biped").body_length == pytest.approx(1.43 + 0.20 / 2)
    # a plank rotated upright: its 2 m length now counts as height (the leg reaches y = 0)
    path = tmp_path / "plank.yaml"
    path.write_text(GOOD.replace("size: [0.4, 0.2], position: [0.0, 0.7]",
                                 "size: [2.0, 0.2], position: [0.0, 1.1], angle: 1.5707963"))
    assert load_creature(str(path)).body_length == pytest.approx(2.1)  # 0 to 1.1 + 1.0


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_creature_files(tmp_path: Path, case: str) -> None:
    text, expected = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as err:  # ConfigError (the file) or SimsError (the shape)
        load_creature(str(path))
    assert str(path) in str(err.value) and expected in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_creature_name() -> None:
    with pytest.raises(SimsError, match="not a file nor a shipped creature"):
        load_creature("dragon")


def test_a_walker_moves_the_same_whatever_the_number_of_walkers() -> None:
    cfg = WalkerWorldConfig(ground_roughness=0.2)
    alone, crowd = WalkerWorld("biped", 1, cfg), WalkerWorld("biped", 4, cfg)
    alone.reset(seed=3)
    crowd.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(200):
        act = rng.uniform(-1.0, 1.0, (4, alone.act_dim))
        obs_a, *_ = alone.step(act[2:3])
        obs_c, *_ = crowd.step(act)
        assert np.array_equal(obs_a[0], obs_c[2])
