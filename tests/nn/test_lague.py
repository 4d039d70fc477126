"""The original C# project's JSON network format: import, export, orientation."""

import json

import numpy as np
import pytest

from nn.errors import ModelFileError
from nn.lague import export_lague, flip_rows_index, load_lague, orient_inputs
from nn.network import Network


def lague_doc(rng, sizes=(784, 5, 3), acts=(2, 4), cost=1):
    conns = []
    for n_in, n_out, a in zip(sizes[:-1], sizes[1:], acts):
        conns.append({"weights": rng.normal(0, 0.1, n_in * n_out).tolist(),
                      "biases": rng.normal(0, 0.1, n_out).tolist(), "activationType": a})
    return {"layerSizes": list(sizes), "connections": conns, "costFunctionType": cost}


def reference_forward(doc, x):
    """The original project's feed-forward, written independently from its format."""
    a = x
    for c in doc["connections"]:
        n_out = len(c["biases"])
        W = np.array(c["weights"]).reshape(n_out, -1)  # index out * n_in + in
        z = a @ W.T + np.array(c["biases"])
        kind = c["activationType"]
        if kind == 0:
            a = 1 / (1 + np.exp(-z))
        elif kind == 1:
            a = np.tanh(z)
        elif kind == 2:
            a = np.maximum(z, 0)
        elif kind == 3:
            a = z / (1 + np.exp(-z))
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
    return a


@pytest.mark.parametrize("acts", [(2, 4), (0, 0), (1, 3)])
def test_import_matches_the_original_forward(tmp_path, acts):
    rng = np.random.default_rng(0)
    doc = lague_doc(rng, acts=acts)
    (tmp_path / "net.json").write_text(json.dumps(doc))
    net, meta = load_lague(tmp_path / "net.json")
    x = rng.random((6, 784))
    np.testing.assert_allclose(net.predict_proba(x), reference_forward(doc, x), rtol=1e-10)
    assert meta["input_shape"] == [28, 28, 1]
    assert meta["preprocessing"]["orientation"] == "bottom-up"


def test_export_of_an_image_model_takes_bottom_up_pixels(tmp_path):
    rng = np.random.default_rng(1)
    net = Network([784, 6, 10], ["relu", "softmax"], dtype=np.float64, rng=rng)
    meta = {"input_shape": [28, 28, 1], "preprocessing": {"orientation": "top-down"}}
    export_lague(tmp_path / "out.json", net, meta)
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["layerSizes"] == [784, 6, 10] and doc["costFunctionType"] == 1
    assert [c["activationType"] for c in doc["connections"]] == [2, 4]
    x = rng.random((5, 784))  # top-down images
    flipped = x[:, flip_rows_index([28, 28, 1])]
    np.testing.assert_allclose(reference_forward(doc, flipped), net.predict_proba(x),
                               rtol=1e-10)
    back, back_meta = load_lague(tmp_path / "out.json")
    x2 = orient_inputs(x, [28, 28, 1], "top-down", back_meta["preprocessing"]["orientation"])
    np.testing.assert_allclose(back.predict_proba(x2), net.predict_proba(x), rtol=1e-10)


def test_flip_index_flips_rows():
    img = np.arange(12).reshape(3, 4, 1)
    np.testing.assert_array_equal(img.reshape(-1)[flip_rows_index([3, 4, 1])],
                                  img[::-1].reshape(-1))


@pytest.mark.parametrize("mutate,fragment", [
    (lambda d: d.update(layerSizes=[784]), "layerSizes"),
    (lambda d: d["connections"].pop(), "connections expected"),
    (lambda d: d["connections"][0].update(activationType=9), "activationType"),
    (lambda d: d["connections"][1]["weights"].pop(), "weights needs 15"),
    (lambda d: d.update(costFunctionType=7), "costFunctionType"),
])
def test_bad_files(tmp_path, mutate, fragment):
    doc = lague_doc(np.random.default_rng(2))
    mutate(doc)
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=fragment):
        load_lague(tmp_path / "bad.json")
    (tmp_path / "cut.json").write_text(json.dumps(doc)[:100])
    with pytest.raises(ModelFileError, match="not readable JSON"):
        load_lague(tmp_path / "cut.json")
