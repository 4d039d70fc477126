"""NEAT genomes: node and connection genes, innovation numbers, mutations, crossover,
compatibility distance, and the compilation of a genome into a padded graph (:mod:`nn.graph`).

Node ids follow neat-python: inputs are ``-1 .. -n_in``, outputs ``0 .. n_out-1``, hidden
nodes ``n_out`` onwards.  A connection gene is keyed by ``(src, dst)`` and carries its
innovation number, from the run's :class:`Innovations` book: the same structural change
gets the same number in every genome, whichever generation it appears in, so crossover
aligns genes by innovation and the distance counts matching, disjoint and excess genes by
it.  Splitting a connection gives the same new node id in every genome that splits it (a
genome splitting it a second time gets a fresh id).

Every random draw comes from the ``np.random.Generator`` passed in, and every loop runs
in an order fixed by the genome (dicts keep insertion order, which the checkpoint
keeps), so one seed gives one evolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Conn:
    weight: float
    enabled: bool
    innovation: int


@dataclass
class Genome:
    """``nodes``: node id -> bias (outputs and hidden nodes); ``conns``: ``(src, dst)`` ->
    :class:`Conn`."""

    nodes: dict[int, float] = field(default_factory=dict)
    conns: dict[tuple[int, int], Conn] = field(default_factory=dict)

    def copy(self) -> Genome:
        return Genome(dict(self.nodes),
                      {k: Conn(c.weight, c.enabled, c.innovation) for k, c in self.conns.items()})

    def hidden(self, n_out: int) -> list[int]:
        return [n for n in self.nodes if n >= n_out]


class Innovations:
    """The run's book of structural innovations: ``(src, dst)`` -> innovation number, and
    the node id each split connection gives."""

    def __init__(self, n_out: int):
        self.conn: dict[tuple[int, int], int] = {}
        self.split: dict[tuple[int, int], int] = {}
        self.next_node = n_out

    def number(self, key: tuple[int, int]) -> int:
        if key not in self.conn:
            self.conn[key] = len(self.conn)
        return self.conn[key]

    def split_node(self, key: tuple[int, int], genome: Genome) -> int:
        node = self.split.get(key)
        if node is None or node in genome.nodes:
            node = self.next_node
            self.next_node += 1
            self.split.setdefault(key, node)
        return node

    def state(self) -> dict[str, np.ndarray]:
        conn = np.array([[a, b, i] for (a, b), i in self.conn.items()], np.int64).reshape(-1, 3)
        split = np.array([[a, b, n] for (a, b), n in self.split.items()],
                         np.int64).reshape(-1, 3)
        return {"innov_conn": conn, "innov_split": split,
                "innov_next_node": np.array(self.next_node)}

    def load(self, state: dict[str, np.ndarray]) -> None:
        self.conn = {(int(a), int(b)): int(i) for a, b, i in state["innov_conn"]}
        self.split = {(int(a), int(b)): int(n) for a, b, n in state["innov_split"]}
        self.next_node = int(state["innov_next_node"])


@dataclass(frozen=True)
class Shape:
    """What genomes connect: ``n_in`` inputs, ``n_out`` outputs, at most ``max_hidden``
    hidden nodes, and whether connections may form cycles (recurrent)."""

    n_in: int
    n_out: int
    max_hidden: int
    recurrent: bool = False


def initial_genome(shape: Shape, book: Innovations, rng: np.random.Generator,
                   sigma: float) -> Genome:
    """Every input connected to every output, weights ``N(0, sigma)``, zero biases."""
    g = Genome({o: 0.0 for o in range(shape.n_out)})
    w = rng.normal(0.0, sigma, (shape.n_in, shape.n_out))
    for i in range(shape.n_in):
        for o in range(shape.n_out):
            key = (-i - 1, o)
            g.conns[key] = Conn(float(w[i, o]), True, book.number(key))
    return g


def creates_cycle(conns, key: tuple[int, int]) -> bool:
    """Whether adding the connection ``key = (src, dst)`` to the enabled and disabled
    connections ``conns`` closes a cycle (a path from ``dst`` back to ``src``)."""
    src, dst = key
    if src == dst:
        return True
    seen, todo = {dst}, [dst]
    out: dict[int, list[int]] = {}
    for a, b in conns:
        out.setdefault(a, []).append(b)
    while todo:
        for b in out.get(todo.pop(), ()):
            if b == src:
                return True
            if b not in seen:
                seen.add(b)
                todo.append(b)
    return False


def mutate(g: Genome, shape: Shape, book: Innovations, rng: np.random.Generator, s) -> None:
    """Mutate ``g`` in place with the rates of ``s`` (:class:`evo.neat.strategy.NEATSettings`):
    add a node (split an enabled connection), add a connection, then perturb or replace
    weights and biases, and toggle connections."""
    if rng.random() < s.node_add_prob and len(g.hidden(shape.n_out)) < shape.max_hidden:
        enabled = [k for k, c in g.conns.items() if c.enabled]
        if enabled:
            key = enabled[int(rng.integers(len(enabled)))]
            old = g.conns[key]
            old.enabled = False
            node = book.split_node(key, g)
            g.nodes[node] = 0.0
            a, b = (key[0], node), (node, key[1])
            g.conns[a] = Conn(1.0, True, book.number(a))
            g.conns[b] = Conn(old.weight, True, book.number(b))
    if rng.random() < s.conn_add_prob:
        dsts = list(g.nodes)
        srcs = [-i - 1 for i in range(shape.n_in)] + dsts
        key = (srcs[int(rng.integers(len(srcs)))], dsts[int(rng.integers(len(dsts)))])
        weight = float(rng.normal(0.0, s.weight_init_sigma))
        if key in g.conns:
            g.conns[key].enabled = True
        elif shape.recurrent or not creates_cycle(g.conns, key):
            g.conns[key] = Conn(weight, True, book.number(key))
    conns = list(g.conns.values())
    if conns:
        w = np.array([c.weight for c in conns])
        on = np.array([c.enabled for c in conns])
        w = _perturb(w, rng, s)
        flip = rng.random(len(conns)) < s.enable_mutate_rate
        on ^= flip
        for c, wi, e in zip(conns, w, on):
            c.weight, c.enabled = float(wi), bool(e)
    keys = list(g.nodes)
    b = _perturb(np.array([g.nodes[k] for k in keys]), rng, s)
    for k, bi in zip(keys, b):
        g.nodes[k] = float(bi)


def _perturb(v: np.ndarray, rng: np.random.Generator, s) -> np.ndarray:
    """Each value: with ``weight_mutate_rate`` plus ``N(0, weight_mutate_power)``, else
    with ``weight_replace_rate`` a fresh ``N(0, weight_init_sigma)``; clipped to
    ``+-weight_max``."""
    r = rng.random(len(v))
    noise = rng.normal(0.0, 1.0, len(v))
    v = np.where(r < s.weight_mutate_rate, v + s.weight_mutate_power * noise,
                 np.where(r < s.weight_mutate_rate + s.weight_replace_rate,
                          s.weight_init_sigma * noise, v))
    return np.clip(v, -s.weight_max, s.weight_max)


def crossover(fit: Genome, other: Genome, rng: np.random.Generator) -> Genome:
    """The child of ``fit`` (the fitter parent) and ``other``: genes aligned by innovation;
    a matching gene takes its weight (a node its bias) from either parent at random and
    is disabled with probability 0.75 if either parent disables it; disjoint and excess
    genes come from ``fit``."""
    child = Genome()
    for n, bias in fit.nodes.items():
        child.nodes[n] = other.nodes[n] if n in other.nodes and rng.random() < 0.5 else bias
    theirs = {c.innovation: c for c in other.conns.values()}
    for key, c in fit.conns.items():
        d = theirs.get(c.innovation)
        if d is None:
            child.conns[key] = Conn(c.weight, c.enabled, c.innovation)
            continue
        weight = d.weight if rng.random() < 0.5 else c.weight
        enabled = True
        if not (c.enabled and d.enabled):
            enabled = not rng.random() < 0.75
        child.conns[key] = Conn(weight, enabled, c.innovation)
    return child


def distance(a: Genome, b: Genome, c_disjoint: float, c_weight: float) -> float:
    """Compatibility distance (Stanley & Miikkulainen 2002, with neat-python's node
    term): for connections, ``(c_disjoint * (disjoint + excess) + c_weight * sum over
    matching genes of (|weight difference| + [enabled differs])) / max(#genes)``, plus the
    same over nodes with bias differences."""
    d = 0.0
    ia = {c.innovation: c for c in a.conns.values()}
    ib = {c.innovation: c for c in b.conns.values()}
    if ia or ib:
        common = ia.keys() & ib.keys()
        diff = sum(abs(ia[i].weight - ib[i].weight) + (ia[i].enabled != ib[i].enabled)
                   for i in common)
        d += (c_disjoint * (len(ia) + len(ib) - 2 * len(common)) + c_weight * diff) / max(
            len(ia), len(ib))
    common = a.nodes.keys() & b.nodes.keys()
    diff = sum(abs(a.nodes[n] - b.nodes[n]) for n in common)
    d += (c_disjoint * (len(a.nodes) + len(b.nodes) - 2 * len(common)) + c_weight * diff) / max(
        len(a.nodes), len(b.nodes))
    return d


def depths(g: Genome, shape: Shape) -> dict[int, int]:
    """Each node's depth over its enabled connections (inputs 0; a node 1 + the deepest
    node feeding it; a node no connection feeds: 1).  Recurrent genomes: every node 1."""
    if shape.recurrent:
        return {n: 1 for n in g.nodes}
    feeds: dict[int, list[int]] = {n: [] for n in g.nodes}
    for (a, b), c in g.conns.items():
        if c.enabled:
            feeds[b].append(a)
    depth: dict[int, int] = {}

    def visit(n: int) -> int:  # the graph is acyclic (add-connection refuses cycles)
        if n < 0:
            return 0
        if n not in depth:
            stack = [n]
            while stack:
                top = stack[-1]
                todo = [a for a in feeds[top] if a >= 0 and a not in depth]
                if todo:
                    stack.extend(todo)
                else:
                    depth[top] = 1 + max((depth[a] if a >= 0 else 0 for a in feeds[top]),
                                         default=0)
                    stack.pop()
        return depth[n]

    for n in g.nodes:
        visit(n)
    return depth


def slots(g: Genome, shape: Shape) -> dict[int, int]:
    """Node id -> slot of the compiled graph: outputs at their ids, hidden nodes in order
    of id after them."""
    hidden = sorted(g.hidden(shape.n_out))
    return {**{o: o for o in range(shape.n_out)},
            **{n: shape.n_out + i for i, n in enumerate(hidden)}}


def compile_genome(g: Genome, shape: Shape) -> np.ndarray:
    """The genome as the parameters of an :class:`nn.graph.Graph` of ``shape``: padded
    ``W (N, M)``, biases, depths (see :mod:`nn.graph`), flat ``(N*M + 2*M,)``."""
    M = shape.n_out + shape.max_hidden
    N = shape.n_in + M
    slot = slots(g, shape)
    if len(slot) > M:
        raise ValueError(f"genome has {len(slot) - shape.n_out} hidden nodes, more than "
                         f"{shape.max_hidden}")
    W = np.zeros((N, M))
    b = np.zeros(M)
    depth = np.zeros(M)
    for (a, d), c in g.conns.items():
        if c.enabled:
            src = -a - 1 if a < 0 else shape.n_in + slot[a]
            W[src, slot[d]] = c.weight
    for n, bias in g.nodes.items():
        b[slot[n]] = bias
    for n, level in depths(g, shape).items():
        depth[slot[n]] = level
    return np.concatenate([W.reshape(-1), b, depth])


# -- genomes as arrays (checkpoints) ----------------------------------------------------------
def pack(genomes: list[Genome], prefix: str) -> dict[str, np.ndarray]:
    """``genomes`` as two tables (rows in each genome's gene order): nodes
    ``(owner, id, bias)`` and connections ``(owner, src, dst, weight, enabled,
    innovation)``."""
    nodes = [(i, n, b) for i, g in enumerate(genomes) for n, b in g.nodes.items()]
    conns = [(i, a, b, c.weight, c.enabled, c.innovation) for i, g in enumerate(genomes)
             for (a, b), c in g.conns.items()]
    return {f"{prefix}_count": np.array(len(genomes)),
            f"{prefix}_nodes": np.array(nodes, np.float64).reshape(-1, 3),
            f"{prefix}_conns": np.array(conns, np.float64).reshape(-1, 6)}


def unpack(state: dict[str, np.ndarray], prefix: str) -> list[Genome]:
    genomes = [Genome() for _ in range(int(state[f"{prefix}_count"]))]
    for i, n, b in state[f"{prefix}_nodes"]:
        genomes[int(i)].nodes[int(n)] = float(b)
    for i, a, b, w, e, innov in state[f"{prefix}_conns"]:
        genomes[int(i)].conns[(int(a), int(b))] = Conn(float(w), bool(e), int(innov))
    return genomes
