"""Image layers (Conv2D, MaxPool2D, Flatten, Dropout) against independent references:
direct nested-loop convolution and pooling, central finite differences in float64, and a
per-member loop for the population forward pass."""

from __future__ import annotations

import numpy as np
import pytest

from nn.layers import Conv2D, MaxPool2D
from nn.network import Network, build_layers, normalize_layers
from tests.nn.checks import numeric_grad


def conv_reference(x, W, b, stride, pad):
    """Direct convolution, one output value at a time: x (B, H, W, C), W (k, k, C, F)."""
    B, H, Wd, C = x.shape
    k, F = W.shape[0], W.shape[3]
    xp = np.zeros((B, H + 2 * pad, Wd + 2 * pad, C))
    xp[:, pad:pad + H, pad:pad + Wd, :] = x
    Ho, Wo = (H + 2 * pad - k) // stride + 1, (Wd + 2 * pad - k) // stride + 1
    out = np.zeros((B, Ho, Wo, F))
    for n in range(B):
        for i in range(Ho):
            for j in range(Wo):
                for f in range(F):
                    s = b[f]
                    for di in range(k):
                        for dj in range(k):
                            for c in range(C):
                                s += xp[n, i * stride + di, j * stride + dj, c] * W[di, dj, c, f]
                    out[n, i, j, f] = s
    return out


def pool_reference(x, s):
    """Max of every window, and the gradient of sum(out * g): to the first maximum."""
    B, H, W, C = x.shape
    Ho, Wo = H // s, W // s
    out = np.zeros((B, Ho, Wo, C))
    return_grad = np.zeros_like(x)
    g = np.arange(1, B * Ho * Wo * C + 1, dtype=float).reshape(B, Ho, Wo, C)
    for n in range(B):
        for i in range(Ho):
            for j in range(Wo):
                for c in range(C):
                    win = x[n, i * s:i * s + s, j * s:j * s + s, c]
                    out[n, i, j, c] = win.max()
                    di, dj = np.unravel_index(np.argmax(win), win.shape)  # the first
                    return_grad[n, i * s + di, j * s + dj, c] += g[n, i, j, c]
    return out, g, return_grad


CONV_CASES = [  # (H, W, C, filters, kernel, stride, padding)
    (5, 5, 1, 2, 3, 1, 0),
    (7, 6, 3, 4, 3, 1, 1),
    (9, 7, 2, 3, 3, 2, 1),
    (8, 8, 2, 2, 5, 1, 2),
    (11, 9, 3, 2, 5, 3, 2),
    (6, 7, 2, 3, 2, 2, 0),
    (5, 4, 3, 2, 1, 1, 0),
    (4, 5, 2, 2, 4, 1, 3),  # padding past the kernel's reach
    (10, 10, 2, 3, 3, 2, 0),
    (3, 4, 2, 2, 3, 1, 3),  # padding wider than the kernel
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_forward_matches_nested_loops(case):
    h, w, c, f, k, s, p = case
    rng = np.random.default_rng(sum(case))
    layer = Conv2D((h, w, c), f, k, s, p, "identity")
    theta = rng.normal(size=layer.num_params)
    layer.bind(theta, np.zeros_like(theta))
    x = rng.normal(size=(3, h, w, c))
    ref = conv_reference(x, layer.W.reshape(k, k, c, f), layer.b, s, p)
    out = layer.forward(x)
    assert out.shape == ref.shape == (3, *layer.out_shape)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_backward_matches_finite_differences(case):
    """dW, db and dx of L = sum(out * g) against central differences in float64."""
    h, w, c, f, k, s, p = case
    rng = np.random.default_rng(100 + sum(case))
    layer = Conv2D((h, w, c), f, k, s, p, "tanh")
    theta = rng.normal(size=layer.num_params) * 0.5
    grad = np.zeros_like(theta)
    layer.bind(theta, grad)
    x = rng.normal(size=(2, h, w, c))
    g = rng.normal(size=(2, *layer.out_shape))

    def loss():
        return float(np.sum(layer.forward(x) * g))

    loss()
    dx = layer.backward(g.copy()).copy()
    num = numeric_grad(loss, theta)
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-7)
    num_x = numeric_grad(loss, x.reshape(-1)).reshape(x.shape)  # a view: x changes in place
    np.testing.assert_allclose(dx, num_x, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("h,w,s", [(4, 4, 2), (5, 7, 2), (9, 9, 3), (6, 5, 1)])
def test_maxpool_matches_reference_with_ties(h, w, s):
    rng = np.random.default_rng(h * w + s)
    # few distinct values: windows with tied maxima are common (as zeros after a ReLU,
    # or a blank background, are); the gradient goes to the first maximum only
    x = rng.integers(0, 3, size=(3, h, w, 2)).astype(float)
    layer = MaxPool2D((h, w, 2), s)
    ref, g, ref_grad = pool_reference(x, s)
    np.testing.assert_array_equal(layer.forward(x), ref)
    np.testing.assert_array_equal(layer.backward(g), ref_grad)
    pop = layer.forward_population(np.stack([x, x + 1]), None)
    np.testing.assert_array_equal(pop, np.stack([ref, ref + 1]))



NETS = {
    "conv-pool-dense": ((8, 8, 2), [{"conv": 3, "kernel": 3, "padding": 1}, {"pool": 2},
                                    {"dense": 4}]),
    "strided-odd": ((9, 7, 3), [{"conv": 4, "kernel": 3, "stride": 2},
                                {"conv": 3, "kernel": 2, "activation": "tanh"},
                                {"flatten": True}, {"dense": 5, "activation": "silu"},
                                {"dense": 3}]),
    "dropout": ((6, 6, 1), [{"conv": 2, "kernel": 3, "padding": "same"}, {"dropout": 0.3},
                            {"pool": 2}, {"dense": 6}, {"dropout": 0.5}, {"dense": 3}]),
    "sigmoid-5x5": ((7, 7, 2), [{"conv": 3, "kernel": 5, "padding": 2,
                                 "activation": "sigmoid"}, {"pool": 3}, {"dense": 3}]),
}


@pytest.mark.parametrize("name", list(NETS))
def test_network_gradients_match_finite_differences(name):
    shape, layers = NETS[name]
    rng = np.random.default_rng(len(name))
    net = Network(layers=layers, input_shape=shape, dtype=np.float64, rng=rng)
    net.theta += rng.normal(0, 0.1, net.num_params)  # non-zero biases too
    n_out = net.n_outputs
    x = rng.normal(size=(4, int(np.prod(shape))))
    y = np.eye(n_out)[rng.integers(0, n_out, 4)]

    def loss():  # the same dropout masks every call
        return net.loss_and_backward(x, y, 0.0, np.random.default_rng(7))[0]

    loss()
    analytic = net.grad.copy()
    numeric = numeric_grad(loss, net.theta)
    err = np.abs(analytic - numeric).max() / max(1e-8, np.abs(numeric).max())
    assert err < 1e-6, (name, err)
    if name == "dropout":  # the masks really changed something
        assert loss() != pytest.approx(net.loss.value(net.forward(x), y))


def test_float32_agrees_with_float64():
    shape, layers = NETS["strided-odd"]
    n64 = Network(layers=layers, input_shape=shape, dtype=np.float64,
                  rng=np.random.default_rng(1))
    n32 = Network(layers=layers, input_shape=shape, dtype=np.float32)
    n32.set_params(n64.theta)
    x = np.random.default_rng(2).normal(size=(5, int(np.prod(shape))))
    y = np.eye(3)[[0, 1, 2, 0, 1]]
    n64.loss_and_backward(x, y)
    n32.loss_and_backward(x, y)
    assert n32.grad.dtype == np.float32
    np.testing.assert_allclose(n32.grad, n64.grad, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(n32.predict_proba(x), n64.predict_proba(x), atol=1e-5)


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_population_forward_matches_per_member_loop(shared, dtype):
    shape, layers = NETS["strided-odd"]
    rng = np.random.default_rng(3)
    net = Network(layers=layers, input_shape=shape, dtype=dtype, rng=rng)
    P, B, D = 5, 6, int(np.prod(shape))
    thetas = (net.theta[None, :] + rng.normal(0, 0.2, (P, net.num_params))).astype(dtype)
    x = rng.normal(size=(B, D)) if shared else rng.normal(size=(P, B, D))
    x = x.astype(dtype)
    member = net.clone()
    ref = np.stack([(member.set_params(t), member.predict_proba(x if shared else x[i]))[1]
                    for i, t in enumerate(thetas)])
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(net.forward_population(x, thetas), ref, atol=tol)
    # in groups of members (a small memory budget): the same numbers
    np.testing.assert_allclose(net.forward_population(x, thetas, max_bytes=1), ref, atol=tol)
    if not shared:  # one sample per member, as a rollout calls it
        np.testing.assert_allclose(net.member_policy(thetas)(x[:, 0]), ref[:, 0], atol=tol)


def test_input_standardisation_applies_to_images_and_populations():
    shape, layers = NETS["conv-pool-dense"]
    rng = np.random.default_rng(4)
    net = Network(layers=layers, input_shape=shape, dtype=np.float64, rng=rng)
    x = rng.random((6, 128)) * 3 + 1
    shift, scale = rng.normal(size=128), rng.random(128) + 0.5
    net.set_input_norm(shift, scale)
    raw = net.clone()
    raw.set_input_norm(None, None)
    np.testing.assert_allclose(net.predict_proba(x), raw.predict_proba((x - shift) * scale))
    pop = net.forward_population(x, net.theta[None])[0]
    np.testing.assert_allclose(pop, net.predict_proba(x), atol=1e-12)


def test_layer_list_shapes_and_description():
    net = Network(layers=[{"conv": 8, "kernel": 5, "padding": "same"}, {"pool": 2},
                          {"conv": 16, "kernel": 3, "stride": 2}, {"dense": 10}],
                  input_shape=(28, 28, 1))
    kinds = [layer.kind for layer in net.layers]
    assert kinds == ["conv", "pool", "conv", "flatten", "dense"]  # flatten added
    assert [layer.out_shape for layer in net.layers] == [(28, 28, 8), (14, 14, 8),
                                                          (6, 6, 16), (576,), (10,)]
    assert net.num_params == (25 * 8 + 8) + (72 * 16 + 16) + (576 * 10 + 10)
    assert net.describe() == "conv8k5-pool2-conv16k3s2-flat-dense10"
    assert net.n_inputs == 784 and net.n_outputs == 10 and not net.is_mlp
    slices = net.layer_slices()
    assert slices[1] == (slice(208, 208), slice(208, 208))  # the pool: no parameters
    assert net.theta[slices[2][0]].size == 72 * 16 and net.theta[slices[2][1]].size == 16
    mask = net.weight_mask()
    assert mask.sum() == 25 * 8 + 72 * 16 + 576 * 10  # weights, not biases
    specs = net.layer_specs()
    assert specs[0] == {"conv": 8, "kernel": 5, "stride": 1, "padding": 2,
                        "activation": "relu"}
    assert specs[-1] == {"dense": 10, "activation": "softmax"}
    again = Network(layers=specs, input_shape=(28, 28, 1))
    assert again.layer_specs() == specs


@pytest.mark.parametrize("layers,fragment", [
    ([{"conv": 4, "kernal": 3}, {"dense": 2}], "unknown key(s) kernal"),
    ([{"conv": 4, "pool": 2}, {"dense": 2}], "exactly one of"),
    ([{"conv": 4}], "last layer must be a dense layer"),
    ([{"conv": 0}, {"dense": 2}], "layers[0].conv must be an integer >= 1"),
    ([{"conv": 2, "kernel": 2, "padding": "same"}, {"dense": 2}], "needs an odd kernel"),
    ([{"dropout": 1.5}, {"dense": 2}], "layers[0].dropout"),
    ([{"dense": 3, "activation": "swish"}, {"dense": 2}], "unknown 'swish'"),
    ([], "non-empty list"),
    (["conv"], "expected a mapping"),
])
def test_bad_layer_lists_name_the_entry(layers, fragment):
    with pytest.raises(ValueError) as info:
        normalize_layers(layers)
    assert fragment in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("shape,layers,fragment", [
    ((20,), [{"conv": 4}, {"dense": 2}], "needs image inputs"),
    ((4, 4, 1), [{"conv": 4, "kernel": 5}, {"dense": 2}], "does not fit a 4x4 input"),
    ((4, 4, 1), [{"pool": 5}, {"dense": 2}], "pool 5 does not fit"),
])
def test_layers_that_do_not_fit_the_input(shape, layers, fragment):
    with pytest.raises(ValueError, match=fragment):
        build_layers(shape, layers)
