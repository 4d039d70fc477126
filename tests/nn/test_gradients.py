"""Backpropagation checked against central finite differences in float64."""

import numpy as np
import pytest

from nn.activations import ACTIVATIONS
from nn.losses import CrossEntropy, get_loss
from nn.network import Network
from tests.nn.checks import numeric_grad

ALL_ACTS = ["identity", "sigmoid", "tanh", "relu", "silu", "softmax"]



def targets(kind, rng, b, n):
    if kind == "onehot":
        y = np.zeros((b, n))
        y[np.arange(b), rng.integers(0, n, b)] = 1
        return y
    return rng.uniform(-1, 1, (b, n))


def check_net(sizes, acts, loss, y_kind, seed=0):
    rng = np.random.default_rng(seed)
    net = Network(sizes, acts, loss=loss, dtype=np.float64, rng=rng)
    net.theta += rng.normal(0, 0.1, net.num_params)  # non-zero biases too
    x = rng.normal(0, 1, (7, sizes[0]))
    y = targets(y_kind, rng, 7, sizes[-1])
    loss_value, _ = net.loss_and_backward(x, y)
    analytic = net.grad.copy()
    assert loss_value == pytest.approx(net.loss.value(net.forward(x), y))
    numeric = numeric_grad(lambda: net.loss.value(net.forward(x), y), net.theta)
    err = np.abs(analytic - numeric).max() / max(1e-8, np.abs(numeric).max())
    assert err < 1e-6, (sizes, acts, loss, err)


@pytest.mark.parametrize("act", ALL_ACTS)
def test_every_output_activation_with_mse(act):
    check_net([4, 5, 3], ["tanh", act], "mse", "real")


@pytest.mark.parametrize("act", ["softmax", "sigmoid"])
def test_cross_entropy_with_probability_outputs(act):
    y_kind = "onehot"
    check_net([4, 6, 3], ["relu", act], "cross_entropy", y_kind)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "silu", "identity"])
@pytest.mark.parametrize("loss,out", [("mse", "tanh"), ("cross_entropy", "softmax"),
                                      ("cross_entropy", "sigmoid")])
def test_three_layer_nets(hidden, loss, out):
    check_net([5, 7, 6, 4], [hidden, hidden, out], loss, "onehot", seed=3)


def test_single_layer_net():
    check_net([3, 2], ["softmax"], "cross_entropy", "onehot")


@pytest.mark.parametrize("name", ALL_ACTS)
def test_activation_backward_matches_finite_differences(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, (3, 5))
    z[np.abs(z) < 1e-3] = 0.5  # keep away from the ReLU kink
    da = rng.normal(0, 1, (3, 5))
    analytic = act.backward(z, act.forward(z), da)
    numeric = numeric_grad(lambda: float(np.sum(act.forward(z) * da)), z.reshape(-1))
    np.testing.assert_allclose(analytic.reshape(-1), numeric, atol=1e-7)


@pytest.mark.parametrize("name", ALL_ACTS)
def test_activation_out_buffer_gives_same_result(name):
    act = ACTIVATIONS[name]
    z = np.random.default_rng(2).normal(size=(4, 3))
    a = act.forward(z)
    buf = np.empty_like(z)
    np.testing.assert_array_equal(act.forward(z, out=buf), a)
    da = np.random.default_rng(3).normal(size=z.shape)
    ref = act.backward(z, a, da)
    # into a separate buffer, and in place over da itself (out may alias da)
    np.testing.assert_allclose(act.backward(z, a, da, out=np.empty_like(z)), ref,
                               rtol=1e-15, atol=1e-15)
    alias = da.copy()
    assert act.backward(z, a, alias, out=alias) is alias
    np.testing.assert_allclose(alias, ref, rtol=1e-15, atol=1e-15)
    alias = da.copy()  # two view objects of the same memory (as a layer's loop makes them)
    act.backward(z, a, alias[:], out=alias[:])
    np.testing.assert_allclose(alias, ref, rtol=1e-15, atol=1e-15)


def test_known_values():
    z = np.array([[0.0, 1.0, -2.0]])
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"].forward(z), 1 / (1 + np.exp(-z)))
    np.testing.assert_allclose(ACTIVATIONS["silu"].forward(z), z / (1 + np.exp(-z)))
    np.testing.assert_allclose(ACTIVATIONS["relu"].forward(z), [[0, 1, 0]])
    sm = ACTIVATIONS["softmax"].forward(np.array([[1000.0, 1000.0]]))  # no overflow
    np.testing.assert_allclose(sm, [[0.5, 0.5]])


@pytest.mark.parametrize("out", ["softmax", "sigmoid"])
def test_fused_delta_equals_chain_rule(out):
    rng = np.random.default_rng(4)
    z = rng.normal(size=(6, 4))
    act = ACTIVATIONS[out]
    a = act.forward(z)
    y = targets("onehot", rng, 6, 4)
    loss = get_loss("cross_entropy", out)
    fused = loss.fused_delta(out, a, y)
    chained = act.backward(z, a, loss.grad(a, y))
    np.testing.assert_allclose(fused, chained, atol=1e-10)


def test_cross_entropy_known_value():
    a = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    y = np.array([[1, 0, 0], [0, 0, 1.0]])
    assert CrossEntropy().value(a, y) == pytest.approx(-(np.log(0.7) + np.log(0.8)) / 2)


def test_cross_entropy_refuses_non_probability_outputs():
    with pytest.raises(ValueError, match="softmax or sigmoid"):
        Network([2, 3], ["tanh"], loss="cross_entropy")


@pytest.mark.parametrize("hidden", ["sigmoid", "relu"])
def test_dropout_gradient_matches_finite_differences_of_the_masked_net(hidden):
    # The same seed draws the same masks, so the loss is a fixed function of theta.
    rng = np.random.default_rng(5)
    net = Network([5, 8, 7, 3], [hidden, hidden, "softmax"], dtype=np.float64, rng=rng)
    net.theta += rng.normal(0, 0.1, net.num_params)
    x = rng.normal(0, 1, (6, 5))
    y = targets("onehot", rng, 6, 3)

    def masked_loss():
        return net.loss_and_backward(x, y, 0.4, np.random.default_rng(11))[0]

    masked_loss()
    analytic = net.grad.copy()
    numeric = numeric_grad(masked_loss, net.theta)
    err = np.abs(analytic - numeric).max() / np.abs(numeric).max()
    assert err < 1e-6
    # The masks really change the function: without dropout the gradient differs.
    net.loss_and_backward(x, y)
    assert np.abs(net.grad - analytic).max() > 1e-3


def test_dropout_drops_its_share_and_keeps_the_expected_activation():
    rng = np.random.default_rng(0)
    net = Network([20, 400, 2], ["relu", "softmax"], dtype=np.float64, rng=rng)
    x = rng.normal(0, 1, (50, 20))
    y = targets("onehot", rng, 50, 2)
    net.loss_and_backward(x, y, 0.3, np.random.default_rng(1))
    hidden_in = net.layers[1]._x  # what the output layer saw: the masked hidden layer
    plain = net.layers[0].forward(net._check_input(x)).copy()
    dropped = (hidden_in == 0) & (plain > 0)
    assert dropped.sum() / (plain > 0).sum() == pytest.approx(0.3, abs=0.02)
    kept = hidden_in != 0
    np.testing.assert_allclose(hidden_in[kept], plain[kept] / 0.7)
    with pytest.raises(ValueError, match="dropout"):
        net.loss_and_backward(x, y, 1.0, np.random.default_rng(1))
