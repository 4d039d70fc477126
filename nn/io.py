"""Model files: ``model.npz`` holding arrays only, with JSON metadata inside.

Layout of the archive (``np.load(..., allow_pickle=False)`` reads it):

- ``theta``: the flat parameter vector (float32 or float64)
- ``in_shift``, ``in_scale`` (optional): the fixed input standardisation
  ``(x - in_shift) * in_scale`` applied before the first layer
- ``meta``: a 0-d unicode array holding a JSON object::

    {"format": "neuroevo-model", "version": 1, "layer_sizes": [...],
     "activations": [...], "loss": "...", "dtype": "float32",
     "input_shape": [...], "label_names": [...], "preprocessing": {...}, ...}

Version 1 describes a multilayer perceptron by its ``layer_sizes`` and ``activations``;
perceptrons are still written as version 1, so older readers keep reading them.  Version 2
(networks with image layers) adds ``"layers"``, the layer list with every option spelled
out (``[{"conv": 32, "kernel": 5, "stride": 1, "padding": 2, "activation": "relu"},
{"pool": 2}, {"flatten": true}, {"dense": 10, "activation": "softmax"}]``, see
:func:`nn.network.normalize_layers`), and ``input_shape`` is the shape the first layer
takes (``[H, W, C]``).  A file of another version, or whose parameters do not fit its
layers, is refused with one line.

Files are written to a temporary file in the target folder and renamed into place.
"""

from __future__ import annotations

import os

import numpy as np

from common.files import read_npz, write_npz
from nn.errors import ModelFileError
from nn.network import Network

FORMAT = "neuroevo-model"
VERSION = 2  # the newest format this code reads and writes
VERSIONS = (1, 2)  # the formats it reads
MLP_VERSION = 1  # what perceptrons are still written as


def model_metadata(net: Network, **extra) -> dict:
    meta = {"format": FORMAT, "version": MLP_VERSION if net.is_mlp else VERSION,
            "layer_sizes": net.sizes, "activations": net.activations, "loss": net.loss_name,
            "dtype": net.dtype.name}
    meta.setdefault("input_shape", [net.n_inputs])
    meta.update(extra)
    if not net.is_mlp:
        meta["layers"] = net.layer_specs()
        meta["input_shape"] = list(net.input_shape)
    meta.setdefault("label_names", [str(i) for i in range(net.n_outputs)])
    meta.setdefault("preprocessing", {})
    return meta


def save_model(path: str | os.PathLike, net: Network, **meta) -> None:
    """Write ``net`` and its metadata (``input_shape``, ``label_names``,
    ``preprocessing``, ``dataset``... as keyword arguments) atomically."""
    full = model_metadata(net, **meta)
    arrays = {"theta": net.theta}
    if net.in_shift is not None:
        arrays.update(in_shift=net.in_shift, in_scale=net.in_scale)
    write_npz(path, arrays, full)


def read_model_file(path: str | os.PathLike) -> tuple[np.ndarray, dict]:
    """Read and validate ``(theta, meta)`` without building a network; the optional input
    standardisation arrays come back in ``meta["_input_norm"]``."""
    where = str(path)
    arrays, meta = read_npz(path, "model file", "a model.npz or best.npz written by neuroevo "
                            "is expected", ModelFileError)
    if "theta" not in arrays or meta is None:
        raise ModelFileError(f"{where}: not a neuroevo model (arrays 'theta' and 'meta' "
                             f"expected, found {', '.join(arrays) or 'none'})")
    theta = arrays["theta"]
    norm = ((arrays["in_shift"], arrays["in_scale"]) if "in_shift" in arrays
            and "in_scale" in arrays else None)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{where}: not a neuroevo model file")
    version = meta.get("version")
    if version not in VERSIONS:
        newer = (isinstance(version, int) and not isinstance(version, bool)
                 and version > VERSION)
        raise ModelFileError(
            f"{where}: model format version {version!r} is not supported (this neuroevo "
            f"reads versions {', '.join(map(str, VERSIONS))}"
            + ("; the file was written by a newer neuroevo)" if newer else ")"))
    keys = ("layer_sizes", "activations", "loss") if version == 1 else (
        "layers", "input_shape", "loss")
    for key in keys:
        if key not in meta:
            raise ModelFileError(f"{where}: model metadata lacks {key!r}")
    meta["_input_norm"] = norm
    if theta.ndim != 1 or theta.dtype.kind != "f":
        raise ModelFileError(f"{where}: parameter array has shape {theta.shape} and dtype "
                             f"{theta.dtype}; expected a flat float vector")
    return theta, meta


def load_model(path: str | os.PathLike) -> tuple[Network, dict]:
    """Load a model file: ``(network, metadata)``.  Errors are :class:`ModelFileError`."""
    theta, meta = read_model_file(path)
    try:
        if meta["version"] == 1:
            net = Network(meta["layer_sizes"], meta["activations"], meta["loss"],
                          dtype=theta.dtype)
        else:
            net = Network(layers=meta["layers"], input_shape=meta["input_shape"],
                          loss=meta["loss"], dtype=theta.dtype)
    except (ValueError, TypeError, KeyError) as e:
        raise ModelFileError(f"{path}: model metadata describes no valid network "
                             f"({str(e).splitlines()[0] if str(e) else type(e).__name__})"
                             ) from None
    if theta.shape[0] != net.num_params:
        what = (f"layers {meta['layer_sizes']}" if meta["version"] == 1
                else f"layers {net.describe()} on {meta['input_shape']} inputs")
        raise ModelFileError(f"{path}: {theta.shape[0]} parameters stored but {what} need "
                             f"{net.num_params}")
    net.set_params(theta)
    norm = meta.pop("_input_norm", None)
    if norm is not None:
        try:
            net.set_input_norm(*norm)
        except ValueError as e:
            raise ModelFileError(f"{path}: {e}") from None
    return net, meta
