"""Layer lists: the ``layers=[{conv: 32, kernel: 3}, {pool: 2}, ..., {dense: 10}]`` form
of a :class:`nn.network.Network` (checked, defaults filled in, turned into layer objects),
and the short names :meth:`nn.network.Network.describe` prints."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nn.graph import Graph
from nn.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D
from nn.recurrent import Elman


def short_name(spec: dict) -> str:
    """``conv32k5``, ``pool2``, ``dense10``, ``drop0.5`` or ``flat``."""
    if "conv" in spec:
        extra = f"s{spec['stride']}" if spec.get("stride", 1) != 1 else ""
        return f"conv{spec['conv']}k{spec['kernel']}{extra}"
    if "pool" in spec:
        return f"pool{spec['pool']}"
    if "dense" in spec:
        return f"dense{spec['dense']}"
    if "rnn" in spec:
        return f"rnn{spec['rnn']}"
    if "graph" in spec:
        return f"graph{spec['graph']}h{spec.get('hidden', 0)}" + (
            "r" if spec.get("recurrent") else "")
    if "dropout" in spec:
        return f"drop{spec['dropout']:g}"
    return "flat"


LAYER_KINDS = ("conv", "pool", "flatten", "dense", "dropout", "rnn", "graph")
# the keys each kind of layer takes besides its own (with defaults where optional)
LAYER_OPTIONS = {"conv": {"kernel": 3, "stride": 1, "padding": 0, "activation": None},
                 "pool": {}, "flatten": {}, "dense": {"activation": None}, "dropout": {},
                 "rnn": {"activation": None},
                 "graph": {"hidden": 0, "activation": None, "hidden_activation": "tanh",
                           "recurrent": False}}


def _int(value, what: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{what} must be an integer >= {low}, got {value!r}")
    return int(value)


def normalize_layers(specs: Sequence[dict], hidden_activation: str = "relu",
                     output_activation: str = "softmax") -> list[dict]:
    """Check a layer list and fill in its defaults.

    Each entry is a mapping with one kind key: ``{conv: FILTERS, kernel: 3, stride: 1,
    padding: 0 | same, activation: ...}``, ``{pool: SIZE}`` (max pooling, stride = size),
    ``{flatten: true}``, ``{dropout: RATE}``, ``{dense: WIDTH, activation: ...}`` or
    ``{rnn: WIDTH, activation: ...}`` (an Elman recurrent layer, :mod:`nn.recurrent`: its
    network runs on sequences).  The last entry must be a dense layer (the output);
    activations default to ``output_activation`` for it, to tanh for rnn layers and to
    ``hidden_activation`` for the others.
    ``ValueError`` names the entry (``layers[2]: ...``)."""
    if not isinstance(specs, (list, tuple)) or not specs:
        raise ValueError("layers: expected a non-empty list of layers")
    out = []
    for i, spec in enumerate(specs):
        where = f"layers[{i}]"
        if not isinstance(spec, dict):
            raise ValueError(f"{where}: expected a mapping such as {{conv: 32, kernel: 3}}, "
                             f"got {spec!r}")
        kinds = [k for k in spec if k in LAYER_KINDS]
        if len(kinds) != 1:
            raise ValueError(f"{where}: needs exactly one of {', '.join(LAYER_KINDS)}, "
                             f"got {', '.join(map(str, spec)) or 'nothing'}")
        kind = kinds[0]
        unknown = [k for k in spec if k != kind and k not in LAYER_OPTIONS[kind]]
        if unknown:
            known = ", ".join(LAYER_OPTIONS[kind]) or "nothing else"
            raise ValueError(f"{where}: unknown key(s) {', '.join(map(str, unknown))} for "
                             f"a {kind} layer (it takes {known})")
        last = i == len(specs) - 1
        act = spec.get("activation") or ("tanh" if kind in ("rnn", "graph") else output_activation
                                         if last else hidden_activation)
        if not isinstance(act, str):
            raise ValueError(f"{where}.activation: expected a name, got {act!r}")
        from nn.activations import ACTIVATIONS

        if act not in ACTIVATIONS:
            raise ValueError(f"{where}.activation: unknown {act!r}; choose from "
                             f"{', '.join(ACTIVATIONS)}")
        if kind == "conv":
            k = _int(spec.get("kernel", 3), f"{where}.kernel", 1)
            pad = spec.get("padding", 0)
            if pad == "same":
                if k % 2 == 0:
                    raise ValueError(f"{where}.padding: 'same' needs an odd kernel, got {k}")
                pad = (k - 1) // 2
            out.append({"conv": _int(spec["conv"], f"{where}.conv", 1), "kernel": k,
                        "stride": _int(spec.get("stride", 1), f"{where}.stride", 1),
                        "padding": _int(pad, f"{where}.padding", 0), "activation": act})
        elif kind == "pool":
            out.append({"pool": _int(spec["pool"], f"{where}.pool", 1)})
        elif kind == "flatten":
            if spec["flatten"] is not True:
                raise ValueError(f"{where}.flatten: write flatten: true")
            out.append({"flatten": True})
        elif kind == "rnn":
            if act == "softmax":
                raise ValueError(f"{where}.activation: an rnn layer needs an elementwise "
                                 f"activation, not softmax")
            out.append({"rnn": _int(spec["rnn"], f"{where}.rnn", 1), "activation": act})
        elif kind == "graph":
            hid = spec.get("hidden_activation", "tanh")
            if hid not in ACTIVATIONS or hid == "softmax" or act == "softmax":
                raise ValueError(f"{where}: a graph needs elementwise activations, got "
                                 f"{act!r} and {hid!r}")
            if not isinstance(spec.get("recurrent", False), bool):
                raise ValueError(f"{where}.recurrent: true or false expected")
            if len(specs) != 1:
                raise ValueError(f"{where}: a graph layer is the whole network (inputs to "
                                 f"outputs), the only layer of its list")
            out.append({"graph": _int(spec["graph"], f"{where}.graph", 1),
                        "hidden": _int(spec.get("hidden", 0), f"{where}.hidden", 0),
                        "activation": act, "hidden_activation": hid,
                        "recurrent": spec.get("recurrent", False)})
        elif kind == "dropout":
            rate = spec["dropout"]
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
                raise ValueError(f"{where}.dropout: a rate in [0, 1) expected, got {rate!r}")
            out.append({"dropout": float(rate)})
        else:
            out.append({"dense": _int(spec["dense"], f"{where}.dense", 1), "activation": act})
    if "dense" not in out[-1] and "graph" not in out[-1]:
        raise ValueError(f"layers[{len(out) - 1}]: the last layer must be a dense layer "
                         f"(the output), got {short_name(out[-1])}")
    return out


def build_layers(input_shape: Sequence[int], specs: Sequence[dict]) -> list:
    """Layer objects for a layer list (see :func:`normalize_layers`) on inputs of
    ``input_shape``.  A dense layer after image layers gets a :class:`Flatten` in front
    of it.  ``ValueError`` names the entry that does not fit."""
    specs = normalize_layers(specs)
    shape = tuple(int(v) for v in input_shape)
    layers: list = []
    for i, spec in enumerate(specs):
        where = f"layers[{i}]"
        try:
            if "conv" in spec or "pool" in spec:
                if len(shape) != 3:
                    raise ValueError(f"needs image inputs (H, W, C), got shape {shape}")
                if "conv" in spec:
                    layer = Conv2D(shape, spec["conv"], spec["kernel"], spec["stride"],
                                   spec["padding"], spec["activation"])
                else:
                    layer = MaxPool2D(shape, spec["pool"])
            elif "flatten" in spec:
                layer = Flatten(shape)
            elif "dropout" in spec:
                layer = Dropout(shape, spec["dropout"])
            elif "graph" in spec:
                if len(shape) != 1:
                    raise ValueError(f"a graph takes flat inputs, got shape {shape}")
                layer = Graph(shape[0], spec["graph"], spec["hidden"], spec["activation"],
                              spec["hidden_activation"], spec["recurrent"])
            elif "rnn" in spec:
                if len(shape) != 1:
                    raise ValueError(f"an rnn layer takes flat inputs, got shape {shape}")
                layer = Elman(shape[0], spec["rnn"], spec["activation"])
            else:
                if len(shape) != 1:
                    layers.append(Flatten(shape))
                    shape = layers[-1].out_shape
                layer = Dense(shape[0], spec["dense"], spec["activation"])
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        layers.append(layer)
        shape = layer.out_shape
    return layers
