"""The node-graph layer (nn.graph): its layer-list form, model files, and its batched
forward against a slot-by-slot reference written from the padded layout."""

import numpy as np
import pytest

from nn.activations import get_activation
from nn.graph import Graph
from nn.io import load_model, save_model
from nn.network import Network


def random_graphs(P, n_in, n_out, hidden, recurrent, seed):
    """``P`` random graphs in the padded layout: each uses a random number of hidden
    slots (not always the first ones: unused slots in between), random sparse connections
    that respect depth order (feed-forward) or anything (recurrent)."""
    rng = np.random.default_rng(seed)
    layer = Graph(n_in, n_out, hidden, recurrent=recurrent)
    M, N = layer.n_slots, layer.n_src
    rows = []
    for _ in range(P):
        used = np.r_[np.ones(n_out, bool), rng.random(hidden) < 0.6]
        depth = np.zeros(M)
        hid = [k for k in range(n_out, M) if used[k]]
        if recurrent:
            depth[used] = 1
        else:
            for k in hid:
                depth[k] = rng.integers(1, 4)
            top = max([depth[k] for k in hid], default=0)
            depth[:n_out] = top + 1 + rng.integers(0, 2, n_out)
        W = np.zeros((N, M))
        for k in np.flatnonzero(used):
            for j in range(N):
                src_ok = j < n_in or used[j - n_in] and (
                    recurrent or depth[j - n_in] < depth[k])
                if src_ok and rng.random() < 0.5:
                    W[j, k] = rng.normal()
        b = np.where(used, rng.normal(size=M), 0.0)
        rows.append(layer.pack(W, b, depth))
    return layer, np.stack(rows)


def reference(layer, theta, xs, act, hidden_act):
    """Slot by slot, in order of depth (feed-forward), or all slots from the previous
    step's values (recurrent); ``xs (T, n_in)`` -> ``(T, n_out)``."""
    W, b, depth = (a[0] for a in layer.split(theta[None]))
    f = [get_activation(act if k < layer.n_out else hidden_act).forward
         for k in range(layer.n_slots)]
    out, prev = [], np.zeros(layer.n_slots)
    for x in xs:
        if layer.recurrent:
            src = np.r_[x, prev]
            new = np.zeros(layer.n_slots)
            for k in range(layer.n_slots):
                if depth[k] > 0:
                    new[k] = f[k](np.array([b[k] + src @ W[:, k]]))[0]
            prev = new
            out.append(new[:layer.n_out])
            continue
        v = np.r_[x, np.zeros(layer.n_slots)]
        for k in sorted(np.flatnonzero(depth > 0), key=lambda k: depth[k]):
            v[layer.n_in + k] = f[k](np.array([b[k] + v @ W[:, k]]))[0]
        out.append(v[layer.n_in:layer.n_in + layer.n_out])
    return np.array(out)


@pytest.mark.parametrize("recurrent", [False, True])
def test_member_steps_match_the_reference(recurrent):
    layer, thetas = random_graphs(12, 4, 2, 6, recurrent, seed=1)
    net = Network(layers=[{"graph": 2, "hidden": 6, "activation": "tanh",
                           "hidden_activation": "sigmoid", "recurrent": recurrent}],
                  input_shape=(4,), loss="mse", dtype=np.float64)
    xs = np.random.default_rng(2).normal(size=(5, 12, 4))
    policy = net.member_policy(thetas)
    got = np.stack([policy(x) for x in xs], axis=1)
    for p in range(12):
        np.testing.assert_allclose(got[p], reference(layer, thetas[p], xs[:, p], "tanh",
                                                     "sigmoid"), rtol=1e-12, atol=1e-12)
    # forward_population: recurrent runs the B axis as time, feed-forward as samples
    seq = net.forward_population(np.transpose(xs, (1, 0, 2)), thetas)
    np.testing.assert_allclose(seq, got, rtol=1e-12, atol=1e-12)


def test_layer_list_and_model_file_round_trip(tmp_path):
    net = Network(layers=[{"graph": 3, "hidden": 4, "recurrent": True}], input_shape=(5,),
                  loss="mse", dtype=np.float64)
    assert net.describe() == "graph3h4r" and net.num_params == (5 + 7) * 7 + 14
    _, thetas = random_graphs(1, 5, 3, 4, True, seed=3)
    net.set_params(thetas[0])
    save_model(tmp_path / "g.npz", net)
    back, _ = load_model(tmp_path / "g.npz")
    assert back.layer_specs() == net.layer_specs()
    x = np.random.default_rng(4).normal(size=(1, 5))
    np.testing.assert_array_equal(back.member_policy(back.theta[None])(x),
                                  net.member_policy(net.theta[None])(x))
    # the minimal graph a fresh network starts as: inputs to outputs, no hidden slot
    fresh = Network(layers=[{"graph": 2, "hidden": 3}], input_shape=(4,), loss="mse",
                    dtype=np.float64)
    W, b, depth = (a[0] for a in fresh.layers[0].split(fresh.theta[None]))
    assert (W[:4, :2] != 0).all() and not W[4:].any() and not W[:, 2:].any()
    np.testing.assert_array_equal(depth, [1, 1, 0, 0, 0])


@pytest.mark.parametrize("spec,msg", [
    ([{"graph": 2, "hidden": -1}], "hidden"),
    ([{"graph": 2, "hidden_activation": "softmax"}], "elementwise"),
    ([{"graph": 2, "recurrent": "yes"}], "recurrent"),
    ([{"dense": 4}, {"graph": 2}], "only layer"),
    ([{"graph": 2, "width": 3}], "unknown"),
])
def test_bad_graph_specs_are_refused(spec, msg):
    with pytest.raises(ValueError, match=msg):
        Network(layers=spec, input_shape=(3,), loss="mse")


def test_graphs_are_not_trained_by_backprop():
    net = Network(layers=[{"graph": 1}], input_shape=(2,), loss="mse", dtype=np.float64)
    with pytest.raises(NotImplementedError, match="evolved"):
        net.loss_and_backward(np.zeros((3, 2)), np.zeros((3, 1)))


def test_a_level_without_connections_is_its_biases():
    """A hidden node nothing feeds (its value: act(bias)) in a graph of one member: the
    level has no connections at all."""
    layer = Graph(2, 1, 2)
    W = np.zeros((layer.n_src, layer.n_slots))
    W[layer.n_in + 1, 0] = 2.0  # hidden slot 1 -> output
    b = np.array([0.1, -0.4, 0.0])
    depth = np.array([2, 1, 0])
    theta = layer.pack(W, b, depth)
    net = Network(layers=[{"graph": 1, "hidden": 2}], input_shape=(2,), loss="mse",
                  dtype=np.float64)
    out = net.member_policy(theta[None])(np.ones((1, 2)))
    np.testing.assert_allclose(out, [[np.tanh(0.1 + 2.0 * np.tanh(-0.4))]])
    np.testing.assert_allclose(reference(layer, theta, np.ones((1, 2)), "tanh", "tanh"), out)
