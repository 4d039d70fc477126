"""Networks in the JSON format of the original C# project (SebLague/Neural-Network-Experiments).

Format::

    {"layerSizes": [784, 100, 10],
     "connections": [{"weights": [...], "biases": [...], "activationType": 2}, ...],
     "costFunctionType": 1}

``weights`` is flat with index ``out * n_in + in``; activationType 0 Sigmoid, 1 TanH,
2 ReLU, 3 SiLU, 4 Softmax; costFunctionType 0 mean squared error, 1 cross-entropy.

That project feeds image pixels bottom row first (Unity texture order), so an imported
image network expects vertically flipped images: its metadata records
``preprocessing.orientation = "bottom-up"``, and :func:`orient_inputs` flips data to match.
On export, a top-down model's first-layer weights are permuted so that the written network
takes bottom-up images, as the original project expects.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from common.files import atomic_write_text
from nn.errors import ModelFileError
from nn.io import model_metadata
from nn.network import Network

ACTIVATION_CODES = {0: "sigmoid", 1: "tanh", 2: "relu", 3: "silu", 4: "softmax"}
ACTIVATION_NAMES = {v: k for k, v in ACTIVATION_CODES.items()}
COST_CODES = {0: "mse", 1: "cross_entropy"}
COST_NAMES = {v: k for k, v in COST_CODES.items()}


def guess_input_shape(n: int) -> list[int]:
    """28x28 greyscale, 32x32 colour, or flat features."""
    side = math.isqrt(n)
    if side * side == n and side >= 8:
        return [side, side, 1]
    side = math.isqrt(n // 3)
    if n % 3 == 0 and side * side * 3 == n and side >= 8:
        return [side, side, 3]
    return [n]


def flip_rows_index(shape: list[int] | tuple[int, ...]) -> np.ndarray:
    """Index that maps a flattened (H, W, C) image to its vertically flipped version."""
    h, w, c = shape
    return np.arange(h * w * c).reshape(h, w, c)[::-1].reshape(-1)


def orient_inputs(x: np.ndarray, input_shape, data_orientation: str,
                  model_orientation: str) -> np.ndarray:
    """Flip flattened images vertically when the model's orientation differs from the data's."""
    if data_orientation == model_orientation or len(input_shape) != 3:
        return x
    return x[:, flip_rows_index(input_shape)]


def _bad(path, msg):
    return ModelFileError(f"{path}: not a valid network file of the original project ({msg})")


def load_lague(path: str | os.PathLike) -> tuple[Network, dict]:
    """Read a network saved by the original project: ``(network, metadata)``."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ModelFileError(f"{path}: not readable JSON ({str(e).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise _bad(path, "expected a JSON object")
    sizes, conns = doc.get("layerSizes"), doc.get("connections")
    if not (isinstance(sizes, list) and all(isinstance(s, int) and s > 0 for s in sizes)
            and len(sizes) >= 2):
        raise _bad(path, "layerSizes must list at least two positive integers")
    if not isinstance(conns, list) or len(conns) != len(sizes) - 1:
        raise _bad(path, f"{len(sizes) - 1} connections expected for layerSizes {sizes}")
    acts = []
    for i, c in enumerate(conns):
        if not isinstance(c, dict):
            raise _bad(path, f"connection {i} is not an object")
        code = c.get("activationType")
        if code not in ACTIVATION_CODES:
            raise _bad(path, f"connection {i}: unknown activationType {code!r}")
        acts.append(ACTIVATION_CODES[code])
        n_in, n_out = sizes[i], sizes[i + 1]
        for key, n in (("weights", n_in * n_out), ("biases", n_out)):
            v = c.get(key)
            if not isinstance(v, list) or len(v) != n:
                got = len(v) if isinstance(v, list) else type(v).__name__
                raise _bad(path, f"connection {i}: {key} needs {n} numbers, got {got}")
    cost = COST_CODES.get(doc.get("costFunctionType", 1))
    if cost is None:
        raise _bad(path, f"unknown costFunctionType {doc.get('costFunctionType')!r}")
    if cost == "cross_entropy" and acts[-1] not in ("softmax", "sigmoid"):
        cost = "mse"  # our cross-entropy needs probability outputs; only matters for training
    net = Network(sizes, acts, loss=cost, dtype=np.float64)
    for layer, c in zip(net.layers, conns):
        try:
            w = np.asarray(c["weights"], np.float64).reshape(layer.n_out, layer.n_in)
            b = np.asarray(c["biases"], np.float64)
        except (TypeError, ValueError):
            raise _bad(path, "weights and biases must be numbers") from None
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise _bad(path, "weights contain NaN or infinity")
        layer.W[...] = w.T
        layer.b[...] = b
    shape = guess_input_shape(sizes[0])
    meta = model_metadata(net, input_shape=shape,
                          preprocessing={"scale": "0-1",
                                         "orientation": "bottom-up" if len(shape) == 3
                                         else "top-down",
                                         "source": "lague-json"})
    return net, meta


def export_lague(path: str | os.PathLike, net: Network, meta: dict) -> None:
    """Write ``net`` in the original project's JSON format (atomically).  That format
    knows dense layers only: a convolutional network is refused (:class:`ModelFileError`)."""
    if not net.is_mlp:
        other = sorted({layer.kind for layer in net.layers} - {"dense"})
        raise ModelFileError(f"the lague-json format has dense layers only; this network "
                             f"has {', '.join(other)} layers ({net.describe()}) and cannot "
                             f"be exported to it")
    for name in net.activations:
        if name not in ACTIVATION_NAMES:
            raise ModelFileError(f"activation {name!r} has no equivalent in the original "
                                 f"project's format")
    shape = meta.get("input_shape", [net.n_inputs])
    orientation = meta.get("preprocessing", {}).get("orientation", "top-down")
    conns = []
    for i, layer in enumerate(net.layers):
        W = np.asarray(layer.W, np.float64)  # (n_in, n_out)
        b = np.asarray(layer.b, np.float64)
        if i == 0 and net.in_shift is not None:
            # fold the input standardisation into the first layer:
            # ((x - m) * s) @ W + b = x @ (s[:, None] * W) + (b - (m * s) @ W)
            s = np.asarray(net.in_scale, np.float64)
            b = b - (np.asarray(net.in_shift, np.float64) * s) @ W
            W = s[:, None] * W
        if i == 0 and len(shape) == 3 and orientation != "bottom-up":
            # the exported network will see bottom-up images: input j of it is our
            # input flip[j]
            W = W[flip_rows_index(shape)]
        conns.append({"weights": W.T.reshape(-1).tolist(),
                      "biases": b.tolist(),
                      "activationType": ACTIVATION_NAMES[layer.activation.name]})
    doc = {"layerSizes": net.sizes, "connections": conns,
           "costFunctionType": COST_NAMES.get(net.loss_name, 1)}
    atomic_write_text(path, json.dumps(doc))
