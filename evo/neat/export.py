"""A node graph (a NEAT champion, ``best.npz`` of ``strategy.name: neat``) as JSON.

``graph_json(net)`` reads the graph back from the compiled parameters (:mod:`nn.graph`),
so it needs nothing but the policy file.  The document (docs/neat.md)::

    {"format": "neuroevo-graph", "version": 1, "recurrent": false,
     "inputs": [{"id": -1, ...}], "outputs": [0, 1],
     "nodes": [{"id": 0, "kind": "output", "bias": 0.1, "activation": "tanh",
                "depth": 2}, ...],
     "connections": [{"from": -1, "to": 0, "weight": 0.5}, ...]}

Node ids follow NEAT's convention: inputs ``-1 .. -n_in``, outputs ``0 .. n_out-1``,
hidden nodes ``n_out`` onwards (numbered by slot: the compiled graph keeps no other id).
Only enabled connections are listed (a disabled gene compiles to no connection).
:func:`graph_from_json` turns the document back into the graph's parameters.
"""

from __future__ import annotations

import numpy as np

from nn.graph import Graph

FORMAT = "neuroevo-graph"
VERSION = 1


def graph_json(layer: Graph, theta: np.ndarray) -> dict:
    """The graph ``theta`` of ``layer`` as a JSON-ready dict."""
    W, b, depth = (a[0] for a in layer.split(np.asarray(theta, np.float64)[None]))
    n_in, n_out = layer.n_in, layer.n_out
    used = [k for k in range(layer.n_slots) if depth[k] > 0]

    def node_id(src: int) -> int:  # source row -> node id
        return -src - 1 if src < n_in else src - n_in

    nodes = [{"id": k, "kind": "output" if k < n_out else "hidden", "bias": float(b[k]),
              "activation": (layer.activation if k < n_out else layer.hidden_activation).name,
              "depth": int(depth[k])} for k in used]
    conns = [{"from": node_id(int(j)), "to": int(k), "weight": float(W[j, k])}
             for k in used for j in np.flatnonzero(W[:, k])]
    return {"format": FORMAT, "version": VERSION, "recurrent": layer.recurrent,
            "max_hidden": layer.hidden,
            "inputs": [{"id": -i - 1} for i in range(n_in)],
            "outputs": list(range(n_out)), "nodes": nodes, "connections": conns}


def graph_from_json(layer: Graph, doc: dict) -> np.ndarray:
    """The parameters of ``layer`` for the graph document ``doc`` (the inverse of
    :func:`graph_json`); ``ValueError`` where it does not fit ``layer``."""
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise ValueError(f"not a {FORMAT} document of version {VERSION}")
    n_in = layer.n_in
    W = np.zeros((layer.n_src, layer.n_slots))
    b = np.zeros(layer.n_slots)
    depth = np.zeros(layer.n_slots)
    for node in doc["nodes"]:
        k = int(node["id"])
        if not 0 <= k < layer.n_slots:
            raise ValueError(f"node {k} does not fit a graph of {layer.n_slots} slots")
        b[k], depth[k] = float(node["bias"]), int(node["depth"])
    for c in doc["connections"]:
        src, dst = int(c["from"]), int(c["to"])
        if not (-n_in <= src < layer.n_slots and 0 <= dst < layer.n_slots):
            raise ValueError(f"connection {src} -> {dst} does not fit the graph")
        W[-src - 1 if src < 0 else n_in + src, dst] = float(c["weight"])
    return layer.pack(W, b, depth)
