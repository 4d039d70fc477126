"""The Elman layer (nn/recurrent.py) and recurrent networks: finite-difference gradients in
float64 for every parameter, the initial state and the input; float32 runs; a population's
step against each member's own network and against a plain loop; the state a member policy
keeps; layer lists and model files.  PyTorch checks it too: tests/nn/test_torch_recurrent.py
(a file of its own, as the other PyTorch checks, so that these run without PyTorch)."""

from __future__ import annotations

import numpy as np
import pytest

from nn.errors import ModelFileError
from nn.io import load_model, save_model
from nn.lague import export_lague
from nn.layerlist import normalize_layers
from nn.network import Network
from nn.recurrent import Elman
from tests.nn.checks import numeric_grad

LAYERS = [{"dense": 5, "activation": "tanh"}, {"rnn": 4}, {"dense": 3, "activation": "identity"}]


def bound(layer: Elman, rng, dtype=np.float64, scale=0.6):
    """``layer`` bound to fresh random ``(theta, grad)`` vectors; returns them."""
    theta = rng.normal(0.0, scale, layer.num_params).astype(dtype)
    grad = np.zeros_like(theta)
    layer.bind(theta, grad)
    return theta, grad


def ngrad(f, a):
    """:func:`numeric_grad` for an array of any shape (changed through a flat view)."""
    return numeric_grad(f, a.reshape(-1)).reshape(a.shape)


def recurrent_net(dtype=np.float64, seed=0, layers=LAYERS, n_in=3):
    return Network(layers=layers, input_shape=(n_in,), loss="mse", dtype=dtype,
                   rng=np.random.default_rng(seed))


# -- the layer: backpropagation through time against finite differences ----------------
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "identity", "silu"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_layer_bptt_matches_finite_differences(activation, with_h0):
    rng = np.random.default_rng(1)
    layer = Elman(3, 4, activation)
    theta, grad = bound(layer, rng)
    x = rng.normal(size=(2, 5, 3))
    h0 = rng.normal(size=(2, 4)) if with_h0 else None
    weights = rng.normal(size=(2, 5, 4))  # L = sum(weights * states)

    def loss():
        return float(np.sum(weights * layer.forward(x, None if h0 is None else h0)))

    loss()
    dx = layer.backward(weights)
    np.testing.assert_allclose(grad, numeric_grad(loss, theta), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dx, ngrad(loss, x), rtol=1e-6, atol=1e-8)
    if with_h0:
        loss()
        layer.backward(weights, need_dx=False)
        np.testing.assert_allclose(layer.dh0, ngrad(loss, h0), rtol=1e-6, atol=1e-8)
    # each block of theta has its own gradient view
    n = 3 * 4
    np.testing.assert_array_equal(layer.dWx.ravel(), grad[:n])
    np.testing.assert_array_equal(layer.dWh.ravel(), grad[n:n + 16])
    np.testing.assert_array_equal(layer.db, grad[n + 16:])


def test_layer_forward_is_the_recurrence_written_out():
    rng = np.random.default_rng(2)
    layer = Elman(3, 4)
    bound(layer, rng)
    x = rng.normal(size=(2, 6, 3))
    h = np.zeros((2, 4))
    expected = []
    for t in range(6):
        h = np.tanh(x[:, t] @ layer.Wx + h @ layer.Wh + layer.b)
        expected.append(h)
    np.testing.assert_allclose(layer.forward(x), np.stack(expected, 1), rtol=1e-12, atol=1e-14)
    # step() is one of those steps
    np.testing.assert_allclose(layer.step(x[:, 0], np.zeros((2, 4))), expected[0], rtol=1e-12)


def test_layer_refuses_wrong_shapes():
    layer = Elman(3, 4)
    bound(layer, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"\(B, T, 3\)"):
        layer.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="h0"):
        layer.forward(np.zeros((2, 5, 3)), np.zeros((3, 4)))
    layer.forward(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="dh"):
        layer.backward(np.zeros((2, 4, 4)))


# -- a recurrent network: loss, parameters and inputs ----------------------------------
@pytest.mark.parametrize("layers", [
    LAYERS,
    [{"rnn": 4}, {"dense": 2, "activation": "tanh"}],  # the rnn layer first
    [{"dense": 4, "activation": "relu"}, {"rnn": 3, "activation": "tanh"},
     {"rnn": 5, "activation": "sigmoid"}, {"dense": 2, "activation": "identity"}],
])
def test_network_gradients_match_finite_differences(layers):
    rng = np.random.default_rng(3)
    net = recurrent_net(layers=layers)
    net.theta[...] = rng.normal(0.0, 0.5, net.num_params)
    x = rng.normal(size=(3, 4, 3))
    y = rng.normal(size=(3, 4, net.n_outputs))

    def loss():
        return net.loss.value(net.forward(x).reshape(-1, net.n_outputs),
                              y.reshape(-1, net.n_outputs))

    value, out = net.loss_and_backward(x, y)
    assert out.shape == (3, 4, net.n_outputs)
    assert value == pytest.approx(0.5 * np.sum((out - y) ** 2) / 12)
    np.testing.assert_allclose(net.grad, numeric_grad(loss, net.theta), rtol=1e-5, atol=1e-8)

    # the input gradient through Network.backward, against finite differences of x
    weights = rng.normal(size=out.shape)
    net.forward(x)
    dx = net.backward(weights)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, ngrad(lambda: float(np.sum(weights * net.forward(x))), x),
                               rtol=1e-6, atol=1e-8)


def test_network_runs_in_float32_close_to_float64():
    rng = np.random.default_rng(4)
    n64 = recurrent_net(np.float64, seed=5)
    n32 = recurrent_net(np.float32, seed=5)
    n32.set_params(n64.theta.astype(np.float32))
    x = rng.normal(size=(4, 7, 3))
    y = rng.normal(size=(4, 7, 3))
    l64, o64 = n64.loss_and_backward(x, y)
    l32, o32 = n32.loss_and_backward(x.astype(np.float32), y.astype(np.float32))
    assert o32.dtype == np.float32 and n32.grad.dtype == np.float32
    assert n32.layers[1].forward(rng.normal(size=(4, 7, 5)).astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(o32, o64, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(n32.grad, n64.grad, rtol=1e-4, atol=1e-5)
    assert l32 == pytest.approx(l64, rel=1e-5)
    assert n32.predict_proba(x).dtype == np.float32
    assert n32.predict(x).shape == (4, 7)


def test_network_refuses_inputs_that_are_not_sequences():
    net = recurrent_net()
    with pytest.raises(ValueError, match=r"\(B, T, 3\)"):
        net.forward(np.zeros((4, 3)))
    net.forward(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="da"):
        net.backward(np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match="y"):
        net.loss_and_backward(np.zeros((2, 5, 3)), np.zeros((2, 5 * 3)))


def test_dropout_in_a_recurrent_network_is_reproducible_and_checked():
    layers = [{"dense": 6, "activation": "tanh"}, {"dropout": 0.3}, {"rnn": 4},
              {"dense": 2, "activation": "identity"}]
    net = recurrent_net(layers=layers)
    x = np.random.default_rng(6).normal(size=(3, 5, 3))
    y = np.zeros((3, 5, 2))
    a = net.loss_and_backward(x, y, rng=np.random.default_rng(7))[0], net.grad.copy()
    b = net.loss_and_backward(x, y, rng=np.random.default_rng(7))[0], net.grad.copy()
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])
    # and in prediction the dropout layer is the identity: the net without it
    plain = recurrent_net(layers=[la for la in layers if "dropout" not in la])
    plain.set_params(net.theta)
    np.testing.assert_array_equal(net.forward(x), plain.forward(x))


# -- populations: one step for every member at once ------------------------------------
def test_step_members_equals_a_plain_loop_over_members():
    rng = np.random.default_rng(8)
    layer = Elman(3, 4)
    P = 6
    rows = rng.normal(0.0, 0.7, (P, layer.num_params))
    x, h = rng.normal(size=(P, 3)), rng.normal(size=(P, 4))
    got = layer.step_members(x, h, *layer.population_weights(rows))
    h_before = h.copy()
    for p in range(P):  # the weights read back from the layout by hand
        Wx = rows[p, :12].reshape(3, 4)
        Wh = rows[p, 12:28].reshape(4, 4)
        b = rows[p, 28:]
        np.testing.assert_allclose(got[p], np.tanh(x[p] @ Wx + h[p] @ Wh + b), rtol=1e-12)
    np.testing.assert_array_equal(h, h_before)  # the caller's state is not changed


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("normalised", [False, True])
def test_member_policy_steps_equal_each_members_own_network(dtype, normalised):
    """P members stepped together, one observation each per call, against each member's
    own network run over the whole sequence (Network.forward, an independent path)."""
    rng = np.random.default_rng(9)
    net = recurrent_net(dtype)
    if normalised:
        net.set_input_norm(rng.normal(size=3), rng.uniform(0.5, 2.0, 3))
    P, T = 5, 8
    thetas = rng.normal(0.0, 0.6, (P, net.num_params)).astype(dtype)
    xs = rng.normal(size=(P, T, 3)).astype(dtype)
    policy = net.member_policy(thetas)
    assert policy.recurrent and [h.shape for h in policy.state] == [(P, 4)]
    steps = np.stack([policy(xs[:, t]) for t in range(T)], axis=1)  # (P, T, n_out)
    assert steps.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for p in range(P):
        one = net.clone()
        one.set_params(thetas[p])
        np.testing.assert_allclose(steps[p], one.forward(xs[p][None])[0], rtol=tol, atol=tol)
    # and against the population over whole sequences
    np.testing.assert_allclose(steps, net.forward_population(xs, thetas), rtol=tol, atol=tol)
    # a fresh policy starts from zeros again: the same first step
    np.testing.assert_array_equal(net.member_policy(thetas)(xs[:, 0]), steps[:, 0])


def test_the_state_carries_over_and_can_be_carried_by_the_caller():
    rng = np.random.default_rng(10)
    net = recurrent_net()
    thetas = rng.normal(0.0, 0.6, (3, net.num_params))
    x = rng.normal(size=(3, 3))
    policy = net.member_policy(thetas)
    first, second = policy(x), policy(x)
    assert not np.allclose(first, second)  # the same input, another state
    policy.reset()
    np.testing.assert_array_equal(policy(x), first)
    # step() leaves the policy alone: the caller holds the state
    fresh = net.member_policy(thetas)
    state = fresh.state
    out1, state = fresh.step(x, state)
    out2, state = fresh.step(x, state)
    np.testing.assert_array_equal(out1, first)
    np.testing.assert_array_equal(out2, second)
    assert all(not h.any() for h in fresh.state)


def test_select_keeps_the_state_of_the_members_it_keeps():
    rng = np.random.default_rng(11)
    net = recurrent_net()
    P, T = 5, 6
    thetas = rng.normal(0.0, 0.6, (P, net.num_params))
    xs = rng.normal(size=(P, T, 3))
    full = net.member_policy(thetas)
    expected = np.stack([full(xs[:, t]) for t in range(T)], axis=1)
    policy = net.member_policy(thetas)
    for t in range(3):
        policy(xs[:, t])
    keep = np.array([4, 1, 2])  # some agents finished; any order
    part = policy.select(keep)
    assert part.size == 3
    for t in range(3, T):
        np.testing.assert_allclose(part(xs[keep, t]), expected[keep, t], rtol=1e-12)
    mask = np.array([True, False, True, False, False])  # a mask selects too
    np.testing.assert_array_equal(policy.select(mask).state[0], policy.state[0][mask])
    with pytest.raises(ValueError, match="states"):
        type(policy)(net, thetas, [np.zeros((P, 5))])


def test_member_policy_of_a_perceptron_is_unchanged_and_stateless():
    rng = np.random.default_rng(12)
    net = Network([3, 6, 2], ["tanh", "tanh"], loss="mse", dtype=np.float64)
    thetas = rng.normal(size=(4, net.num_params))
    x = rng.normal(size=(4, 3))
    policy = net.member_policy(thetas)
    assert not policy.recurrent and policy.state == []
    np.testing.assert_array_equal(policy(x), policy(x))
    np.testing.assert_array_equal(policy.select([3, 1])(x[[3, 1]]),
                                  net.member_policy(thetas[[3, 1]])(x[[3, 1]]))


# -- layer lists, initialisation and model files ---------------------------------------
def test_layer_lists_know_rnn_layers():
    specs = normalize_layers([{"dense": 8}, {"rnn": 4}, {"dense": 2}], "relu", "tanh")
    assert specs[1] == {"rnn": 4, "activation": "tanh"}  # tanh by default
    assert normalize_layers([{"rnn": 4, "activation": "relu"}, {"dense": 2}])[0][
        "activation"] == "relu"
    with pytest.raises(ValueError, match=r"layers\[0\].activation.*softmax"):
        normalize_layers([{"rnn": 4, "activation": "softmax"}, {"dense": 2}])
    with pytest.raises(ValueError, match=r"layers\[0\].rnn"):
        normalize_layers([{"rnn": 0}, {"dense": 2}])
    with pytest.raises(ValueError, match=r"layers\[1\].*last layer must be a dense"):
        normalize_layers([{"dense": 3}, {"rnn": 4}])
    with pytest.raises(ValueError, match="flat inputs"):
        Network(layers=[{"rnn": 4}, {"dense": 2}], input_shape=(4, 4, 1))
    net = recurrent_net()
    assert net.recurrent and not Network([3, 2], ["tanh"], loss="mse").recurrent
    assert net.describe() == "dense5-rnn4-dense3"
    assert net.num_params == (3 * 5 + 5) + (5 * 4 + 4 * 4 + 4) + (4 * 3 + 3)


def test_initialisation_and_layout():
    net = recurrent_net(seed=13)
    rnn = net.layers[1]
    np.testing.assert_allclose(rnn.Wh @ rnn.Wh.T, np.eye(4), atol=1e-12)  # orthogonal
    assert not rnn.b.any() and rnn.Wx.std() > 0
    again = recurrent_net(seed=13)
    np.testing.assert_array_equal(net.theta, again.theta)  # same seed, same numbers
    w, b = net.layer_slices()[1]
    assert w.stop - w.start == 5 * 4 + 4 * 4 and b.stop - b.start == 4
    np.testing.assert_array_equal(net.theta[w], np.concatenate([rnn.Wx.ravel(),
                                                                rnn.Wh.ravel()]))
    mask = net.weight_mask()
    assert mask[w].all() and not mask[b].any()
    assert np.shares_memory(rnn.Wh, net.theta) and np.shares_memory(rnn.dWh, net.grad)


def test_a_recurrent_model_file_round_trips(tmp_path):
    net = recurrent_net(seed=14)
    net.set_input_norm(np.ones(3), np.full(3, 2.0))
    save_model(tmp_path / "m.npz", net)
    back, meta = load_model(tmp_path / "m.npz")
    assert back.recurrent and meta["layers"][1] == {"rnn": 4, "activation": "tanh"}
    x = np.random.default_rng(15).normal(size=(2, 5, 3))
    np.testing.assert_array_equal(back.forward(x), net.forward(x))
    with pytest.raises(ModelFileError, match="rnn"):
        export_lague(tmp_path / "m.json", net, meta)


def test_train_configs_refuse_rnn_layers():
    from common.config import ConfigError, build
    from nn.config import TrainRunConfig

    with pytest.raises(ConfigError, match=r"model.layers: rnn layers run on sequences"):
        build(TrainRunConfig, {"model": {"layers": [{"rnn": 8}, {"dense": 10}]}}, "test: ")
