"""The network: Dense layers over ONE contiguous parameter vector ``theta``.

Backpropagation fills ``grad`` (same layout as ``theta``); evolution writes whole rows of
a ``(P, D)`` matrix and runs them all at once with :meth:`Network.forward_population`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nn.layers import Dense
from nn.losses import Loss, get_loss

RELU_LIKE = ("relu", "silu")


class Network:
    """A multilayer perceptron.

    ``sizes`` lists the layer widths from input to output, e.g. ``[784, 128, 10]``;
    ``activations`` has one name per weight layer (``len(sizes) - 1``).
    """

    def __init__(self, sizes: Sequence[int], activations: Sequence[str],
                 loss: str = "cross_entropy", dtype=np.float32,
                 rng: np.random.Generator | None = None):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"a network needs at least an input and an output size, got {sizes}")
        if len(activations) != len(sizes) - 1:
            raise ValueError(f"{len(sizes) - 1} weight layers need {len(sizes) - 1} activations, "
                             f"got {len(activations)}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, not {self.dtype}")
        self.sizes = sizes
        self.layers = [Dense(a, b, act) for a, b, act in zip(sizes[:-1], sizes[1:], activations)]
        self.loss_name = loss
        self.loss: Loss = get_loss(loss, self.layers[-1].activation.name)
        self.theta = np.zeros(self.num_params, self.dtype)
        self.grad = np.zeros(self.num_params, self.dtype)
        self._offsets = np.cumsum([0] + [layer.num_params for layer in self.layers])
        # Fixed input standardisation x -> (x - in_shift) * in_scale (not trained), or None.
        self.in_shift: np.ndarray | None = None  # (n_in,)
        self.in_scale: np.ndarray | None = None  # (n_in,)
        self._bind()
        self.init_params(rng if rng is not None else np.random.default_rng(0))

    # -- parameters -------------------------------------------------------------------
    @property
    def num_params(self) -> int:
        return sum(layer.num_params for layer in self.layers)

    @property
    def activations(self) -> list[str]:
        return [layer.activation.name for layer in self.layers]

    @property
    def n_inputs(self) -> int:
        return self.sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.sizes[-1]

    def _bind(self) -> None:
        for layer, lo, hi in zip(self.layers, self._offsets[:-1], self._offsets[1:]):
            layer.bind(self.theta[lo:hi], self.grad[lo:hi])

    def init_params(self, rng: np.random.Generator) -> None:
        """He initialisation for ReLU-like layers, Xavier/Glorot otherwise; zero biases."""
        for layer in self.layers:
            if layer.activation.name in RELU_LIKE:
                std = np.sqrt(2.0 / layer.n_in)
            else:
                std = np.sqrt(2.0 / (layer.n_in + layer.n_out))
            layer.W[...] = rng.normal(0.0, std, size=layer.W.shape)
            layer.b[...] = 0.0

    def weight_mask(self) -> np.ndarray:
        """1 for weights, 0 for biases, in ``theta`` layout (for weight decay)."""
        mask = np.zeros(self.num_params, self.dtype)
        for layer, lo in zip(self.layers, self._offsets[:-1]):
            mask[lo:lo + layer.n_in * layer.n_out] = 1
        return mask

    def get_params(self) -> np.ndarray:
        """A copy of ``theta``."""
        return self.theta.copy()

    def set_params(self, vec: np.ndarray) -> None:
        """Copy ``vec`` into ``theta`` in place (layer views stay valid)."""
        vec = np.asarray(vec)
        if vec.shape != self.theta.shape:
            raise ValueError(f"expected {self.theta.shape[0]} parameters, got shape {vec.shape}")
        self.theta[...] = vec

    def clone(self) -> Network:
        other = Network(self.sizes, self.activations, self.loss_name, self.dtype)
        other.set_params(self.theta)
        if self.in_shift is not None:
            other.set_input_norm(self.in_shift, self.in_scale)
        return other

    def set_input_norm(self, shift: np.ndarray | None, scale: np.ndarray | None) -> None:
        """Standardise inputs as ``(x - shift) * scale`` before the first layer (``None``
        switches it off).  Part of the model: saved with it and applied by every caller."""
        if shift is None:
            self.in_shift = self.in_scale = None
            return
        shift = np.asarray(shift, self.dtype).reshape(-1)
        scale = np.asarray(scale, self.dtype).reshape(-1)
        if shift.shape != (self.n_inputs,) or scale.shape != (self.n_inputs,):
            raise ValueError(f"input norm needs {self.n_inputs} shifts and scales")
        self.in_shift, self.in_scale = shift, scale

    def _normalize(self, x: np.ndarray) -> np.ndarray:
        if self.in_shift is None:
            return x
        return (x - self.in_shift) * self.in_scale

    def layer_slices(self) -> list[tuple[slice, slice]]:
        """For each layer, the (weights, biases) slices of ``theta``."""
        out = []
        for layer, lo in zip(self.layers, self._offsets[:-1]):
            nw = layer.n_in * layer.n_out
            out.append((slice(lo, lo + nw), slice(lo + nw, lo + nw + layer.n_out)))
        return out

    # -- single network ---------------------------------------------------------------
    def _check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"expected input of shape (B, {self.n_inputs}), got {x.shape}")
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        return x

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x (B, n_in) -> (B, n_out)``.  Caches what :meth:`backward` needs.

        The result is an internal buffer, overwritten by the next call with the same
        batch size: copy it to keep it (``predict`` does).
        """
        a = self._normalize(self._check_input(x))
        for layer in self.layers:
            a = layer.forward(a)
        return a

    def backward(self, da: np.ndarray) -> np.ndarray:
        """Backpropagate ``da = dL/d(output)`` through the cached forward pass.

        Fills ``grad`` and returns ``dL/dx``.
        """
        d = da
        for i in range(len(self.layers) - 1, -1, -1):
            d = self.layers[i].backward(d)
        return d

    def loss_and_backward(self, x: np.ndarray, y: np.ndarray, dropout: float = 0.0,
                          rng: np.random.Generator | None = None) -> tuple[float, np.ndarray]:
        """One forward and backward pass on a batch with one-hot (or real) targets ``y``.

        ``dropout`` > 0 zeroes that share of every hidden layer's outputs at random (drawn
        from ``rng``) and scales the rest by ``1 / (1 - dropout)`` ("inverted" dropout, so
        nothing changes at prediction time).  Returns the mean loss and the output (an
        internal buffer).  ``grad`` is filled.
        """
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        masks: list[np.ndarray | None] = [None] * len(self.layers)
        if dropout > 0:
            if rng is None:
                raise ValueError("dropout needs a random generator")
            a = self._normalize(self._check_input(x))
            keep = self.dtype.type(1.0 / (1.0 - dropout))
            for i, layer in enumerate(self.layers):
                a = layer.forward(a)
                if i < len(self.layers) - 1:
                    mask = rng.random(a.shape, dtype=self.dtype) >= dropout
                    masks[i] = mask * keep  # (B, n_out) of 0 or 1/(1-p)
                    a = a * masks[i]  # a new array: the layer keeps its own output
        else:
            a = self.forward(x)
        loss = self.loss.value(a, y)
        last = self.layers[-1]
        dz = self.loss.fused_delta(last.activation.name, a, y, out=last._buf(len(a), a.dtype)[2])
        if dz is not None:
            d = last.backward(None, need_dx=len(self.layers) > 1, dz=dz)
        else:
            d = last.backward(self.loss.grad(a, y), need_dx=len(self.layers) > 1)
        for i in range(len(self.layers) - 2, -1, -1):
            if masks[i] is not None:
                d *= masks[i]
            d = self.layers[i].backward(d, need_dx=i > 0)
        return loss, a

    def predict_proba(self, x: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """Network outputs for ``x (B, n_in)``, computed in chunks; a fresh array."""
        x = self._check_input(x)
        out = np.empty((len(x), self.n_outputs), self.dtype)
        for lo in range(0, len(x), chunk):
            out[lo:lo + chunk] = self.forward(x[lo:lo + chunk])
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class indices ``(B,)``: the argmax of the outputs."""
        return self.predict_proba(x).argmax(axis=1)

    # -- population -------------------------------------------------------------------
    def forward_population(self, x: np.ndarray, thetas: np.ndarray) -> np.ndarray:
        """Run ``P`` parameter vectors at once.

        ``thetas`` is ``(P, D)``; ``x`` is ``(P, B, n_in)`` (each member its own inputs)
        or ``(B, n_in)`` (shared inputs).  Returns ``(P, B, n_out)``.  One batched
        matmul/einsum per layer for the whole population; ``self.theta`` is not touched.
        """
        thetas = self._check_thetas(thetas)
        x = np.asarray(x)
        if x.ndim == 3 and x.shape[0] != thetas.shape[0]:
            raise ValueError(f"x has {x.shape[0]} members but thetas has {thetas.shape[0]}")
        if x.ndim not in (2, 3) or x.shape[-1] != self.n_inputs:
            raise ValueError(f"expected x of shape (B, {self.n_inputs}) or "
                             f"(P, B, {self.n_inputs}), got {x.shape}")
        dtype = np.result_type(thetas.dtype, np.float32)
        a = x.astype(dtype, copy=False)
        if self.in_shift is not None:
            a = (a - self.in_shift.astype(dtype)) * self.in_scale.astype(dtype)
        for layer, lo, hi in zip(self.layers, self._offsets[:-1], self._offsets[1:]):
            a = layer.forward_population(a, thetas[:, lo:hi])
        return a

    def _check_thetas(self, thetas: np.ndarray) -> np.ndarray:
        thetas = np.asarray(thetas)
        if thetas.ndim != 2 or thetas.shape[1] != self.num_params:
            raise ValueError(f"expected thetas of shape (P, {self.num_params}), got {thetas.shape}")
        return thetas

    def member_policy(self, thetas: np.ndarray):
        """``f(x (P, n_in)) -> (P, n_out)``: :meth:`forward_population` for one sample per
        member (an agent each), the same numbers, with ``thetas (P, D)`` checked and split
        into layer weights once.  For a rollout, which calls it every physics step."""
        thetas = self._check_thetas(thetas)
        dtype = np.result_type(thetas.dtype, np.float32)
        parts = [(layer, *layer.population_weights(thetas[:, lo:hi]))
                 for layer, lo, hi in zip(self.layers, self._offsets[:-1], self._offsets[1:])]
        shift = None if self.in_shift is None else self.in_shift.astype(dtype)
        scale = None if self.in_scale is None else self.in_scale.astype(dtype)
        P = thetas.shape[0]

        def forward(x: np.ndarray) -> np.ndarray:
            if x.shape != (P, self.n_inputs):
                raise ValueError(f"expected x of shape ({P}, {self.n_inputs}), got {x.shape}")
            a = x.astype(dtype, copy=False)
            if shift is not None:
                a = (a - shift) * scale
            for layer, W, b in parts:
                a = layer.forward_members(a, W, b)
            return a

        return forward

    def __repr__(self) -> str:
        acts = ",".join(self.activations)
        return (f"Network({'-'.join(map(str, self.sizes))}, {acts}, loss={self.loss_name}, "
                f"{self.dtype.name}, {self.num_params} params)")
