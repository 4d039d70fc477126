"""A convolutional network against PyTorch (CPU, float64), an independent implementation:
weights copied both ways, the same predictions and the same gradients of the mean
cross-entropy, with strides, padding, pooling ties and odd sizes.

PyTorch is a test-only dependency (CI installs the CPU build); without it these tests are
skipped with that reason, which fails them in CI."""

from __future__ import annotations

import numpy as np
import pytest

from nn.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D
from nn.network import Network

torch = pytest.importorskip("torch", reason="PyTorch is not installed "
                            "(pip install torch==2.13.0+cpu)")

TORCH_ACTS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "silu": "SiLU"}
LAYERS = [{"conv": 4, "kernel": 3, "stride": 2, "padding": 1},
          {"conv": 6, "kernel": 3, "padding": "same", "activation": "tanh"},
          {"pool": 2},
          {"conv": 5, "kernel": 2, "activation": "silu"},
          {"dropout": 0.0},  # plumbing only: (rate 0.5 is tested in test_conv.py)
          {"dense": 7},
          {"dense": 4}]
SHAPE = (13, 11, 3)  # odd sizes: the pool drops a row and a column


class NHWCFlatten(torch.nn.Module):
    """Flatten in our order (height, width, channel)."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)


def to_torch(net: Network):
    mods = []
    for layer in net.layers:
        if isinstance(layer, Conv2D):
            h, w, c = layer.in_shape
            k = layer.kernel
            conv = torch.nn.Conv2d(c, layer.filters, k, layer.stride, layer.padding,
                                   dtype=torch.float64)
            with torch.no_grad():  # ours (k, k, C, F) -> theirs (F, C, k, k)
                conv.weight.copy_(torch.from_numpy(
                    np.asarray(layer.W).reshape(k, k, c, -1).transpose(3, 2, 0, 1).copy()))
                conv.bias.copy_(torch.from_numpy(np.asarray(layer.b)))
            mods.append(conv)
        elif isinstance(layer, MaxPool2D):
            mods.append(torch.nn.MaxPool2d(layer.size))
        elif isinstance(layer, Flatten):
            mods.append(NHWCFlatten())
        elif isinstance(layer, Dropout):
            mods.append(torch.nn.Dropout(layer.rate))
        else:
            lin = torch.nn.Linear(layer.n_in, layer.n_out, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.asarray(layer.W).T.copy()))
                lin.bias.copy_(torch.from_numpy(np.asarray(layer.b)))
            mods.append(lin)
        name = layer.activation.name if layer.activation is not None else None
        if name in TORCH_ACTS:
            mods.append(getattr(torch.nn, TORCH_ACTS[name])())
    return torch.nn.Sequential(*mods).eval()


def from_torch(model, net: Network) -> None:
    params = [m for m in model if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    ours = [layer for layer in net.layers if layer.num_params]
    for layer, mod in zip(ours, params, strict=True):
        w = mod.weight.detach().numpy()
        if isinstance(layer, Conv2D):
            layer.W[...] = w.transpose(2, 3, 1, 0).reshape(layer.W.shape)
        else:
            layer.W[...] = w.T
        layer.b[...] = mod.bias.detach().numpy()


def torch_grads(model, net: Network) -> np.ndarray:
    """PyTorch's gradients in our ``theta`` layout."""
    params = [m for m in model if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    parts = []
    for layer, mod in zip([la for la in net.layers if la.num_params], params, strict=True):
        g = mod.weight.grad.numpy()
        g = g.transpose(2, 3, 1, 0) if isinstance(layer, Conv2D) else g.T
        parts += [g.reshape(-1), mod.bias.grad.numpy()]
    return np.concatenate(parts)


def batch(rng, n=9):
    x = rng.normal(size=(n, *SHAPE))
    x[:, :6, :6, :] = 0  # blank areas: tied maxima in the pooling windows
    return x.reshape(n, -1), rng.integers(0, 4, n)


def nchw(x):
    return torch.from_numpy(x.reshape(len(x), *SHAPE).transpose(0, 3, 1, 2).copy())


def test_convnet_predictions_and_gradients_match_pytorch():
    rng = np.random.default_rng(0)
    net = Network(layers=LAYERS, input_shape=SHAPE, dtype=np.float64, rng=rng)
    net.theta += rng.normal(0, 0.05, net.num_params)
    assert any(isinstance(layer, Dense) for layer in net.layers)
    model = to_torch(net)
    x, labels = batch(rng)

    theirs = torch.softmax(model(nchw(x)), dim=1).detach().numpy()
    np.testing.assert_allclose(net.predict_proba(x), theirs, rtol=0, atol=1e-12)

    loss, _ = net.loss_and_backward(x, np.eye(4)[labels])
    model.zero_grad()
    ref = torch.nn.functional.cross_entropy(model(nchw(x)), torch.from_numpy(labels))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(net.grad, torch_grads(model, net), rtol=1e-9, atol=1e-12)

    # and the input gradient, through every layer
    xt = nchw(x).requires_grad_()
    torch.nn.functional.cross_entropy(model(xt), torch.from_numpy(labels)).backward()
    out = net.forward(x)
    probs = out.copy()
    dx = net.backward((-np.eye(4)[labels] / probs) / len(x))
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1).reshape(len(x), -1),
                               rtol=1e-8, atol=1e-12)


def test_weights_from_pytorch_give_pytorchs_predictions():
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    net = Network(layers=LAYERS, input_shape=SHAPE, dtype=np.float64)
    model = to_torch(net)
    for p in model.parameters():  # PyTorch's own initialisation, not ours
        with torch.no_grad():
            p.copy_(torch.randn_like(p) * 0.3)
    from_torch(model, net)
    x, labels = batch(rng, 5)
    theirs = torch.softmax(model(nchw(x)), dim=1).detach().numpy()
    np.testing.assert_allclose(net.predict_proba(x), theirs, rtol=0, atol=1e-12)
    # the population forward agrees too (shared inputs: one patch matrix for all)
    pop = net.forward_population(x, np.stack([net.theta, net.theta]))
    np.testing.assert_allclose(pop[1], theirs, atol=1e-12)
