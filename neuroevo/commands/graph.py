"""``neuroevo export-graph``: a NEAT champion's nodes and connections as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from common.config import ConfigError


def export_graph(args) -> int:
    from common.files import atomic_write_text
    from evo.neat.export import graph_json
    from nn.graph import Graph
    from nn.io import load_model

    out = Path(args.out)
    if out.suffix.lower() != ".json":
        raise ConfigError(f"--out {out}: the graph file's name ends in .json")
    net, meta = load_model(args.model)
    layer = net.layers[0]
    if not isinstance(layer, Graph):
        raise ConfigError(f"{args.model}: not a node graph ({net.describe()}); evolve one "
                          f"with --set strategy.name=neat")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {out}: no folder {out.parent}")
    doc = graph_json(layer, net.theta)
    doc["source"] = {"model": Path(args.model).name, "task": meta.get("task"),
                     "fitness": meta.get("fitness"), "generation": meta.get("generation")}
    atomic_write_text(out, json.dumps(doc, indent=1) + "\n")
    print(f"graph: {out} ({len(doc['nodes'])} nodes, {len(doc['connections'])} "
          f"connections)", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    """Register this module's subcommands with the ``neuroevo`` parser."""
    e = sub.add_parser("export-graph", help="save a NEAT champion's nodes and connections "
                       "as JSON", description="Write the node graph of a best.npz of "
                       "neuroevo evolve --set strategy.name=neat as JSON: nodes (id, kind, "
                       "bias, activation, depth) and enabled connections (from, to, "
                       "weight); docs/neat.md describes the format.")
    e.add_argument("model", metavar="MODEL", help="a best.npz of strategy neat")
    e.add_argument("--out", metavar="FILE.json", required=True, help="the graph file")
    e.set_defaults(func="neuroevo.commands.graph:export_graph")
