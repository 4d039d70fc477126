"""Model files: ``model.npz`` holding arrays only, with JSON metadata inside.

Layout of the archive (``np.load(..., allow_pickle=False)`` reads it):

- ``theta``: the flat parameter vector (float32 or float64)
- ``in_shift``, ``in_scale`` (optional): the fixed input standardisation
  ``(x - in_shift) * in_scale`` applied before the first layer
- ``meta``: a 0-d unicode array holding a JSON object::

    {"format": "neuroevo-model", "version": 1, "layer_sizes": [...],
     "activations": [...], "loss": "...", "dtype": "float32",
     "input_shape": [...], "label_names": [...], "preprocessing": {...}, ...}

Files are written to a temporary file in the target folder and renamed into place.
"""

from __future__ import annotations

import os

import numpy as np

from common.files import read_npz, write_npz
from nn.errors import ModelFileError
from nn.network import Network

FORMAT = "neuroevo-model"
VERSION = 1


def model_metadata(net: Network, **extra) -> dict:
    meta = {"format": FORMAT, "version": VERSION, "layer_sizes": net.sizes,
            "activations": net.activations, "loss": net.loss_name, "dtype": net.dtype.name}
    meta.setdefault("input_shape", [net.n_inputs])
    meta.update(extra)
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
    if meta.get("version") != VERSION:
        raise ModelFileError(f"{where}: model format version {meta.get('version')!r} is not "
                             f"supported (this neuroevo reads version {VERSION})")
    for key in ("layer_sizes", "activations", "loss"):
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
        net = Network(meta["layer_sizes"], meta["activations"], meta["loss"], dtype=theta.dtype)
    except (ValueError, TypeError) as e:
        raise ModelFileError(f"{path}: model metadata describes no valid network ({e})") from None
    if theta.shape[0] != net.num_params:
        raise ModelFileError(f"{path}: {theta.shape[0]} parameters stored but layers "
                             f"{meta['layer_sizes']} need {net.num_params}")
    net.set_params(theta)
    norm = meta.pop("_input_norm", None)
    if norm is not None:
        try:
            net.set_input_norm(*norm)
        except ValueError as e:
            raise ModelFileError(f"{path}: {e}") from None
    return net, meta
