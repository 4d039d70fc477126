"""Our network against PyTorch (CPU, float64), an independent implementation: weights copied
both ways, the same predictions, the same gradients of the mean cross-entropy and of MSE.

PyTorch is a test-only dependency (CI installs the CPU build: see .ci/run); without it these
tests are skipped with that reason, which fails them in CI."""

from __future__ import annotations

import numpy as np
import pytest

from nn.network import Network

torch = pytest.importorskip("torch", reason="PyTorch is not installed "
                            "(pip install torch==2.13.0+cpu)")

TORCH_ACTS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "silu": "SiLU"}


def to_torch(net: Network):
    """A ``torch.nn.Sequential`` with our weights (``Linear`` stores W as (out, in))."""
    mods = []
    for layer in net.layers:
        lin = torch.nn.Linear(layer.n_in, layer.n_out, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.asarray(layer.W, np.float64).T.copy()))
            lin.bias.copy_(torch.from_numpy(np.asarray(layer.b, np.float64)))
        mods.append(lin)
        name = layer.activation.name
        if name in TORCH_ACTS:
            mods.append(getattr(torch.nn, TORCH_ACTS[name])())
        # softmax: the logits go into the loss (cross_entropy applies it)
    return torch.nn.Sequential(*mods)


def linears(model):
    return [m for m in model if isinstance(m, torch.nn.Linear)]


def from_torch(model, net: Network) -> None:
    for layer, lin in zip(net.layers, linears(model), strict=True):
        layer.W[...] = lin.weight.detach().numpy().T
        layer.b[...] = lin.bias.detach().numpy()


@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "silu"])
def test_softmax_cross_entropy_network_matches_pytorch(hidden):
    rng = np.random.default_rng(0)
    net = Network([20, 16, 12, 5], [hidden, hidden, "softmax"], dtype=np.float64, rng=rng)
    model = to_torch(net)
    x = rng.normal(size=(32, 20))
    labels = rng.integers(0, 5, 32)

    theirs = torch.softmax(model(torch.from_numpy(x)), dim=1).detach().numpy()
    np.testing.assert_allclose(net.predict_proba(x), theirs, rtol=0, atol=1e-12)

    net.loss_and_backward(x, np.eye(5)[labels])
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(torch.from_numpy(x)),
                                      torch.from_numpy(labels)).backward()
    for layer, lin in zip(net.layers, linears(model)):
        np.testing.assert_allclose(layer.dW, lin.weight.grad.numpy().T, rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.db, lin.bias.grad.numpy(), rtol=0, atol=1e-12)

    with torch.no_grad():  # and back: changed torch weights into a fresh network of ours
        for lin in linears(model):
            lin.weight.mul_(0.5)
    twin = Network(net.sizes, net.activations, dtype=np.float64)
    from_torch(model, twin)
    back = torch.softmax(model(torch.from_numpy(x)), 1).detach().numpy()
    np.testing.assert_allclose(twin.predict_proba(x), back, rtol=0, atol=1e-12)


def test_tanh_mse_network_matches_pytorch():
    rng = np.random.default_rng(1)
    net = Network([6, 8, 3], ["tanh", "tanh"], loss="mse", dtype=np.float64, rng=rng)
    model = to_torch(net)
    x, y = rng.normal(size=(10, 6)), rng.uniform(-1, 1, (10, 3))
    out = model(torch.from_numpy(x))
    np.testing.assert_allclose(net.forward(x), out.detach().numpy(), rtol=0, atol=1e-12)
    loss, _ = net.loss_and_backward(x, y)
    model.zero_grad()
    ref = 0.5 * ((out - torch.from_numpy(y)) ** 2).sum() / len(x)  # L = 1/(2B) sum (a - y)^2
    ref.backward()
    assert loss == pytest.approx(ref.item(), abs=1e-12)
    for layer, lin in zip(net.layers, linears(model)):
        np.testing.assert_allclose(layer.dW, lin.weight.grad.numpy().T, rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.db, lin.bias.grad.numpy(), rtol=0, atol=1e-12)
