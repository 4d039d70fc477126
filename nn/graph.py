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

Feed-forward: a slot is computed once every slot it reads is, so the forward is one
masked batched product per depth level, ``z = v @ W + b`` for every member and slot at
once, keeping the new value only where ``depth == level``; a graph of depth ``L`` costs
``L`` products whatever its number of nodes (no loop over nodes).  Recurrent
(``recurrent: true``, NEAT's recurrent networks): every slot reads the previous step's
values of the slots and this step's inputs, ``v_t = act(x_t W_in + v_{t-1} W_slots + b)``,
one product per step; the state is the slots' values, ``(P, M)``.

Outputs use ``activation``, hidden slots ``hidden_activation``.  A population's weights are
trimmed (:meth:`Graph.population_weights`) to the slots any member uses, so padding costs
nothing beyond the largest graph of the population.  Graphs are evolved
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
        """The members' graphs, trimmed to the slots any of them uses:
        ``(W (P, n_in + m, m), b (P, m), levels)``, where ``levels`` lists, per depth level
        from 1, the ``(P, m)`` mask of the slots computed at that level (feed-forward), or
        is ``[(P, m) mask of used slots]`` (recurrent)."""
        W, b, depth = self.split(np.asarray(theta_rows))
        used = depth > 0
        cols = np.flatnonzero(used.any(axis=0))
        m = max(self.n_out, int(cols[-1]) + 1 if len(cols) else 0)
        rows = np.r_[0:self.n_in, self.n_in:self.n_in + m]
        Wt = W[:, rows, :m]
        d = depth[:, :m]
        if self.recurrent:
            levels = [used[:, :m]]
        else:
            top = int(d.max()) if d.size else 0
            levels = [d == level for level in range(1, top + 1)]
            levels = [mask for mask in levels if mask.any()]
        return Wt, b[:, :m], levels

    def _act(self, z: np.ndarray) -> np.ndarray:
        """Outputs' and hidden slots' activations of ``z (..., m)``, in place."""
        self.activation.forward(z[..., :self.n_out], out=z[..., :self.n_out])
        if z.shape[-1] > self.n_out:
            self.hidden_activation.forward(z[..., self.n_out:], out=z[..., self.n_out:])
        return z

    def forward_members(self, x: np.ndarray, W: np.ndarray, b: np.ndarray,
                        levels: list) -> np.ndarray:
        """Feed-forward, one sample per member: ``x (P, n_in)`` -> ``(P, n_out)``."""
        P, m = x.shape[0], b.shape[1]
        v = np.zeros((P, self.n_in + m), np.result_type(x.dtype, W.dtype))
        v[:, :self.n_in] = x
        slots = v[:, self.n_in:]
        for mask in levels:  # one batched product per depth level
            z = np.einsum("pn,pnm->pm", v, W)
            z += b
            self._act(z)
            np.copyto(slots, z, where=mask)
        return slots[:, :self.n_out].copy()

    def step_members(self, x: np.ndarray, h: np.ndarray, W: np.ndarray, b: np.ndarray,
                     levels: list) -> tuple[np.ndarray, np.ndarray]:
        """Recurrent, one step per member: ``x (P, n_in)``, state ``h (P, M)`` ->
        ``(outputs (P, n_out), new state (P, M))``; ``h`` is not changed."""
        m = b.shape[1]
        v = np.concatenate([x, h[:, :m]], axis=1)
        z = np.einsum("pn,pnm->pm", v, W)
        z += b
        self._act(z)
        z *= levels[0]  # unused slots stay 0
        new = np.zeros_like(h, dtype=z.dtype)
        new[:, :m] = z
        return z[:, :self.n_out].copy(), new

    def forward_population(self, x: np.ndarray, theta_rows: np.ndarray) -> np.ndarray:
        """``x (P, B, n_in)`` or ``(B, n_in)`` -> ``(P, B, n_out)``.  Feed-forward: the
        ``B`` samples are independent; recurrent: ``B`` is time, from a zero state."""
        theta_rows = np.asarray(theta_rows)
        P = theta_rows.shape[0]
        if x.ndim == 2:
            x = np.broadcast_to(x, (P, *x.shape))
        weights = self.population_weights(theta_rows)
        B = x.shape[1]
        out = np.empty((P, B, self.n_out), np.result_type(x.dtype, theta_rows.dtype))
        if self.recurrent:
            h = np.zeros((P, self.n_slots), out.dtype)
            for t in range(B):
                out[:, t], h = self.step_members(x[:, t], h, *weights)
            return out
        W, b, levels = weights
        # the B samples as extra members: (P * B) one-sample forwards sharing W per member
        xs = x.reshape(P * B, self.n_in)
        rep = lambda a: np.repeat(a, B, axis=0)  # noqa: E731
        out[...] = self.forward_members(xs, rep(W), rep(b),
                                        [rep(mk) for mk in levels]).reshape(P, B, self.n_out)
        return out

    def forward(self, x: np.ndarray) -> np.ndarray:
        """One graph (this layer's ``theta``) on ``x (B, n_in)`` -> ``(B, n_out)``."""
        return self.forward_population(x[None], self.theta[None])[0]

    def backward(self, da, need_dx: bool = True):
        raise NotImplementedError("a graph layer is evolved (strategy neat), not trained "
                                  "by backpropagation")
