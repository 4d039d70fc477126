"""The network: Dense layers over ONE contiguous parameter vector ``theta``.

Backpropagation fills ``grad`` (same layout as ``theta``); evolution writes whole rows of
a ``(P, D)`` matrix and runs them all at once with :meth:`Network.forward_population`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nn.graph import Graph
from nn.layerlist import build_layers, short_name
from nn.layerlist import normalize_layers as normalize_layers  # also importable from here
from nn.layers import Conv2D, Dense, Dropout, Flatten
from nn.losses import Loss, get_loss
from nn.members import MemberPolicy
from nn.recurrent import Elman

RELU_LIKE = ("relu", "silu")


class Network:
    """A multilayer perceptron, or any stack of :mod:`nn.layers` over one ``theta``.

    ``sizes`` lists the layer widths from input to output, e.g. ``[784, 128, 10]``;
    ``activations`` has one name per weight layer (``len(sizes) - 1``).

    Or, for convolutional networks, ``layers`` is a layer list (see :func:`build_layers`)
    and ``input_shape`` the shape of one input, ``(H, W, C)`` for images (inputs still
    arrive flat, ``(B, H*W*C)`` in channels-last order, and are viewed as images).

    A layer list with an ``rnn`` layer (:class:`nn.recurrent.Elman`) makes a *recurrent*
    network (:attr:`recurrent`): it runs on sequences, ``x (B, T, n_in) -> (B, T, n_out)``
    (the other layers act on every time step alike), backward is backpropagation through
    time, and a population steps with its state kept by :meth:`member_policy`.
    """

    def __init__(self, sizes: Sequence[int] | None = None,
                 activations: Sequence[str] | None = None,
                 loss: str = "cross_entropy", dtype=np.float32,
                 rng: np.random.Generator | None = None, *,
                 layers: Sequence[dict] | None = None,
                 input_shape: Sequence[int] | None = None):
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, not {self.dtype}")
        if layers is None:
            sizes = [int(s) for s in sizes]
            if len(sizes) < 2:
                raise ValueError(f"a network needs at least an input and an output size, "
                                 f"got {sizes}")
            if len(activations) != len(sizes) - 1:
                raise ValueError(f"{len(sizes) - 1} weight layers need {len(sizes) - 1} "
                                 f"activations, got {len(activations)}")
            self.layers = [Dense(a, b, act)
                           for a, b, act in zip(sizes[:-1], sizes[1:], activations)]
            self.input_shape = (sizes[0],)
            self.is_mlp = True
        else:
            if input_shape is None:
                raise ValueError("a layer list needs the input_shape")
            self.input_shape = tuple(int(v) for v in input_shape)
            self.layers = build_layers(self.input_shape, layers)
            self.is_mlp = False
            if len(self.input_shape) != 1 and any(isinstance(la, Elman) for la in self.layers):
                raise ValueError(f"a network with an rnn layer takes flat inputs, not shape "
                                 f"{self.input_shape}")
            sizes = [int(np.prod(self.input_shape))] + [
                int(np.prod(layer.out_shape)) for layer in self.layers
                if not isinstance(layer, (Flatten, Dropout))]
        self.sizes = sizes
        # sequences in and out, (B, T, n_in) -> (B, T, n_out): the network has rnn layers
        self.recurrent = any(isinstance(layer, Elman) for layer in self.layers)
        self._seq: tuple[int, int] | None = None  # (B, T) of the sequences being run
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

    def layer_specs(self) -> list[dict]:
        """The layer list (what :func:`build_layers` takes and a model file records)."""
        return [layer.spec() for layer in self.layers]

    @property
    def spatial(self) -> bool:
        """Whether inputs are viewed as images ``(H, W, C)`` before the first layer."""
        return len(self.input_shape) == 3 and not isinstance(self.layers[0], Dense)

    # -- parameters -------------------------------------------------------------------
    @property
    def num_params(self) -> int:
        return sum(layer.num_params for layer in self.layers)

    @property
    def activations(self) -> list[str]:
        return [layer.activation.name for layer in self.layers if layer.activation is not None]

    @property
    def n_inputs(self) -> int:
        return self.sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.sizes[-1]

    def _bind(self) -> None:
        for layer, lo, hi in zip(self.layers, self._offsets[:-1], self._offsets[1:]):
            layer.bind(self.theta[lo:hi], self.grad[lo:hi])

    def use_buffers(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """Keep the parameters in ``theta`` and the gradient in ``grad`` (1-D arrays of
        :attr:`num_params`, e.g. slices of a longer vector shared with other networks);
        the current parameters are copied into ``theta``."""
        if theta.shape != self.theta.shape or grad.shape != self.theta.shape:
            raise ValueError(f"expected buffers of {self.num_params} values, got "
                             f"{theta.shape} and {grad.shape}")
        if theta.dtype != self.dtype or grad.dtype != self.dtype:
            raise ValueError(f"expected {self.dtype} buffers, got {theta.dtype}, {grad.dtype}")
        theta[...] = self.theta
        self.theta, self.grad = theta, grad
        self._bind()

    def init_params(self, rng: np.random.Generator) -> None:
        """He initialisation for ReLU-like layers, Xavier/Glorot otherwise; zero biases
        (recurrent weights: see :meth:`nn.recurrent.Elman.init_params`)."""
        for layer in self.layers:
            if not layer.num_params:
                continue
            if isinstance(layer, (Elman, Graph)):
                layer.init_params(rng)
                continue
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
            if layer.num_params:
                mask[lo:lo + layer.num_params - layer.n_out] = 1  # the biases come last
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
        if self.is_mlp:
            other = Network(self.sizes, self.activations, self.loss_name, self.dtype)
        else:
            other = Network(layers=self.layer_specs(), input_shape=self.input_shape,
                            loss=self.loss_name, dtype=self.dtype)
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
        """For each layer, the (weights, biases) slices of ``theta`` (empty for layers
        without parameters)."""
        out = []
        for layer, lo in zip(self.layers, self._offsets[:-1]):
            if not layer.num_params:  # pooling, flatten, dropout: empty slices
                out.append((slice(lo, lo), slice(lo, lo)))
                continue
            nw = layer.num_params - layer.n_out  # rnn layers: Wx, then Wh
            out.append((slice(lo, lo + nw), slice(lo + nw, lo + nw + layer.n_out)))
        return out

    # -- single network ---------------------------------------------------------------
    def _check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        want = "(B, T, {})" if self.recurrent else "(B, {})"
        if x.ndim != (3 if self.recurrent else 2) or x.shape[-1] != self.n_inputs:
            raise ValueError(f"expected input of shape {want.format(self.n_inputs)}, "
                             f"got {x.shape}")
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        return x

    def _input(self, x: np.ndarray) -> np.ndarray:
        """Checked, standardised inputs as the first layer takes them: rows ``(B, n_in)``
        (sequences: ``(B*T, n_in)``, every step a row), viewed as images where needed."""
        x = self._check_input(x)
        if self.recurrent:
            self._seq = x.shape[:2]
            x = x.reshape(-1, self.n_inputs)
        return self._to_input_shape(self._normalize(x))

    def _forward_layer(self, layer, a: np.ndarray) -> np.ndarray:
        """One layer forward on rows; an rnn layer sees them as the sequences they are."""
        if isinstance(layer, Elman):
            return layer.forward(a.reshape(*self._seq, -1)).reshape(-1, layer.n_out)
        return layer.forward(a)

    def _backward_layer(self, layer, d: np.ndarray, need_dx: bool = True):
        if isinstance(layer, Elman):
            d = layer.backward(d.reshape(*self._seq, -1), need_dx=need_dx)
            return None if d is None else d.reshape(-1, layer.n_in)
        return layer.backward(d, need_dx=need_dx)

    def _rows(self, a: np.ndarray, what: str) -> np.ndarray:
        """A recurrent network's ``(B, T, n)`` outputs, gradients or targets as rows."""
        if self.recurrent:
            if a.ndim != 3 or a.shape[:2] != self._seq:
                raise ValueError(f"expected {what} of shape ({self._seq[0]}, "
                                 f"{self._seq[1]}, {self.n_outputs}), got {a.shape}")
            return a.reshape(-1, a.shape[-1])
        return a

    def _to_input_shape(self, a: np.ndarray) -> np.ndarray:
        """Flat inputs ``(..., n_in)`` viewed as images ``(..., H, W, C)`` where needed."""
        return a.reshape(*a.shape[:-1], *self.input_shape) if self.spatial else a

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x (B, n_in) -> (B, n_out)``; a recurrent network: sequences ``x (B, T, n_in)
        -> (B, T, n_out)``, each from a zero state.  Caches what :meth:`backward` needs.

        The result is an internal buffer, overwritten by the next call with the same
        batch size: copy it to keep it (``predict`` does).
        """
        a = self._input(x)
        for layer in self.layers:
            a = self._forward_layer(layer, a)
        return a.reshape(*self._seq, -1) if self.recurrent else a

    def backward(self, da: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate ``da = dL/d(output)`` through the cached forward pass (through
        time, for a recurrent network: ``da (B, T, n_out)``).

        Fills ``grad`` and returns ``dL/dx`` (an internal buffer, overwritten by the next
        call with the same batch size), or None with ``need_input_grad=False``, which
        skips the first layer's input gradient.
        """
        d = self._rows(np.asarray(da), "da")
        for i in range(len(self.layers) - 1, -1, -1):
            d = self._backward_layer(self.layers[i], d, need_dx=i > 0 or need_input_grad)
        if d is None:
            return None
        d = d.reshape(len(d), -1)
        return d.reshape(*self._seq, -1) if self.recurrent else d

    def loss_and_backward(self, x: np.ndarray, y: np.ndarray, dropout: float = 0.0,
                          rng: np.random.Generator | None = None) -> tuple[float, np.ndarray]:
        """One forward and backward pass on a batch with one-hot (or real) targets ``y``.

        ``dropout`` > 0 zeroes that share of every hidden dense layer's outputs at random
        (drawn from ``rng``) and scales the rest by ``1 / (1 - dropout)`` ("inverted"
        dropout, so nothing changes at prediction time); :class:`nn.layers.Dropout` layers
        of a layer list do the same with their own rate.  Returns the mean loss and the
        output (an internal buffer).  ``grad`` is filled.  A recurrent network takes
        sequences, ``x (B, T, n_in)`` and ``y (B, T, n_out)``: the loss is the mean over
        every step of every sequence.  A node graph (:class:`nn.graph.Graph`) is evolved, not
        trained: ``NotImplementedError``.
        """
        if isinstance(self.layers[0], Graph):
            self.layers[0].backward(None)  # refuses
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        n = len(self.layers)
        masks: list[np.ndarray | None] = [None] * n
        rates = [layer.rate if isinstance(layer, Dropout)
                 else dropout if isinstance(layer, Dense) and i < n - 1 else 0.0
                 for i, layer in enumerate(self.layers)]
        if any(r > 0 for r in rates):
            if rng is None:
                raise ValueError("dropout needs a random generator (pass rng)")
            a = self._input(x)
            for i, layer in enumerate(self.layers):
                a = self._forward_layer(layer, a)
                if rates[i] > 0:
                    keep = self.dtype.type(1.0 / (1.0 - rates[i]))
                    mask = rng.random(a.shape, dtype=self.dtype) >= rates[i]
                    masks[i] = mask * keep  # 0 or 1/(1-p), the shape of a
                    a = a * masks[i]  # a new array: the layer keeps its own output
        else:
            a = self.forward(x).reshape(-1, self.n_outputs)
        y = self._rows(np.asarray(y), "y")
        loss = self.loss.value(a, y)
        last = self.layers[-1]
        dz = self.loss.fused_delta(last.activation.name, a, y, out=last._buf(len(a), a.dtype)[2])
        if dz is not None:
            d = last.backward(None, need_dx=n > 1, dz=dz)
        else:
            d = last.backward(self.loss.grad(a, y), need_dx=n > 1)
        for i in range(n - 2, -1, -1):
            if masks[i] is not None:
                d *= masks[i]
            d = self._backward_layer(self.layers[i], d, need_dx=i > 0)
        return loss, (a.reshape(*self._seq, -1) if self.recurrent else a)

    def predict_proba(self, x: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """Network outputs for ``x (B, n_in)`` (sequences: ``(B, T, n_in)``), computed in
        chunks; a fresh array."""
        x = self._check_input(x)
        if not self.is_mlp:
            chunk = min(chunk, 256)  # image layers hold patch matrices per chunk
        out = np.empty((*x.shape[:-1], self.n_outputs), self.dtype)
        for lo in range(0, len(x), chunk):
            out[lo:lo + chunk] = self.forward(x[lo:lo + chunk])
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class indices ``(B,)`` (sequences: ``(B, T)``): the argmax of the outputs."""
        return self.predict_proba(x).argmax(axis=-1)

    # -- population -------------------------------------------------------------------
    def forward_population(self, x: np.ndarray, thetas: np.ndarray,
                           max_bytes: int = 256 << 20) -> np.ndarray:
        """Run ``P`` parameter vectors at once.

        ``thetas`` is ``(P, D)``; ``x`` is ``(P, B, n_in)`` (each member its own inputs)
        or ``(B, n_in)`` (shared inputs).  Returns ``(P, B, n_out)``.  For a recurrent
        network ``B`` is time: each member runs the sequence from a zero state.  One batched
        matmul/einsum per layer for the whole population; ``self.theta`` is not touched.
        With shared inputs the first convolution's patch matrix is built once and serves
        every member.  Image layers go through the members in groups that keep the
        activations and patch matrices under ``max_bytes``.
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
        a = self._to_input_shape(a)
        P = thetas.shape[0]
        group, cols = P, None
        if not self.is_mlp:
            first = self.layers[0]
            if x.ndim == 2 and isinstance(first, Conv2D):
                cols = first.im2col(a)  # the input's patch matrix, shared by all members
            B, item = x.shape[-2], dtype.itemsize
            per_member = 0  # bytes one member needs, at its largest layer
            for i, layer in enumerate(self.layers):
                n = int(np.prod(layer.out_shape))
                if isinstance(layer, Conv2D) and not (i == 0 and cols is not None):
                    n += int(np.prod(layer.out_shape[:2])) * layer.n_in  # its patch matrix
                per_member = max(per_member, 2 * n * B * item)
            group = max(1, min(P, max_bytes // max(per_member, 1)))
        if group < P or cols is not None:
            out = np.empty((P, x.shape[-2], self.n_outputs), dtype)
            for lo in range(0, P, group):
                xs = a if x.ndim == 2 else a[lo:lo + group]
                out[lo:lo + group] = self._population_layers(xs, thetas[lo:lo + group], cols)
            return out
        return self._population_layers(a, thetas)

    def _population_layers(self, a: np.ndarray, thetas: np.ndarray,
                           cols: np.ndarray | None = None) -> np.ndarray:
        for i, (layer, lo, hi) in enumerate(zip(self.layers, self._offsets[:-1],
                                                self._offsets[1:])):
            if i == 0 and cols is not None:
                a = layer.forward_population(a, thetas[:, lo:hi], cols=cols)
            else:
                a = layer.forward_population(a, thetas[:, lo:hi])
        return a

    def _check_thetas(self, thetas: np.ndarray) -> np.ndarray:
        thetas = np.asarray(thetas)
        if thetas.ndim != 2 or thetas.shape[1] != self.num_params:
            raise ValueError(f"expected thetas of shape (P, {self.num_params}), got {thetas.shape}")
        return thetas

    def member_policy(self, thetas: np.ndarray) -> MemberPolicy:
        """``policy(x (P, n_in)) -> (P, n_out)``: one sample per member (an agent each)
        for ``thetas (P, D)``, checked and split into layer weights once; a perceptron or
        convolutional network gives the numbers of :meth:`forward_population`.  For a
        rollout, which calls it every physics step.  A recurrent network's policy keeps
        each member's state from call to call, from zeros (an episode's start); see
        :class:`nn.members.MemberPolicy` (``reset``, ``select`` a subset of members)."""
        return MemberPolicy(self, thetas)

    def describe(self) -> str:
        """The architecture in a few words: ``784-128-10`` for a perceptron,
        ``conv32k5-pool2-...-dense10`` for a layer list."""
        if self.is_mlp:
            return "-".join(map(str, self.sizes))
        return "-".join(short_name(spec) for spec in self.layer_specs())

    def __repr__(self) -> str:
        acts = ",".join(self.activations)
        if not self.is_mlp:
            return (f"Network({'x'.join(map(str, self.input_shape))}: {self.describe()}, "
                    f"loss={self.loss_name}, {self.dtype.name}, {self.num_params} params)")
        return (f"Network({'-'.join(map(str, self.sizes))}, {acts}, loss={self.loss_name}, "
                f"{self.dtype.name}, {self.num_params} params)")
