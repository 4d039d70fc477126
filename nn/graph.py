"""A node graph as one layer: the compiled form of a NEAT genome (``{graph: N_OUT, hidden: H}``).

A graph of ``n_in`` inputs, ``n_out`` outputs and up to ``hidden`` hidden nodes is stored,
padded, in ``theta`` like every layer's parameters, so a population of graphs of different
topologies is one ``(P, D)`` matrix and runs in one batched forward:

- the ``M = n_out + hidden`` computed nodes are *slots*: outputs first (slots
  ``0..n_out-1``), then hidden nodes; ``N = n_in + M`` sources (inputs, then the slots);
- ``W (N, M)`` row-major: ``W[j, k]`` is the weight of the connection from source ``j`` to
  slot ``k`` (0: no connection); then ``b (M,)`` the slots' biases; then ``depth (M,)``:
  0 for an unused slot, else the slot's depth in the graph (1 + the largest depth among
  the slots feeding it; inputs have depth 0).

Feed-forward: a slot is computed once every slot it reads is, so a population steps one
depth level at a time: :meth:`Graph.population_weights` compiles the members' padded
parameters (once per episode) into, per level, the flat list of every member's
connections into that level's slots, and each level is one gather, one product and one
``np.bincount`` over all members at once.  A step costs one such level per depth level of
the deepest member, whatever the number of nodes or members: no loop over nodes or members.
Recurrent (``recurrent: true``, NEAT's recurrent networks): every slot reads the previous
step's values of the slots and this step's inputs, ``v_t = act(x_t W_in + v_{t-1} W_slots +
b)``, one level per step; the state is the slots' values, ``(P, M)``.

Outputs use ``activation``, hidden slots ``hidden_activation``.  Graphs are evolved
(:mod:`evo.neat`), not trained: :meth:`Graph.backward` refuses.
"""

from __future__ import annotations

import numpy as np

from nn.activations import get_activation


class Graph:
    kind = "graph"

    def __init__(self, n_in: int, n_out: int, hidden: int = 0, activation="tanh",
                 hidden_activation="tanh", recurrent: bool = False):
        if n_in < 1 or n_out < 1 or hidden < 0:
            raise ValueError(f"a graph needs inputs and outputs >= 1 and hidden >= 0, got "
                             f"{n_in}, {n_out}, {hidden}")
        self.n_in, self.n_out, self.hidden = int(n_in), int(n_out), int(hidden)
        self.n_slots = self.n_out + self.hidden  # M
        self.n_src = self.n_in + self.n_slots  # N
        self.in_shape, self.out_shape = (self.n_in,), (self.n_out,)
        self.activation = (get_activation(activation) if isinstance(activation, str)
                           else activation)
        self.hidden_activation = (get_activation(hidden_activation)
                                  if isinstance(hidden_activation, str) else hidden_activation)
        self.recurrent = bool(recurrent)
        self.theta: np.ndarray | None = None

    # -- layout ---------------------------------------------------------------------------
    @property
    def num_params(self) -> int:
        return self.n_src * self.n_slots + 2 * self.n_slots

    @property
    def state_size(self) -> int:
        """Values a member keeps between steps (recurrent: every slot's; else 0)."""
        return self.n_slots if self.recurrent else 0

    def spec(self) -> dict:
        return {"graph": self.n_out, "hidden": self.hidden,
                "activation": self.activation.name,
                "hidden_activation": self.hidden_activation.name,
                "recurrent": self.recurrent}

    def bind(self, theta: np.ndarray, grad: np.ndarray) -> None:
        self.theta = theta

    def split(self, theta_rows: np.ndarray):
        """``theta_rows (P, num_params)`` -> views ``W (P, N, M)``, ``b (P, M)``,
        ``depth (P, M)``."""
        P, N, M = theta_rows.shape[0], self.n_src, self.n_slots
        nw = N * M
        return (theta_rows[:, :nw].reshape(P, N, M), theta_rows[:, nw:nw + M],
                theta_rows[:, nw + M:nw + 2 * M])

    def pack(self, W: np.ndarray, b: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`split` for one graph: ``(num_params,)`` float64."""
        return np.concatenate([np.asarray(W, np.float64).reshape(-1),
                               np.asarray(b, np.float64), np.asarray(depth, np.float64)])

    def init_params(self, rng: np.random.Generator) -> None:
        """The minimal graph: every input connected to every output (Glorot-scaled
        weights), zero biases, no hidden node."""
        W = np.zeros((self.n_src, self.n_slots))
        std = np.sqrt(2.0 / (self.n_in + self.n_out))
        W[:self.n_in, :self.n_out] = rng.normal(0.0, std, (self.n_in, self.n_out))
        depth = np.zeros(self.n_slots)
        depth[:self.n_out] = 1
        self.theta[...] = self.pack(W, np.zeros(self.n_slots), depth)

    # -- forward --------------------------------------------------------------------------
    def population_weights(self, theta_rows: np.ndarray):
        """The members' graphs compiled for stepping: ``(plan,)``, where ``plan`` lists, per
        depth level from 1 (recurrent: one level, every used slot), the level's
        connections of every member as flat arrays: their sources and targets as indices
        into the members' values laid end to end, their weights, and the level's slots with
        their biases.  Only real connections are kept, so the padding costs nothing."""
        W, b, depth = self.split(np.asarray(theta_rows))
        P, n_in, n_out = W.shape[0], self.n_in, self.n_out
        used = depth > 0
        cols = np.flatnonzero(used.any(axis=0))
        m = max(n_out, int(cols[-1]) + 1 if len(cols) else 0)  # slots any member uses
        W, b, depth = W[:, :n_in + m, :m], b[:, :m], depth[:, :m]
        width = n_in + m  # values per member: inputs, then slots
        pe, je, ke = np.nonzero(W)  # every connection: member, source, target slot
        we = W[pe, je, ke]
        if self.recurrent:
            groups = [used[:, :m]]
            edge_level = np.where(used[pe, ke], 1, 0)
        else:
            top = int(depth.max()) if depth.size else 0
            groups = [depth == level for level in range(1, top + 1)]
            edge_level = depth[pe, ke].astype(np.int64)
        levels = []
        for level, mask in enumerate(groups, start=1):
            pn, kn = np.nonzero(mask)  # the level's slots, member by member
            if not len(pn):
                continue
            pos = np.full((P, m), -1, np.int64)
            pos[pn, kn] = np.arange(len(pn))
            e = edge_level == level
            out = kn < n_out
            levels.append({
                "src": pe[e] * width + je[e],  # where each connection reads
                "weight": we[e],
                "dst": pos[pe[e], ke[e]],  # which of the level's slots it feeds
                "slots": pn * width + n_in + kn,  # where the level's values go
                "state": pn * self.n_slots + kn,  # (recurrent) where they go in the state
                "bias": b[pn, kn],
                "out": np.flatnonzero(out), "hidden": np.flatnonzero(~out),
            })
        return ({"levels": levels, "m": m, "width": width},)

    def _level(self, v: np.ndarray, lv: dict) -> np.ndarray:
        """One level's values from the flat values ``v``: ``act(bias + sum of weight *
        source)``, summed per slot with one ``bincount``."""
        z = np.bincount(lv["dst"], weights=lv["weight"] * v[lv["src"]],
                        minlength=len(lv["bias"])).astype(np.float64, copy=False)
        z += lv["bias"]  # (a level without connections: bincount gave integer zeros)
        if self.activation.name == self.hidden_activation.name:
            return self.activation.forward(z, out=z)
        z[lv["out"]] = self.activation.forward(z[lv["out"]])
        z[lv["hidden"]] = self.hidden_activation.forward(z[lv["hidden"]])
        return z

    def forward_members(self, x: np.ndarray, plan: dict) -> np.ndarray:
        """Feed-forward, one sample per member: ``x (P, n_in)`` -> ``(P, n_out)``: per
        depth level one gather, one product and one ``bincount`` over every member's
        connections of that level."""
        P, width = x.shape[0], plan["width"]
        v2 = np.zeros((P, width), np.float64)
        v2[:, :self.n_in] = x
        v = v2.reshape(-1)
        for lv in plan["levels"]:
            v[lv["slots"]] = self._level(v, lv)
        return v2[:, self.n_in:self.n_in + self.n_out].astype(
            np.result_type(x.dtype, np.float32), copy=True)

    def step_members(self, x: np.ndarray, h: np.ndarray,
                     plan: dict) -> tuple[np.ndarray, np.ndarray]:
        """Recurrent, one step per member: ``x (P, n_in)``, state ``h (P, M)`` ->
        ``(outputs (P, n_out), new state (P, M))``; ``h`` is not changed."""
        P, m = x.shape[0], plan["m"]
        v = np.concatenate([x, h[:, :m]], axis=1).reshape(-1)
        new = np.zeros((P, self.n_slots), np.float64)
        for lv in plan["levels"]:  # one level: every used slot from the previous values
            new.reshape(-1)[lv["state"]] = self._level(v, lv)
        return new[:, :self.n_out].copy(), new

    def forward_population(self, x: np.ndarray, theta_rows: np.ndarray) -> np.ndarray:
        """``x (P, B, n_in)`` or ``(B, n_in)`` -> ``(P, B, n_out)``.  Feed-forward: the
        ``B`` samples are independent; recurrent: ``B`` is time, from a zero state."""
        theta_rows = np.asarray(theta_rows)
        P = theta_rows.shape[0]
        if x.ndim == 2:
            x = np.broadcast_to(x, (P, *x.shape))
        B = x.shape[1]
        out = np.empty((P, B, self.n_out), np.result_type(x.dtype, theta_rows.dtype))
        if self.recurrent:
            plan = self.population_weights(theta_rows)
            h = np.zeros((P, self.n_slots))
            for t in range(B):
                out[:, t], h = self.step_members(x[:, t], h, *plan)
            return out
        # the B samples as extra members: (P * B) one-sample forwards
        plan = self.population_weights(np.repeat(theta_rows, B, axis=0))
        out[...] = self.forward_members(x.reshape(P * B, self.n_in), *plan).reshape(
            P, B, self.n_out)
        return out

    def slot_values(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Every slot's value ``(M,)`` of the one graph ``theta`` for the input ``x
        (n_in,)`` (recurrent: one step from a zero state); unused slots 0."""
        plan = self.population_weights(np.asarray(theta)[None])[0]
        width = plan["width"]
        if self.recurrent:
            v = np.concatenate([x, np.zeros(plan["m"])])
            out = np.zeros(self.n_slots)
            for lv in plan["levels"]:
                out[lv["state"]] = self._level(v, lv)
            return out
        v = np.zeros(width)
        v[:self.n_in] = x
        for lv in plan["levels"]:
            v[lv["slots"]] = self._level(v, lv)
        out = np.zeros(self.n_slots)
        out[:plan["m"]] = v[self.n_in:]
        return out

    def forward(self, x: np.ndarray) -> np.ndarray:
        """One graph (this layer's ``theta``) on ``x (B, n_in)`` -> ``(B, n_out)``."""
        return self.forward_population(x[None], self.theta[None])[0]

    def backward(self, da, need_dx: bool = True):
        raise NotImplementedError("a graph layer is evolved (strategy neat), not trained "
                                  "by backpropagation")
