"""Layers: forward caches what backward needs; backward fills the gradient views.

A layer does not own its parameters: :class:`nn.network.Network` hands it views into
one flat ``theta`` vector and one flat ``grad`` vector (see ``bind``).
"""

from __future__ import annotations

import numpy as np

from nn.activations import Activation, get_activation


class Dense:
    """Fully connected layer ``a = act(x @ W + b)``.

    ``W`` has shape ``(n_in, n_out)`` and ``b`` shape ``(n_out,)``; both are views into
    the network's ``theta``.  In ``theta`` the layer stores ``W`` row-major, then ``b``.
    """

    def __init__(self, n_in: int, n_out: int, activation: str | Activation):
        if n_in < 1 or n_out < 1:
            raise ValueError(f"layer sizes must be positive, got {n_in} -> {n_out}")
        self.n_in = int(n_in)
        self.n_out = int(n_out)
        self.activation = (get_activation(activation) if isinstance(activation, str)
                           else activation)
        self.W: np.ndarray | None = None  # (n_in, n_out) view into theta
        self.b: np.ndarray | None = None  # (n_out,) view into theta
        self.dW: np.ndarray | None = None  # views into grad
        self.db: np.ndarray | None = None
        self._x: np.ndarray | None = None
        self._buffers: dict[tuple[int, bool], tuple[np.ndarray, ...]] = {}

    @property
    def num_params(self) -> int:
        return self.n_in * self.n_out + self.n_out

    def bind(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """Point ``W, b, dW, db`` at this layer's slice of the flat vectors."""
        nw = self.n_in * self.n_out
        self.W = theta[:nw].reshape(self.n_in, self.n_out)
        self.b = theta[nw:nw + self.n_out]
        self.dW = grad[:nw].reshape(self.n_in, self.n_out)
        self.db = grad[nw:nw + self.n_out]
        self._buffers.clear()

    def _buf(self, batch: int, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = (batch, np.dtype(dtype).char)
        bufs = self._buffers.get(key)
        if bufs is None:
            if len(self._buffers) > 8:  # many distinct batch sizes: do not hoard memory
                self._buffers.clear()
            bufs = (np.empty((batch, self.n_out), dtype),  # z
                    np.empty((batch, self.n_out), dtype),  # a
                    np.empty((batch, self.n_out), dtype))  # dz
            self._buffers[key] = bufs
        return bufs

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x (B, n_in) -> a (B, n_out)``.  The result is an internal buffer that the
        next forward call with the same batch size overwrites."""
        z, a, _ = self._buf(len(x), self.W.dtype)
        np.matmul(x, self.W, out=z)
        z += self.b
        self.activation.forward(z, out=a)
        self._x = x
        self._z, self._a = z, a
        return a

    def backward(self, da: np.ndarray | None, need_dx: bool = True,
                 dz: np.ndarray | None = None) -> np.ndarray | None:
        """Fill ``dW, db`` from ``da = dL/da (B, n_out)``; return ``dL/dx (B, n_in)``.

        Pass ``dz`` instead of ``da`` when the loss supplies ``dL/dz`` directly.
        """
        if dz is None:
            dz = self.activation.backward(self._z, self._a, da, out=self._buf(
                len(da), self.W.dtype)[2])
        np.matmul(self._x.T, dz, out=self.dW)
        np.sum(dz, axis=0, out=self.db)
        if not need_dx:
            return None
        return dz @ self.W.T

    def population_weights(self, theta_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``theta_rows (P, num_params)`` -> views ``W (P, n_in, n_out)`` and ``b (P, n_out)``."""
        P = theta_rows.shape[0]
        nw = self.n_in * self.n_out
        return (theta_rows[:, :nw].reshape(P, self.n_in, self.n_out),
                theta_rows[:, nw:nw + self.n_out])

    def forward_members(self, x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        """One sample per member: ``x (P, n_in)`` with ``W, b`` from
        :meth:`population_weights` -> ``(P, n_out)``: a batched matrix-vector product."""
        z = np.einsum("pi,pio->po", x, W)
        z += b
        return self.activation.forward(z, out=z)

    def forward_population(self, x: np.ndarray, theta_rows: np.ndarray) -> np.ndarray:
        """``x (P, B, n_in)`` or ``(B, n_in)`` with ``theta_rows (P, num_params)``
        -> ``(P, B, n_out)``: one batched product for all members."""
        W, b = self.population_weights(theta_rows)
        P = theta_rows.shape[0]
        if x.ndim == 2:
            # Shared input: one GEMM (B, n_in) @ (n_in, P * n_out).
            Wt = np.ascontiguousarray(W.transpose(1, 0, 2)).reshape(self.n_in, P * self.n_out)
            z = (x @ Wt).reshape(x.shape[0], P, self.n_out).transpose(1, 0, 2)  # (P, B, n_out)
            z = z + b[:, None, :]
        elif x.shape[1] == 1:  # one sample per member (an agent each)
            return self.forward_members(x[:, 0, :], W, b)[:, None, :]
        else:
            z = np.matmul(x, W)  # (P, B, n_out)
            z += b[:, None, :]
        return self.activation.forward(z, out=z)
