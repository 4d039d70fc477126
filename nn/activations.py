"""Activation functions, each defined beside its derivative.

Every activation works on a batch ``z`` of shape ``(B, n)`` (or ``(P, B, n)``) and has:

- ``forward(z, out=None) -> a``
- ``backward(z, a, da, out=None) -> dz``: the vector-Jacobian product, given the
  pre-activation ``z``, the output ``a`` and the upstream gradient ``da = dL/da``.

``out=`` lets the training loop reuse preallocated buffers; ``out`` may alias ``da``.
"""

from __future__ import annotations

import numpy as np


class Activation:
    name: str = ""

    def forward(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def backward(self, z: np.ndarray, a: np.ndarray, da: np.ndarray,
                 out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


class Identity(Activation):
    name = "identity"

    def forward(self, z, out=None):
        if out is None:
            return z.copy()
        np.copyto(out, z)
        return out

    def backward(self, z, a, da, out=None):
        if out is None:
            return da.copy()
        if out is not da:
            np.copyto(out, da)
        return out


class Sigmoid(Activation):
    """a = 1 / (1 + exp(-z));  da/dz = a (1 - a)."""

    name = "sigmoid"

    def forward(self, z, out=None):
        # Written through tanh: no overflow warnings for large |z|.
        out = np.multiply(z, 0.5, out=out)
        np.tanh(out, out=out)
        out += 1.0
        out *= 0.5
        return out

    def backward(self, z, a, da, out=None):
        if out is None or np.may_share_memory(out, da):
            s = a * (1.0 - a)
            return np.multiply(da, s, out=out)
        # into ``out`` without temporaries: out = (1 - a) * a * da
        np.subtract(1.0, a, out=out)
        out *= a
        out *= da
        return out


class Tanh(Activation):
    """a = tanh(z);  da/dz = 1 - a^2."""

    name = "tanh"

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def backward(self, z, a, da, out=None):
        if out is None or np.may_share_memory(out, da):
            s = 1.0 - a * a
            return np.multiply(da, s, out=out)
        # into ``out`` without temporaries (large ones cost a page fault per page)
        np.multiply(a, a, out=out)
        np.subtract(1.0, out, out=out)
        out *= da
        return out


class ReLU(Activation):
    """a = max(z, 0);  da/dz = 1 where z > 0, else 0."""

    name = "relu"

    def forward(self, z, out=None):
        return np.maximum(z, 0, out=out)

    def backward(self, z, a, da, out=None):
        if out is None:
            return np.where(z > 0, da, 0).astype(da.dtype, copy=False)
        if out is not da:
            np.copyto(out, da)
        out[z <= 0] = 0
        return out


class SiLU(Activation):
    """a = z * sigmoid(z);  da/dz = s + z s (1 - s) with s = sigmoid(z)."""

    name = "silu"

    def forward(self, z, out=None):
        s = Sigmoid().forward(z)
        return np.multiply(z, s, out=out)

    def backward(self, z, a, da, out=None):
        s = Sigmoid().forward(z)
        d = s * (1.0 + z * (1.0 - s))
        return np.multiply(da, d, out=out)


class Softmax(Activation):
    """a_k = exp(z_k) / sum_j exp(z_j) over the last axis.

    Its Jacobian is diag(a) - a a^T, so the vector-Jacobian product is
    dz = a * (da - sum(da * a)).  With cross-entropy the loss uses the fused
    gradient ``a - y`` instead (see :mod:`nn.losses`).
    """

    name = "softmax"

    def forward(self, z, out=None):
        out = np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=-1, keepdims=True)
        return out

    def backward(self, z, a, da, out=None):
        dot = np.sum(da * a, axis=-1, keepdims=True)
        out = np.subtract(da, dot, out=out)
        out *= a
        return out


ACTIVATIONS: dict[str, Activation] = {
    cls.name: cls() for cls in (Identity, Sigmoid, Tanh, ReLU, SiLU, Softmax)
}


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from "
                         f"{', '.join(ACTIVATIONS)}") from None
