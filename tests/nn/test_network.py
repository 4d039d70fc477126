"""The flat-parameter network: aliasing, round trips, initialisation, population forward."""

import numpy as np
import pytest

from nn.network import Network


def make(dtype=np.float32, seed=0):
    return Network([6, 8, 5, 3], ["relu", "tanh", "softmax"], dtype=dtype,
                   rng=np.random.default_rng(seed))


def test_num_params_and_dtype():
    net = make()
    assert net.num_params == 6 * 8 + 8 + 8 * 5 + 5 + 5 * 3 + 3
    assert net.theta.dtype == np.float32 and net.grad.dtype == np.float32
    assert make(np.float64).theta.dtype == np.float64


def test_layer_weights_alias_theta():
    net = make()
    net.theta[:] = np.arange(net.num_params)
    W0 = net.layers[0].W
    assert np.shares_memory(W0, net.theta) and np.shares_memory(net.layers[2].b, net.theta)
    assert W0[0, 0] == 0 and W0[0, 1] == 1 and W0[1, 0] == 8  # row-major (n_in, n_out)
    assert net.layers[0].b[0] == 48
    net.layers[1].W[2, 3] = -7.0
    w_slice, _ = net.layer_slices()[1]
    assert net.theta[w_slice][2 * 5 + 3] == -7.0
    assert np.shares_memory(net.layers[1].dW, net.grad)


def test_set_get_params_round_trip():
    net = make()
    x = np.random.default_rng(1).normal(size=(10, 6)).astype(np.float32)
    before = net.predict_proba(x)
    p = net.get_params()
    net.init_params(np.random.default_rng(99))
    assert not np.allclose(net.predict_proba(x), before)
    theta_id = id(net.theta)
    net.set_params(p)
    assert id(net.theta) == theta_id  # in place: layer views stay valid
    np.testing.assert_array_equal(net.predict_proba(x), before)
    p[0] = 123.0  # get_params returned a copy
    assert net.theta[0] != 123.0
    with pytest.raises(ValueError):
        net.set_params(np.zeros(3))


def test_clone_is_independent():
    net = make()
    twin = net.clone()
    np.testing.assert_array_equal(twin.theta, net.theta)
    twin.theta[0] += 1
    assert twin.theta[0] != net.theta[0]


def test_same_seed_same_init_and_he_xavier_scales():
    np.testing.assert_array_equal(make(seed=5).theta, make(seed=5).theta)
    assert not np.array_equal(make(seed=5).theta, make(seed=6).theta)
    net = Network([400, 300, 200], ["relu", "tanh"], loss="mse", rng=np.random.default_rng(0))
    assert net.layers[0].W.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)  # He
    assert net.layers[1].W.std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)  # Xavier
    assert np.all(net.layers[0].b == 0)


def test_predict_matches_forward_and_chunks():
    net = make()
    x = np.random.default_rng(2).normal(size=(50, 6)).astype(np.float32)
    full = net.forward(x).copy()
    np.testing.assert_allclose(net.predict_proba(x, chunk=7), full, rtol=1e-6)
    np.testing.assert_array_equal(net.predict(x), full.argmax(axis=1))
    np.testing.assert_allclose(full.sum(axis=1), 1, rtol=1e-5)


def test_wrong_input_shape_is_refused():
    with pytest.raises(ValueError, match=r"\(B, 6\)"):
        make().forward(np.zeros((3, 5)))


def loop_reference(net, x, thetas):
    outs = []
    for p in range(len(thetas)):
        net.set_params(thetas[p])
        xp = x if x.ndim == 2 else x[p]
        outs.append(net.forward(xp).copy())
    return np.stack(outs)


@pytest.mark.parametrize("x_shape", [(4, 1, 6), (4, 9, 6), (9, 6), (1, 6)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_population_equals_loop(x_shape, dtype):
    net = make(dtype)
    rng = np.random.default_rng(3)
    thetas = rng.normal(0, 0.5, (4, net.num_params)).astype(dtype)
    x = rng.normal(size=x_shape).astype(dtype)
    keep = net.get_params()
    out = net.forward_population(x, thetas)
    np.testing.assert_array_equal(net.theta, keep)  # the network's own theta untouched
    ref = loop_reference(net, x, thetas)
    assert out.shape == (4, x_shape[-2], 3)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)


def test_forward_population_checks_shapes():
    net = make()
    with pytest.raises(ValueError):
        net.forward_population(np.zeros((3, 1, 6)), np.zeros((4, net.num_params)))
    with pytest.raises(ValueError):
        net.forward_population(np.zeros((3, 6)), np.zeros((4, net.num_params + 1)))
    with pytest.raises(ValueError):
        net.forward_population(np.zeros((3, 5)), np.zeros((4, net.num_params)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("normalised", [False, True])
def test_member_policy_is_forward_population_with_one_sample_each(dtype, normalised):
    net = make(dtype)
    rng = np.random.default_rng(5)
    if normalised:
        net.set_input_norm(rng.normal(size=6), rng.uniform(0.5, 2.0, 6))
    thetas = rng.normal(0, 0.5, (7, net.num_params)).astype(dtype)
    policy = net.member_policy(thetas)
    for _ in range(2):  # the bound weights are reused call after call
        x = rng.normal(size=(7, 6)).astype(dtype)
        np.testing.assert_array_equal(policy(x), net.forward_population(x[:, None, :],
                                                                         thetas)[:, 0, :])
    with pytest.raises(ValueError):
        policy(np.zeros((6, 6), dtype))
    with pytest.raises(ValueError):
        net.member_policy(np.zeros((7, net.num_params - 1)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("normalised", [False, True])
def test_member_policy_matches_a_plain_loop_over_members(dtype, normalised):
    """The independent reference: each member's own network, one forward pass each."""
    net = make(dtype)
    rng = np.random.default_rng(6)
    if normalised:
        net.set_input_norm(rng.normal(size=6), rng.uniform(0.5, 2.0, 6))
    thetas = rng.normal(0, 0.5, (5, net.num_params)).astype(dtype)
    x = rng.normal(size=(5, 6)).astype(dtype)
    expected = []
    for theta, xi in zip(thetas, x):
        member = net.clone()
        member.set_params(theta)
        expected.append(member.forward(xi[None, :])[0])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(net.member_policy(thetas)(x), np.array(expected), rtol=tol,
                               atol=tol)


def test_invalid_networks():
    with pytest.raises(ValueError):
        Network([3], [])
    with pytest.raises(ValueError):
        Network([3, 2], ["relu", "relu"], loss="mse")
    with pytest.raises(ValueError):
        Network([3, 2], ["nope"], loss="mse")
    with pytest.raises(ValueError):
        Network([3, 0], ["relu"], loss="mse")


def test_backward_without_input_gradient_fills_the_same_grad():
    """``backward(da, need_input_grad=False)`` skips dL/dx and returns None; the parameter
    gradient is the same, and dL/dx with it matches finite differences of the input."""
    rng = np.random.default_rng(4)
    net = Network([3, 6, 5, 2], ["tanh", "sigmoid", "identity"], loss="mse", rng=rng,
                  dtype=np.float64)
    x, da = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    net.forward(x)
    dx = net.backward(da).copy()
    grad = net.grad.copy()
    net.forward(x)
    assert net.backward(da, need_input_grad=False) is None
    np.testing.assert_array_equal(net.grad, grad)
    eps = 1e-6
    for i, j in [(0, 0), (3, 2), (6, 1)]:
        xp, xm = x.copy(), x.copy()
        xp[i, j] += eps
        xm[i, j] -= eps
        num = (np.sum(net.forward(xp) * da) - np.sum(net.forward(xm) * da)) / (2 * eps)
        assert dx[i, j] == pytest.approx(num, rel=1e-6, abs=1e-9)
