"""Optimizer updates against the textbook formulas, computed independently here."""

import numpy as np
import pytest

from nn.optim import SGD, Adam


def test_sgd_momentum_l2_and_decay_by_hand():
    theta = np.array([1.0, -2.0, 0.5])
    mask = np.array([1.0, 1.0, 0.0])  # last entry is a bias: no weight decay
    opt = SGD(lr=0.1, momentum=0.9, l2=0.2, decay=0.5, weight_mask=mask, batch_size=4)
    g1, g2 = np.array([0.3, -0.1, 1.0]), np.array([-0.2, 0.4, 0.5])
    v = np.zeros(3)
    ref = theta.copy()
    for epoch, g in ((0, g1), (2, g2)):
        opt.epoch = epoch
        lr = 0.1 / (1 + 0.5 * epoch)
        v = 0.9 * v - lr * g
        ref = ref * (1 - lr * 0.2 / 4 * mask) + v
        opt.step(theta, g)
        np.testing.assert_allclose(theta, ref, rtol=1e-12)
    assert opt.lr_at(2) == pytest.approx(0.05)


def test_adam_by_hand():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=5)
    ref = theta.copy()
    m = np.zeros(5)
    s = np.zeros(5)
    opt = Adam(lr=0.01)
    for t in range(1, 6):
        g = rng.normal(size=5)
        m = 0.9 * m + 0.1 * g
        s = 0.999 * s + 0.001 * g * g
        mhat, shat = m / (1 - 0.9 ** t), s / (1 - 0.999 ** t)
        ref = ref - 0.01 * mhat / (np.sqrt(shat) + 1e-8)
        opt.step(theta, g)
    np.testing.assert_allclose(theta, ref, rtol=1e-9)


def test_adam_state_round_trip_continues_identically():
    rng = np.random.default_rng(1)
    grads = rng.normal(size=(6, 4))
    a, b = np.ones(4), np.ones(4)
    opt_a = Adam(lr=0.05)
    for g in grads:
        opt_a.step(a, g)
    opt_b = Adam(lr=0.05)
    for g in grads[:3]:
        opt_b.step(b, g)
    opt_c = Adam(lr=0.05)
    opt_c.load_state({k: np.array(v) for k, v in opt_b.state().items()})
    for g in grads[3:]:
        opt_c.step(b, g)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kw", [dict(lr=0), dict(lr=-1), dict(lr=0.1, l2=-1),
                                dict(lr=0.1, decay=-0.1), dict(lr=0.1, momentum=1.0)])
def test_impossible_settings(kw):
    with pytest.raises(ValueError):
        SGD(**kw)


def test_adam_blocked_update_matches_the_formula():
    from nn import optim

    n = 2 * optim._BLOCK + 123  # three blocks, the last one short
    rng = np.random.default_rng(2)
    theta, ref, m, s = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    opt = Adam(lr=0.01)
    for t in range(1, 4):
        g = rng.normal(size=n)
        opt.step(theta, g)
        m = 0.9 * m + 0.1 * g
        s = 0.999 * s + 0.001 * g * g
        ref -= 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(s / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(theta, ref, rtol=1e-9, atol=1e-15)


def _npz_round_trip(state):
    """Through a file as a checkpoint stores it: arrays only, no pickles."""
    import io

    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("make", [lambda: SGD(lr=0.1, momentum=0.9, l2=0.3, decay=0.5,
                                              batch_size=4),
                                  lambda: Adam(lr=0.05, l2=0.2, decay=0.3, batch_size=4)],
                         ids=["sgd", "adam"])
def test_state_dict_round_trip_continues_bit_for_bit(make):
    rng = np.random.default_rng(4)
    grads = rng.normal(size=(8, 5)).astype(np.float32)
    a = np.linspace(-1, 1, 5, dtype=np.float32)
    b = a.copy()
    opt_a = make()
    for i, g in enumerate(grads):
        opt_a.epoch = i // 3  # the learning rate decays per epoch
        opt_a.step(a, g)
    opt_b = make()
    for i, g in enumerate(grads[:5]):
        opt_b.epoch = i // 3
        opt_b.step(b, g)
    state = opt_b.state_dict()
    assert int(state["epoch"]) == 1
    if isinstance(opt_b, Adam):
        assert int(state["t"]) == 5 and set(state) == {"epoch", "t", "m", "s"}
    else:
        assert set(state) == {"epoch", "v"}
    # a copy: further steps of opt_b do not change what was saved
    before = {k: v.copy() for k, v in state.items()}
    opt_b.step(b.copy(), grads[5])
    for k in state:
        np.testing.assert_array_equal(state[k], before[k])
    opt_c = make()
    opt_c.load_state_dict(_npz_round_trip(before))
    assert opt_c.epoch == 1 and getattr(opt_c, "t", 5) == 5
    for i, g in enumerate(grads[5:], start=5):
        opt_c.epoch = i // 3
        opt_c.step(b, g)
    np.testing.assert_array_equal(a, b)


def test_state_before_the_first_step_and_refused_states():
    sgd, adam = SGD(lr=0.1), Adam(lr=0.1)
    assert set(sgd.state_dict()) == {"epoch"} and set(adam.state_dict()) == {"epoch", "t"}
    fresh = SGD(lr=0.1)
    fresh.load_state_dict(sgd.state_dict())
    assert fresh.v is None
    theta = np.ones(3)
    adam.step(theta, np.ones(3))
    sgd.step(theta, np.ones(3))
    with pytest.raises(ValueError, match="not a SGD state"):
        SGD(lr=0.1).load_state_dict(adam.state_dict())  # another optimizer's
    with pytest.raises(ValueError, match="not a Adam state"):
        Adam(lr=0.1).load_state_dict(sgd.state_dict())
    broken = adam.state_dict()
    del broken["s"]
    with pytest.raises(ValueError, match="not all of m, s"):
        Adam(lr=0.1).load_state_dict(broken)
    with pytest.raises(ValueError, match="lacks t"):
        Adam(lr=0.1).load_state_dict({"epoch": np.array(0)})
    with pytest.raises(ValueError, match="integer"):
        SGD(lr=0.1).load_state_dict({"epoch": np.array(1.5)})
