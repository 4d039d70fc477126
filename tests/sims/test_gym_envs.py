"""Our worlds as Gymnasium environments (sims.gym): Gymnasium's own checker on the single
environments, and the vector versions against N single environments driven alike."""

from __future__ import annotations

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium", reason="the gym extra: pip install -e '.[gym]'")

from gymnasium.utils.env_checker import check_env  # noqa: E402

import sims.gym  # noqa: E402,F401 - registers the environments

CARS = dict(track="default", sensors={"n_rays": 5, "range": 40.0}, world={"max_time": 3.0})
WALKER = dict(creature="biped", world={"max_time": 1.0})


# the walker's velocities are unbounded, which the checker mentions
@pytest.mark.filterwarnings("ignore:.*A Box observation space (minimum|maximum) value")
@pytest.mark.parametrize("env_id,kw", [("neuroevo/Cars-v0", CARS),
                                       ("neuroevo/Walker-v0", WALKER)])
def test_check_env(env_id, kw):
    env = gym.make(env_id, render_mode="rgb_array", **kw)
    check_env(env.unwrapped, skip_render_check=False)
    env.reset(seed=1)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.shape == (sims.gym.FRAME, sims.gym.FRAME, 3)
    assert frame.std() > 0  # something is drawn


def drive(env_id, kw, n, steps, seed, actions_fn):
    """The vector environment and n single environments with the same actions."""
    vec = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **kw)
    singles = [gym.make(env_id, **kw) for _ in range(n)]
    vo, _ = vec.reset(seed=seed)
    so = [env.reset(seed=seed)[0] for env in singles]
    np.testing.assert_array_equal(vo, np.stack(so))
    done = np.zeros(n, bool)
    for t in range(steps):
        act = actions_fn(t, n, vec.single_action_space.shape[0]).astype(np.float32)
        vo, vr, vt, vtr, vinfo = vec.step(act)
        for i, env in enumerate(singles):
            if done[i]:  # a finished single environment is not stepped again
                assert vr[i] == 0 and (vt[i] or vtr[i])
                continue
            o, r, te, tr, info = env.step(act[i])
            np.testing.assert_array_equal(vo[i], o)
            assert (vr[i], vt[i], vtr[i]) == (r, te, tr)
            assert vinfo["distance"][i] == info["distance"]
            done[i] = te or tr
    return done


def test_vector_cars_match_single_cars():
    def actions(t, n, _):  # full throttle, each car its own steering: some crash, some not
        return np.stack([np.ones(n), np.linspace(-1, 1, n) * (t > 30)], axis=1)

    done = drive("neuroevo/Cars-v0", CARS, 5, 200, 3, actions)
    assert done.any()  # episodes ended on the way, and the ended ones stayed ended


def test_vector_walkers_match_single_walkers():
    def actions(t, n, joints):
        j = np.arange(joints)
        return 0.8 * np.sin(0.2 * t + j[None, :] + np.arange(n)[:, None])

    drive("neuroevo/Walker-v0", WALKER, 3, 70, 0, actions)


def test_vector_env_resets_all_together():
    vec = gym.make_vec("neuroevo/Cars-v0", num_envs=2, vectorization_mode="vector_entry_point",
                       **CARS)
    vec.reset(seed=0)
    assert vec.metadata["autoreset_mode"].name == "DISABLED"
    with pytest.raises(ValueError, match="reset_mask"):
        vec.reset(options={"reset_mask": np.array([True, False])})
    with pytest.raises(TypeError, match="unknown setting"):
        gym.make("neuroevo/Cars-v0", sensors={"rays": 3})
