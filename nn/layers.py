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

    kind = "dense"

    def __init__(self, n_in: int, n_out: int, activation: str | Activation):
        if n_in < 1 or n_out < 1:
            raise ValueError(f"layer sizes must be positive, got {n_in} -> {n_out}")
        self.n_in = int(n_in)
        self.n_out = int(n_out)
        self.in_shape, self.out_shape = (self.n_in,), (self.n_out,)
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

    def spec(self) -> dict:
        return {"dense": self.n_out, "activation": self.activation.name}

    def bind(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """Point ``W, b, dW, db`` at this layer's slice of the flat vectors."""
        nw = self.n_in * self.n_out
        self.W = theta[:nw].reshape(self.n_in, self.n_out)
        self.b = theta[nw:nw + self.n_out]
        self.dW = grad[:nw].reshape(self.n_in, self.n_out)
        self.db = grad[nw:nw + self.n_out]
        self._buffers.clear()

    def _buf(self, batch: int, dtype) -> tuple[np.ndarray, ...]:
        key = (batch, np.dtype(dtype).char)
        bufs = self._buffers.get(key)
        if bufs is None:
            if len(self._buffers) > 8:  # many distinct batch sizes: do not hoard memory
                self._buffers.clear()
            bufs = (np.empty((batch, self.n_out), dtype),  # z
                    np.empty((batch, self.n_out), dtype),  # a
                    np.empty((batch, self.n_out), dtype),  # dz
                    np.empty((batch, self.n_in), dtype))  # dx
            self._buffers[key] = bufs
        return bufs

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x (B, n_in) -> a (B, n_out)``.  The result is an internal buffer that the
        next forward call with the same batch size overwrites."""
        z, a = self._buf(len(x), self.W.dtype)[:2]
        np.matmul(x, self.W, out=z)
        z += self.b
        self.activation.forward(z, out=a)
        self._x = x
        self._z, self._a = z, a
        return a

    def backward(self, da: np.ndarray | None, need_dx: bool = True,
                 dz: np.ndarray | None = None) -> np.ndarray | None:
        """Fill ``dW, db`` from ``da = dL/da (B, n_out)``; return ``dL/dx (B, n_in)``,
        an internal buffer that the next backward call with the same batch size overwrites.

        Pass ``dz`` instead of ``da`` when the loss supplies ``dL/dz`` directly.
        """
        bufs = self._buf(len(da) if dz is None else len(dz), self.W.dtype)
        if dz is None:
            dz = self.activation.backward(self._z, self._a, da, out=bufs[2])
        np.matmul(self._x.T, dz, out=self.dW)
        np.sum(dz, axis=0, out=self.db)
        if not need_dx:
            return None
        # into a kept buffer: a fresh (B, n_in) array would cost its page faults each call
        return np.matmul(dz, self.W.T, out=bufs[3])

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


# -- image layers ------------------------------------------------------------------------------
# Images inside a network are batch-first and channels-last: ``(B, H, W, C)``, the order in
# which the datasets flatten them (so ``x.reshape(B, H, W, C)`` is a view).  A population
# adds a leading member axis: ``(P, B, H, W, C)``.


def _out_size(n: int, kernel: int, stride: int, pad: int) -> int:
    return (n + 2 * pad - kernel) // stride + 1


def _patches(xp: np.ndarray, kernel: int, stride: int, ho: int, wo: int) -> np.ndarray:
    """A strided view ``(..., ho, wo, k, k, C)`` of every ``k x k`` patch of the padded
    images ``xp (..., Hp, Wp, C)``; no copy (CS231n's ``as_strided`` im2col)."""
    *lead, _, _, c = xp.shape
    s = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, (*lead, ho, wo, kernel, kernel, c),
        (*s[:-3], s[-3] * stride, s[-2] * stride, s[-3], s[-2], s[-1]), writeable=False)


class Conv2D:
    """2-D convolution (cross-correlation, as in PyTorch) with ``filters`` output channels,
    a square ``kernel``, ``stride`` and zero ``padding``, then an activation.

    ``x (B, H, W, C) -> (B, Ho, Wo, filters)``.  Forward is im2col through a strided view
    (one copy into a preallocated patch matrix ``(B*Ho*Wo, k*k*C)``) and one GEMM with
    ``W``; backward is two GEMMs (``dW = cols.T @ dz`` and the patch gradients
    ``W @ dz.T``) and col2im as ``k*k`` strided additions (a loop over kernel offsets, never
    over images, channels or pixels); the first layer skips the input gradient.  In
    ``theta`` the layer stores ``W`` as ``(k, k, C, filters)`` row-major (the patch
    order), then ``b (filters,)``.
    """

    kind = "conv"

    def __init__(self, in_shape, filters: int, kernel: int, stride: int = 1, padding: int = 0,
                 activation: str | Activation = "relu"):
        h, w, c = (int(v) for v in in_shape)
        self.filters, self.kernel = int(filters), int(kernel)
        self.stride, self.padding = int(stride), int(padding)
        if self.filters < 1 or self.kernel < 1 or self.stride < 1 or self.padding < 0:
            raise ValueError(f"conv needs filters, kernel and stride >= 1 and padding >= 0, "
                             f"got {filters}, {kernel}, {stride}, {padding}")
        ho = _out_size(h, self.kernel, self.stride, self.padding)
        wo = _out_size(w, self.kernel, self.stride, self.padding)
        if ho < 1 or wo < 1:
            raise ValueError(f"conv kernel {self.kernel} (padding {self.padding}) does not fit "
                             f"a {h}x{w} input")
        self.in_shape = (h, w, c)
        self.out_shape = (ho, wo, self.filters)
        self.activation = (get_activation(activation) if isinstance(activation, str)
                           else activation)
        self.n_in = self.kernel * self.kernel * c  # fan-in of one output (for initialisation)
        self.n_out = self.filters
        self.W = self.b = self.dW = self.db = None  # W as (k*k*C, filters): views
        self._buffers: dict = {}

    @property
    def num_params(self) -> int:
        return self.n_in * self.filters + self.filters

    def spec(self) -> dict:
        return {"conv": self.filters, "kernel": self.kernel, "stride": self.stride,
                "padding": self.padding, "activation": self.activation.name}

    def bind(self, theta: np.ndarray, grad: np.ndarray) -> None:
        nw = self.n_in * self.filters
        self.W = theta[:nw].reshape(self.n_in, self.filters)
        self.b = theta[nw:nw + self.filters]
        self.dW = grad[:nw].reshape(self.n_in, self.filters)
        self.db = grad[nw:nw + self.filters]
        self._buffers.clear()

    def _padded_shape(self):
        h, w, c = self.in_shape
        return h + 2 * self.padding, w + 2 * self.padding, c

    def _buf(self, batch: int, dtype) -> dict:
        key = (batch, np.dtype(dtype).char)
        bufs = self._buffers.get(key)
        if bufs is None:
            if len(self._buffers) > 4:
                self._buffers.clear()
            ho, wo, f = self.out_shape
            n = batch * ho * wo
            bufs = {"cols": np.empty((n, self.n_in), dtype), "z": np.empty((n, f), dtype)}
            if self.padding:
                bufs["xp"] = np.zeros((batch, *self._padded_shape()), dtype)  # zero border
            bufs["a"] = (bufs["z"] if self.activation.name in ("relu", "identity")
                         else np.empty((n, f), dtype))
            self._buffers[key] = bufs
        return bufs

    def _pad(self, x: np.ndarray, xp: np.ndarray | None) -> np.ndarray:
        if not self.padding:
            return x
        p = self.padding
        xp[:, p:xp.shape[1] - p, p:xp.shape[2] - p, :] = x
        return xp

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x (B, H, W, C) -> (B, Ho, Wo, filters)``, an internal buffer."""
        B = x.shape[0]
        bufs = self._buf(B, self.W.dtype)
        ho, wo, f = self.out_shape
        xp = self._pad(x, bufs.get("xp"))
        cols = bufs["cols"]
        np.copyto(cols.reshape(B, ho, wo, self.kernel, self.kernel, -1),
                  _patches(xp, self.kernel, self.stride, ho, wo))
        z = bufs["z"]
        np.matmul(cols, self.W, out=z)
        z += self.b
        a = bufs["a"]
        if self.activation.name == "relu":
            np.maximum(z, 0, out=z)
        elif a is not z:
            self.activation.forward(z, out=a)
        self._cols, self._z, self._a, self._B = cols, z, a, B
        return a.reshape(B, ho, wo, f)

    def backward(self, da: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """``da (B, Ho, Wo, filters)`` -> fills ``dW, db``; returns ``dL/dx (B, H, W, C)``."""
        B = self._B
        ho, wo, f = self.out_shape
        da = da.reshape(B * ho * wo, f)
        name = self.activation.name
        if name == "relu":
            dz = np.multiply(da, self._a > 0, out=self._dz_buf(da))
        elif name == "identity":
            dz = da
        else:
            dz = self.activation.backward(self._z, self._a, da, out=self._dz_buf(da))
        np.matmul(self._cols.T, dz, out=self.dW)
        np.matmul(self._ones(len(dz), dz.dtype), dz, out=self.db)  # column sums, a GEMV
        if not need_dx:
            return None
        return self._dx(dz, B)

    def _ones(self, n: int, dtype) -> np.ndarray:
        bufs = self._buf(self._B, dtype)
        if "ones" not in bufs:
            bufs["ones"] = np.ones(n, dtype)
        return bufs["ones"]

    def _dz_buf(self, da: np.ndarray) -> np.ndarray:
        bufs = self._buf(self._B, self.W.dtype)
        if "dz" not in bufs:
            bufs["dz"] = np.empty_like(bufs["z"])
        return bufs["dz"]

    def _dx(self, dz: np.ndarray, B: int) -> np.ndarray:
        """``dL/dx (B, H, W, C)`` from ``dz (B*Ho*Wo, filters)``: the patch gradients as
        ONE GEMM, ``W @ dz.T`` laid out ``(k, k, C, B, Ho, Wo)``, then col2im as ``k*k``
        strided additions of ``(C, B, Ho, Wo)`` blocks into a channels-first image (rows of
        ``Wo`` contiguous numbers rather than runs of ``C``: measured 1.1-2x faster than
        channels-last col2im and than a transposed convolution by GEMM), turned back to
        channels-last at the end."""
        k, s, p = self.kernel, self.stride, self.padding
        h, w, c = self.in_shape
        ho, wo, _ = self.out_shape
        hp, wp, _ = self._padded_shape()
        d6 = (self.W @ dz.T).reshape(k, k, c, B, ho, wo)
        acc = np.zeros((c, B, hp, wp), dz.dtype)
        for i in range(k):
            for j in range(k):
                acc[:, :, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s] += d6[i, j]
        return np.ascontiguousarray(acc[:, :, p:p + h, p:p + w].transpose(1, 2, 3, 0))

    # -- population --------------------------------------------------------------------------
    def population_weights(self, theta_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``theta_rows (P, num_params)`` -> views ``W (P, k*k*C, filters)``, ``b (P, filters)``."""
        P = theta_rows.shape[0]
        nw = self.n_in * self.filters
        return (theta_rows[:, :nw].reshape(P, self.n_in, self.filters),
                theta_rows[:, nw:nw + self.filters])

    def im2col(self, x: np.ndarray) -> np.ndarray:
        """``x (N, H, W, C)`` -> a fresh patch matrix ``(N*Ho*Wo, k*k*C)``."""
        ho, wo, _ = self.out_shape
        p = self.padding
        if p:
            x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
        cols = np.empty((x.shape[0], ho, wo, self.kernel, self.kernel, x.shape[-1]), x.dtype)
        np.copyto(cols, _patches(x, self.kernel, self.stride, ho, wo))
        return cols.reshape(-1, self.n_in)

    def forward_population(self, x: np.ndarray, theta_rows: np.ndarray,
                           cols: np.ndarray | None = None) -> np.ndarray:
        """``x (B, H, W, C)`` shared by all members, or ``(P, B, H, W, C)``, with
        ``theta_rows (P, num_params)`` -> ``(P, B, Ho, Wo, filters)``.

        Shared input: ONE patch matrix for the whole population (``cols``, from
        :meth:`im2col`, when the caller keeps it for several groups of members) and one
        GEMM against every member's filters side by side ``(k*k*C, P*filters)``.  Own
        inputs: one batched matmul ``(P, B*Ho*Wo, k*k*C) @ (P, k*k*C, filters)``."""
        W, b = self.population_weights(theta_rows)
        P = theta_rows.shape[0]
        ho, wo, f = self.out_shape
        if x.ndim == 4:
            B = x.shape[0]
            if cols is None:
                cols = self.im2col(x)  # (B*Ho*Wo, K), shared
            Wt = np.ascontiguousarray(W.transpose(1, 0, 2)).reshape(self.n_in, P * f)
            zt = (cols @ Wt).reshape(B * ho * wo, P, f).transpose(1, 0, 2)  # (P, N, f) view
            z = np.add(zt, b[:, None, :], out=np.empty(zt.shape, zt.dtype))  # contiguous
        else:
            B = x.shape[1]
            cols = self.im2col(x.reshape(P * B, *x.shape[2:])).reshape(P, B * ho * wo,
                                                                         self.n_in)
            z = np.matmul(cols, W)
            z += b[:, None, :]
        z = self.activation.forward(z, out=z)
        return z.reshape(P, B, ho, wo, f)


class MaxPool2D:
    """Max pooling over non-overlapping ``size x size`` windows (stride = size; rows and
    columns that do not fill a window are dropped).  ``(B, H, W, C) -> (B, H//s, W//s, C)``.
    Backward sends each gradient to the first maximum of its window in row-major order
    (as PyTorch does), which matters where maxima tie (a blank background, ReLU zeros)."""

    kind = "pool"
    num_params = 0
    activation = None

    def __init__(self, in_shape, size: int = 2):
        h, w, c = (int(v) for v in in_shape)
        self.size = int(size)
        if self.size < 1 or h // self.size < 1 or w // self.size < 1:
            raise ValueError(f"pool {size} does not fit a {h}x{w} input")
        self.in_shape = (h, w, c)
        self.out_shape = (h // self.size, w // self.size, c)

    def spec(self) -> dict:
        return {"pool": self.size}

    def bind(self, theta, grad) -> None:
        pass

    def _windows(self, x: np.ndarray):
        """The ``size*size`` strided views ``(N, Ho, Wo, C)``, one per window offset."""
        s = self.size
        ho, wo, _ = self.out_shape
        return [x[:, i:i + s * ho:s, j:j + s * wo:s, :] for i in range(s) for j in range(s)]

    def _pool(self, x: np.ndarray) -> np.ndarray:
        wins = self._windows(x)
        out = wins[0].copy()
        for w in wins[1:]:
            np.maximum(out, w, out=out)
        return out

    @staticmethod
    def _reduce(views: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Elementwise max over ``views`` and the index of the first view holding it."""
        out = views[0].copy()
        idx = np.zeros(out.shape, np.uint8)
        for k, v in enumerate(views[1:], 1):
            gt = v > out
            np.maximum(out, v, out=out)
            if len(views) == 2:
                idx = gt.view(np.uint8)
            else:
                idx = np.where(gt, np.uint8(k), idx)
        return out, idx

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(B, H, W, C) -> (B, H//s, W//s, C)`` in two passes: the max of each window
        row (over its columns), then the max over the window's rows.  Each pass keeps the
        index of the first maximum, so backward finds the window's first maximum in
        row-major order (the topmost row that holds it, its leftmost place there)."""
        s = self.size
        ho, wo, _ = self.out_shape
        r, self._cidx = self._reduce([x[:, :s * ho, j:j + s * wo:s, :] for j in range(s)])
        out, self._ridx = self._reduce([r[:, i::s] for i in range(s)])  # (B, Ho, Wo, C)
        self._x_shape = x.shape
        return out

    def backward(self, da: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        if not need_dx:
            return None
        s = self.size
        B, h, w, c = self._x_shape
        ho, wo, _ = self.out_shape
        dr = np.empty((B, s * ho, wo, c), da.dtype)  # the gradient of the row maxima
        for i in range(s):
            np.multiply(da, self._ridx == i, out=dr[:, i::s])
        exact = h == s * ho and w == s * wo  # every input position is in a window
        dx = (np.empty if exact else np.zeros)(self._x_shape, da.dtype)
        for j in range(s):
            np.multiply(dr, self._cidx == j, out=dx[:, :s * ho, j:j + s * wo:s, :])
        return dx

    def forward_population(self, x: np.ndarray, theta_rows: np.ndarray) -> np.ndarray:
        lead = x.shape[:-3]
        out = self._pool(x.reshape(-1, *self.in_shape))
        return out.reshape(*lead, *self.out_shape)


class Flatten:
    """``(B, H, W, C) -> (B, H*W*C)`` (channels-last order, as the datasets flatten)."""

    kind = "flatten"
    num_params = 0
    activation = None

    def __init__(self, in_shape):
        self.in_shape = tuple(int(v) for v in in_shape)
        self.out_shape = (int(np.prod(self.in_shape)),)

    def spec(self) -> dict:
        return {"flatten": True}

    def bind(self, theta, grad) -> None:
        pass

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(x.shape[0], -1)

    def backward(self, da: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        return da.reshape(da.shape[0], *self.in_shape) if need_dx else None

    def forward_population(self, x: np.ndarray, theta_rows: np.ndarray) -> np.ndarray:
        return x.reshape(*x.shape[:-len(self.in_shape)], -1)


class Dropout:
    """Switches off ``rate`` of its inputs at random while training (scaling the rest by
    ``1 / (1 - rate)``); the identity at prediction time and for populations.  The masks
    are drawn by :meth:`nn.network.Network.loss_and_backward`."""

    kind = "dropout"
    num_params = 0
    activation = None

    def __init__(self, in_shape, rate: float):
        self.in_shape = self.out_shape = tuple(int(v) for v in in_shape)
        self.rate = float(rate)
        if not 0 <= self.rate < 1:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate}")

    def spec(self) -> dict:
        return {"dropout": self.rate}

    def bind(self, theta, grad) -> None:
        pass

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, da: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        return da if need_dx else None

    def forward_population(self, x: np.ndarray, theta_rows: np.ndarray) -> np.ndarray:
        return x
