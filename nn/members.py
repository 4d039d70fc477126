"""A population's members acting one sample each: what a rollout calls every step.

:class:`MemberPolicy` maps ``x (P, n_in) -> (P, n_out)`` for ``P`` genomes at once (one
batched product per layer, no loop over members).  For a recurrent network it keeps each
member's state between calls, one ``(P, n_out)`` array per rnn layer, starting from zeros
(a new policy per episode), and hands a subset of members on with their state
(:meth:`MemberPolicy.select`) when agents finish.  :func:`member_activations` is one
member's layer-by-layer activations, for the windows' network panels.
"""

from __future__ import annotations

import numpy as np

from nn.graph import Graph
from nn.recurrent import Elman


class MemberPolicy:
    """``policy(x (P, n_in)) -> (P, n_out)`` for the ``P`` rows of ``thetas (P, D)`` of
    ``net`` (a :class:`nn.network.Network`), row p acting on ``x[p]``.

    ``state``: one ``(P, n_out)`` array per rnn layer (empty for a network without
    recurrence), zeros unless given; each call moves it one step on.  :meth:`step` is the
    same step with the state passed in and returned, for callers that carry it themselves.
    """

    def __init__(self, net, thetas: np.ndarray, state: list[np.ndarray] | None = None):
        thetas = net._check_thetas(thetas)
        self.net, self.thetas = net, thetas
        self.size = thetas.shape[0]
        self.dtype = np.result_type(thetas.dtype, np.float32)
        # perceptrons and recurrent networks (flat layers) go layer by layer here with the
        # weights split once; image layers go through net.forward_population
        self._direct = net.is_mlp or net.recurrent or isinstance(net.layers[0], Graph)
        self._parts = []
        if self._direct:
            for layer, lo, hi in zip(net.layers, net._offsets[:-1], net._offsets[1:]):
                if layer.num_params:  # dropout and flatten: the identity here
                    self._parts.append((layer, layer.population_weights(thetas[:, lo:hi])))
        self._shift = None if net.in_shift is None else net.in_shift.astype(self.dtype)
        self._scale = None if net.in_scale is None else net.in_scale.astype(self.dtype)
        self.state_sizes = [layer.n_out if isinstance(layer, Elman) else layer.state_size
                            for layer, _ in self._parts
                            if isinstance(layer, Elman) or getattr(layer, "state_size", 0)]
        if state is None:
            self.reset()
        else:
            state = [np.asarray(h, self.dtype) for h in state]
            want = [(self.size, n) for n in self.state_sizes]
            if [h.shape for h in state] != want:
                raise ValueError(f"expected states of shapes {want}, got "
                                 f"{[h.shape for h in state]}")
            self.state = state

    @property
    def recurrent(self) -> bool:
        return bool(self.state_sizes)

    def reset(self) -> None:
        """Zero every member's state (a new episode)."""
        self.state = [np.zeros((self.size, n), self.dtype) for n in self.state_sizes]

    def step(self, x: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray,
                                                                     list[np.ndarray]]:
        """``(outputs (P, n_out), new state)`` for inputs ``x (P, n_in)`` and ``state``
        (as :attr:`state`); nothing here changes, ``state``'s arrays included."""
        if x.shape != (self.size, self.net.n_inputs):
            raise ValueError(f"expected x of shape ({self.size}, {self.net.n_inputs}), "
                             f"got {x.shape}")
        if not self._direct:
            return self.net.forward_population(x[:, None, :], self.thetas)[:, 0, :], state
        a = x.astype(self.dtype, copy=False)
        if self._shift is not None:
            a = (a - self._shift) * self._scale
        new = []
        for layer, weights in self._parts:
            if isinstance(layer, Elman):
                a = layer.step_members(a, state[len(new)], *weights)  # a fresh array
                new.append(a)
            elif getattr(layer, "state_size", 0):  # a recurrent graph: its slots' values
                a, h = layer.step_members(a, state[len(new)], *weights)
                new.append(h)
            else:
                a = layer.forward_members(a, *weights)
        return a, new

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out, self.state = self.step(x, self.state)
        return out

    def select(self, rows) -> MemberPolicy:
        """The policy of the members ``rows`` (indices or a mask into this policy's
        members, in the order given), each with its state."""
        rows = np.asarray(rows)
        return MemberPolicy(self.net, self.thetas[rows], [h[rows] for h in self.state])


def member_activations(net, theta: np.ndarray, obs: np.ndarray):
    """Per-layer weights ``(n_in, n_out)`` and activations (inputs first) of one member,
    ``theta (D,)`` of ``net``, for one observation ``obs (n_in,)``: what a window's network
    panel draws.  A recurrent layer shows its input weights, and its response to ``obs`` from a zero
    state (the episode's state lives in the rollout's policy, not here).  A node graph
    (:class:`nn.graph.Graph`) shows as inputs, its hidden nodes in one column (in order of
    depth), outputs: the connections from inputs to hidden nodes and from hidden nodes to
    outputs (with no hidden node, inputs to outputs); connections that skip the column or
    join hidden nodes are not drawn."""
    a = np.asarray(obs, np.float64)[None, None, :]  # (1, 1, n_in)
    theta = np.asarray(theta, np.float64)
    if isinstance(net.layers[0], Graph):
        return _graph_activations(net.layers[0], theta, a[0, 0])
    acts, weights = [a[0, 0]], []
    for layer, (ws, bs) in zip(net.layers, net.layer_slices()):
        a = layer.forward_population(a, theta[None, ws.start:bs.stop])
        nw = layer.n_in * layer.n_out  # the input weights come first
        weights.append(theta[ws.start:ws.start + nw].reshape(layer.n_in, layer.n_out))
        acts.append(a[0, 0].copy())
    return weights, acts


def _graph_activations(layer: Graph, theta: np.ndarray, x: np.ndarray):
    W, _, depth = (v[0] for v in layer.split(theta[None]))
    values = layer.slot_values(theta, x)
    n_in, n_out = layer.n_in, layer.n_out
    hidden = [k for k in np.argsort(depth, kind="stable") if k >= n_out and depth[k] > 0]
    if not hidden:
        return [W[:n_in, :n_out].copy()], [x.copy(), values[:n_out].copy()]
    return ([W[:n_in][:, hidden], W[[n_in + k for k in hidden], :n_out]],
            [x.copy(), values[hidden], values[:n_out].copy()])
