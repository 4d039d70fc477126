"""Our Elman layer and recurrent networks against PyTorch's ``torch.nn.RNN`` (CPU, float64),
an independent implementation: weights copied over, the same states and the same gradients
of every parameter, the initial state and the input.

PyTorch is a test-only dependency (CI installs the CPU build); without it these tests are
skipped with that reason, which fails them in CI."""

from __future__ import annotations

import numpy as np
import pytest

from nn.network import Network
from nn.recurrent import Elman

torch = pytest.importorskip("torch", reason="PyTorch is not installed "
                            "(pip install torch==2.13.0+cpu)")


def t(a: np.ndarray):
    return torch.from_numpy(np.ascontiguousarray(a, np.float64))


def to_torch_rnn(layer: Elman):
    """``torch.nn.RNN`` with our weights (it stores ``W`` as (out, in) and has two biases:
    ours goes into ``bias_ih``, ``bias_hh`` stays zero)."""
    rnn = torch.nn.RNN(layer.n_in, layer.n_out, nonlinearity=layer.activation.name,
                       batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(t(layer.Wx.T))
        rnn.weight_hh_l0.copy_(t(layer.Wh.T))
        rnn.bias_ih_l0.copy_(t(layer.b))
        rnn.bias_hh_l0.zero_()
    return rnn


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_elman_layer_matches_torch_rnn(activation, with_h0):
    rng = np.random.default_rng(0)
    layer = Elman(6, 5, activation)
    theta = rng.normal(0.0, 0.5, layer.num_params)
    grad = np.zeros_like(theta)
    layer.bind(theta, grad)
    rnn = to_torch_rnn(layer)
    x = rng.normal(size=(4, 9, 6))
    h0 = rng.normal(size=(4, 5)) if with_h0 else None
    weights = rng.normal(size=(4, 9, 5))  # L = sum(weights * states)

    xt = t(x).requires_grad_(True)
    h0t = t(np.zeros((4, 5)) if h0 is None else h0)[None].requires_grad_(True)  # (1, B, H)
    out, h_n = rnn(xt, h0t)
    (out * t(weights)).sum().backward()

    ours = layer.forward(x, h0)
    np.testing.assert_allclose(ours, out.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours[:, -1], h_n[0].detach().numpy(), rtol=0, atol=1e-12)
    dx = layer.backward(weights)
    np.testing.assert_allclose(layer.dWx, rnn.weight_ih_l0.grad.numpy().T, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(layer.dWh, rnn.weight_hh_l0.grad.numpy().T, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(layer.db, rnn.bias_ih_l0.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.db, rnn.bias_hh_l0.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.dh0, h0t.grad[0].numpy(), rtol=1e-10, atol=1e-12)


def test_recurrent_network_matches_torch():
    """dense(tanh) -> rnn -> dense(identity) with our mean squared error
    ``0.5 * sum((out - y)^2) / (B*T)``: outputs and the whole gradient vector."""
    rng = np.random.default_rng(1)
    net = Network(layers=[{"dense": 7, "activation": "tanh"}, {"rnn": 5},
                          {"dense": 3, "activation": "identity"}], input_shape=(4,),
                  loss="mse", dtype=np.float64, rng=rng)
    net.theta[...] += rng.normal(0.0, 0.1, net.num_params)  # biases not all zero
    dense1, rnn_layer, dense2 = net.layers
    lin1 = torch.nn.Linear(4, 7, dtype=torch.float64)
    lin2 = torch.nn.Linear(5, 3, dtype=torch.float64)
    with torch.no_grad():
        for lin, layer in ((lin1, dense1), (lin2, dense2)):
            lin.weight.copy_(t(layer.W.T))
            lin.bias.copy_(t(layer.b))
    rnn = to_torch_rnn(rnn_layer)
    x = rng.normal(size=(3, 6, 4))
    y = rng.normal(size=(3, 6, 3))

    xt = t(x).requires_grad_(True)
    hidden, _ = rnn(torch.tanh(lin1(xt)))
    out = lin2(hidden)
    loss = 0.5 * ((out - t(y)) ** 2).sum() / (3 * 6)
    loss.backward()

    value, ours = net.loss_and_backward(x, y)
    np.testing.assert_allclose(ours, out.detach().numpy(), rtol=0, atol=1e-12)
    assert value == pytest.approx(loss.item(), rel=1e-12)
    theirs = np.concatenate([
        lin1.weight.grad.numpy().T.ravel(), lin1.bias.grad.numpy(),
        rnn.weight_ih_l0.grad.numpy().T.ravel(), rnn.weight_hh_l0.grad.numpy().T.ravel(),
        rnn.bias_ih_l0.grad.numpy(),
        lin2.weight.grad.numpy().T.ravel(), lin2.bias.grad.numpy()])
    np.testing.assert_allclose(net.grad, theirs, rtol=1e-9, atol=1e-12)
    # and the input gradient, through Network.backward with dL/d(outputs)
    net.forward(x)
    dx = net.backward((out.detach().numpy() - y) / (3 * 6))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
