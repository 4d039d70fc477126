"""An Elman recurrent layer: ``h_t = act(x_t @ Wx + h_{t-1} @ Wh + b)`` (tanh by default).

Like every layer it keeps no parameters of its own: :class:`nn.network.Network` hands it
views into the one flat ``theta`` (and ``grad``), where it stores ``Wx (n_in, n_out)``,
then ``Wh (n_out, n_out)``, both row-major, then ``b (n_out,)``.

Three ways to run it:

- sequences for backpropagation: :meth:`Elman.forward` ``x (B, T, n_in) -> (B, T, n_out)``
  from a zero (or given) state, and :meth:`Elman.backward` through time (BPTT), which fills
  ``dWx, dWh, db`` and returns ``dL/dx``;
- one step of a population, each member with its own genome, input and state:
  :meth:`Elman.step_members` ``x (P, n_in), h (P, n_out) -> h_new (P, n_out)``, two batched
  products for all members at once; the caller carries ``h`` between steps (see
  :class:`nn.members.MemberPolicy`);
- a population over whole sequences, :meth:`Elman.forward_population` (each member from a
  zero state).

CS231n's ``rnn_layers.py`` (an Elman step and its backward pass, in NumPy) is the model.
"""

from __future__ import annotations

import numpy as np

from nn.activations import Activation, get_activation


class Elman:
    """Recurrent layer of ``n_out`` units over ``n_in`` inputs per time step."""

    kind = "rnn"

    def __init__(self, n_in: int, n_out: int, activation: str | Activation = "tanh"):
        if n_in < 1 or n_out < 1:
            raise ValueError(f"layer sizes must be positive, got {n_in} -> {n_out}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.in_shape, self.out_shape = (self.n_in,), (self.n_out,)
        self.activation = (get_activation(activation) if isinstance(activation, str)
                           else activation)
        self.Wx = self.Wh = self.b = None  # views into theta
        self.dWx = self.dWh = self.db = None  # views into grad
        self.dh0: np.ndarray | None = None  # dL/d(initial state) after backward, (B, n_out)

    @property
    def num_params(self) -> int:
        return (self.n_in + self.n_out) * self.n_out + self.n_out

    def spec(self) -> dict:
        return {"rnn": self.n_out, "activation": self.activation.name}

    def _split(self, flat: np.ndarray):
        """``flat (..., num_params)`` -> views ``Wx (..., n_in, n_out)``,
        ``Wh (..., n_out, n_out)``, ``b (..., n_out)``."""
        lead = flat.shape[:-1]
        i, h = self.n_in, self.n_out
        return (flat[..., :i * h].reshape(*lead, i, h),
                flat[..., i * h:(i + h) * h].reshape(*lead, h, h),
                flat[..., (i + h) * h:(i + h) * h + h])

    def bind(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """Point ``Wx, Wh, b`` and ``dWx, dWh, db`` at this layer's slice of the flat vectors."""
        self.Wx, self.Wh, self.b = self._split(theta)
        self.dWx, self.dWh, self.db = self._split(grad)

    def init_params(self, rng: np.random.Generator) -> None:
        """``Wx`` as a dense layer's (He for ReLU-like activations, else Glorot); ``Wh``
        a random orthogonal matrix (the state neither grows nor fades at first); ``b = 0``."""
        if self.activation.name in ("relu", "silu"):
            std = np.sqrt(2.0 / self.n_in)
        else:
            std = np.sqrt(2.0 / (self.n_in + self.n_out))
        self.Wx[...] = rng.normal(0.0, std, size=self.Wx.shape)
        q, r = np.linalg.qr(rng.normal(size=(self.n_out, self.n_out)))
        self.Wh[...] = q * np.where(np.diag(r) < 0, -1.0, 1.0)  # uniformly distributed
        self.b[...] = 0.0

    def zero_state(self, batch: int, dtype=None) -> np.ndarray:
        return np.zeros((batch, self.n_out), dtype or self.Wx.dtype)

    # -- sequences, for backpropagation -------------------------------------------------
    def step(self, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        """One time step of this network: ``x (B, n_in)``, ``h (B, n_out)`` -> the new
        state ``(B, n_out)`` (a fresh array; nothing cached)."""
        z = x @ self.Wx
        z += h @ self.Wh
        z += self.b
        return self.activation.forward(z, out=z)

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None) -> np.ndarray:
        """``x (B, T, n_in)`` -> the states ``(B, T, n_out)``, starting from ``h0 (B, n_out)``
        (zeros when ``None``).  Caches what :meth:`backward` needs.  The input projections
        of all steps are one GEMM; then one ``(B, n_out) @ (n_out, n_out)`` per step."""
        if x.ndim != 3 or x.shape[2] != self.n_in:
            raise ValueError(f"expected x of shape (B, T, {self.n_in}), got {x.shape}")
        B, T, _ = x.shape
        xt = x.transpose(1, 0, 2)  # (T, B, n_in), time-major: each step a contiguous block
        z = np.matmul(xt, self.Wx)  # (T, B, n_out), the input part of every step
        z += self.b
        hs = np.empty_like(z)  # (T, B, n_out)
        h = self.zero_state(B, z.dtype) if h0 is None else np.asarray(h0, z.dtype)
        if h.shape != (B, self.n_out):
            raise ValueError(f"expected h0 of shape ({B}, {self.n_out}), got {h.shape}")
        self._h0 = h
        for t in range(T):
            z[t] += h @ self.Wh
            h = self.activation.forward(z[t], out=hs[t])
        self._x, self._z, self._hs = xt, z, hs
        return hs.transpose(1, 0, 2)

    def backward(self, dh: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Backpropagation through time: ``dh = dL/d(states) (B, T, n_out)`` -> fills
        ``dWx, dWh, db`` and :attr:`dh0` (``dL/dh0``); returns ``dL/dx (B, T, n_in)``."""
        z, hs, xt = self._z, self._hs, self._x
        T, B, H = z.shape
        if dh.shape != (B, T, H):
            raise ValueError(f"expected dh of shape ({B}, {T}, {H}), got {dh.shape}")
        dht = dh.transpose(1, 0, 2)
        dz = np.empty_like(z)  # (T, B, n_out)
        carry = np.zeros((B, H), z.dtype)  # dL/dh_t through the later steps
        for t in range(T - 1, -1, -1):
            g = np.add(dht[t], carry, out=dz[t])
            self.activation.backward(z[t], hs[t], g, out=dz[t])
            carry = dz[t] @ self.Wh.T
        self.dh0 = carry
        flat = dz.reshape(T * B, H)
        np.matmul(xt.reshape(T * B, self.n_in).T, flat, out=self.dWx)
        prev = np.concatenate([self._h0[None], hs[:-1]]).reshape(T * B, H)  # h_{t-1}
        np.matmul(prev.T, flat, out=self.dWh)
        np.sum(flat, axis=0, out=self.db)
        if not need_dx:
            return None
        return np.matmul(dz, self.Wx.T).transpose(1, 0, 2)

    # -- populations, for evolution -----------------------------------------------------
    def population_weights(self, theta_rows: np.ndarray):
        """``theta_rows (P, num_params)`` -> views ``Wx (P, n_in, n_out)``,
        ``Wh (P, n_out, n_out)``, ``b (P, n_out)``."""
        return self._split(theta_rows)

    def step_members(self, x: np.ndarray, h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                     b: np.ndarray) -> np.ndarray:
        """One step for P members at once, each with its own weights (from
        :meth:`population_weights`), input ``x (P, n_in)`` and state ``h (P, n_out)``:
        ``h_new[p] = act(x[p] @ Wx[p] + h[p] @ Wh[p] + b[p])``, ``(P, n_out)`` (a fresh
        array: ``h`` is not changed).  Two batched matrix-vector products, no loop."""
        z = np.einsum("pi,pio->po", x, Wx)
        z += np.einsum("pi,pio->po", h, Wh)
        z += b
        return self.activation.forward(z, out=z)

    def forward_population(self, x: np.ndarray, theta_rows: np.ndarray,
                           h0: np.ndarray | None = None) -> np.ndarray:
        """Whole sequences for P members: ``x (P, T, n_in)`` (each member its own) or
        ``(T, n_in)`` (shared), ``theta_rows (P, num_params)`` -> ``(P, T, n_out)``, each
        member from ``h0 (P, n_out)`` (zeros when ``None``)."""
        Wx, Wh, b = self.population_weights(theta_rows)
        P = theta_rows.shape[0]
        zx = np.matmul(x, Wx)  # (P, T, n_out): shared inputs broadcast over the members
        zx += b[:, None, :]
        out = np.empty_like(zx)
        h = self.zero_state(P, zx.dtype) if h0 is None else h0
        for t in range(zx.shape[1]):
            z = np.einsum("pi,pio->po", h, Wh)
            z += zx[:, t]
            h = self.activation.forward(z, out=out[:, t])
        return out
