"""Mini-batch training by backpropagation.

The :class:`Trainer` shuffles with a seeded generator, runs mini-batches through
``Network.loss_and_backward`` and an optimizer, records per-epoch train/validation loss and
accuracy, stops on divergence (keeping the last good parameters) and on Ctrl-C (finishing
the current batch first).  Files and plots are written by callbacks.

:meth:`Trainer.state_dict` holds everything that changes while training (parameters,
optimizer buffers and counters, the generator's state, the finished epochs and their
records), so a trainer restored from it with :meth:`Trainer.load_state_dict` continues
exactly as the uninterrupted one would: same shuffles, dropout masks, augmentations and
learning rates, bit for bit.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from common.interrupt import StopRequest, TimeLimit
from nn.network import Network
from nn.optim import OPTIMIZERS, Optimizer


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10  # passes over the training set
    batch_size: int = 32  # samples per gradient step
    optimizer: str = "sgd"  # "sgd" (with momentum) or "adam"
    lr: float = 0.05  # learning rate at epoch 0
    momentum: float = 0.9  # SGD momentum (ignored by adam)
    l2: float = 0.1  # weight penalty per training sample (weights shrink by lr*l2/batch)
    decay: float = 0.075  # learning rate at epoch e is lr / (1 + decay * e)
    dropout: float = 0.0  # share of hidden units switched off at random in each training step
    validation_fraction: float = 0.1  # share of the training set held out for validation
    seed: int = 0  # seeds initialisation, the validation split and shuffling
    diverge_factor: float = 1000.0  # stop when a batch loss exceeds this x the first loss

    def validate(self) -> list[tuple[str, str]]:
        """``(key, problem)`` pairs for impossible values."""
        bad = []
        if self.epochs < 1:  # no epochs would leave the network untrained
            bad.append(("epochs", "must be >= 1"))
        if self.batch_size < 1:
            bad.append(("batch_size", "must be >= 1"))
        if self.optimizer not in OPTIMIZERS:
            bad.append(("optimizer", f"must be one of {', '.join(OPTIMIZERS)}"))
        if not self.lr > 0:
            bad.append(("lr", "must be > 0"))
        if not 0 <= self.momentum < 1:
            bad.append(("momentum", "must be in [0, 1)"))
        if self.l2 < 0:
            bad.append(("l2", "must be >= 0"))
        if self.decay < 0:
            bad.append(("decay", "must be >= 0"))
        if not 0 <= self.dropout < 1:
            bad.append(("dropout", "must be in [0, 1)"))
        if not 0 <= self.validation_fraction < 1:
            bad.append(("validation_fraction", "must be in [0, 1)"))
        if not self.diverge_factor > 1:
            bad.append(("diverge_factor", "must be > 1"))
        return bad


def make_optimizer(cfg: TrainConfig, net: Network) -> Optimizer:
    kw = dict(lr=cfg.lr, decay=cfg.decay, l2=cfg.l2, weight_mask=net.weight_mask(),
              batch_size=cfg.batch_size)
    if cfg.optimizer == "sgd":
        return OPTIMIZERS["sgd"](momentum=cfg.momentum, **kw)
    return OPTIMIZERS[cfg.optimizer](**kw)


def split_validation(x: np.ndarray, y: np.ndarray, fraction: float,
                     rng: np.random.Generator):
    """Seeded random hold-out: ``(x_train, y_train, x_val, y_val)``."""
    n_val = int(round(len(x) * fraction))
    if n_val == 0:
        return x, y, x[:0], y[:0]
    perm = rng.permutation(len(x))
    val, tr = perm[:n_val], perm[n_val:]
    return x[tr], y[tr], x[val], y[val]


def one_hot(labels: np.ndarray, n_classes: int, dtype=np.float32,
            out: np.ndarray | None = None) -> np.ndarray:
    if out is None:
        out = np.zeros((len(labels), n_classes), dtype)
    else:
        out.fill(0)
    out[np.arange(len(labels)), labels] = 1
    return out


def loss_and_accuracy(net: Network, x: np.ndarray, y: np.ndarray,
                      chunk: int = 4096) -> tuple[float, float]:
    """Mean loss and accuracy of ``net`` on labelled data (in chunks of ``chunk`` samples;
    of at most 256 for networks with image layers, whose patch matrices grow with it)."""
    if len(x) == 0:
        return math.nan, math.nan
    if not net.is_mlp:
        chunk = min(chunk, 256)
    total_loss, correct = 0.0, 0
    for lo in range(0, len(x), chunk):
        xb, yb = x[lo:lo + chunk], y[lo:lo + chunk]
        a = net.forward(xb)
        total_loss += net.loss.value(a, one_hot(yb, net.n_outputs, a.dtype)) * len(xb)
        correct += int(np.count_nonzero(a.argmax(axis=1) == yb))
    return total_loss / len(x), correct / len(x)


class Callback:
    """Hooks called by :class:`Trainer`; every method is a no-op by default."""

    def on_train_begin(self, trainer: Trainer) -> None: ...

    def on_epoch_end(self, trainer: Trainer, record: dict) -> None: ...

    def on_train_end(self, trainer: Trainer, result: TrainResult) -> None: ...


@dataclass
class TrainResult:
    history: list[dict] = field(default_factory=list)  # one record per finished epoch
    # "completed", "diverged", "interrupted" or "time" (the time limit reached after an epoch)
    status: str = "completed"
    message: str = ""  # one line explaining a non-completed status


METRIC_COLUMNS = ("epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy")
TIMING_COLUMNS = ("epoch", "seconds", "samples_per_second")
# what a record holds (the rows of both tables), in the order a checkpoint stores it
HISTORY_COLUMNS = (*METRIC_COLUMNS, *TIMING_COLUMNS[1:])


def _record(row: np.ndarray) -> dict:
    """A history row of floats back into the record :class:`Trainer` made (epoch an int)."""
    rec = {c: float(v) for c, v in zip(HISTORY_COLUMNS, row)}
    rec["epoch"] = int(rec["epoch"])
    return rec


class Trainer:
    def __init__(self, net: Network, cfg: TrainConfig,
                 augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
                 callbacks: Sequence[Callback] = (), progress: bool = True):
        self.net = net
        self.cfg = cfg
        self.augment = augment
        self.callbacks = list(callbacks)
        self.progress = progress
        self.optimizer = make_optimizer(cfg, net)
        self.rng = np.random.default_rng(np.random.SeedSequence(cfg.seed).spawn(2)[1])
        self.stop = StopRequest()  # Ctrl-C: finish the batch, then stop cleanly
        # --time-limit: past it (counted from fit), stop after the epoch in progress
        self.time_limit = TimeLimit()
        # Where training stands: ``fit`` continues from here (a fresh trainer from epoch 0,
        # one restored by :meth:`load_state_dict` from its checkpoint).
        self.epoch = 0  # finished epochs
        self.history: list[dict] = []  # one record per finished epoch
        self.first_loss: float | None = None  # the first batch's loss (divergence check)

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Everything a later :meth:`fit` needs to continue exactly where this one stands,
        as arrays (copies; ``np.load(allow_pickle=False)`` reads them back): ``theta``, the
        input standardisation (``in_shift``, ``in_scale``), ``optimizer/NAME`` entries,
        ``history`` (one row of :data:`HISTORY_COLUMNS` per finished epoch) and ``trainer``,
        a 0-d JSON string with the finished epochs, the first batch loss and the random
        generator's state (the shuffles, dropout masks and augmentations still to come)."""
        net = self.net
        arrays = {"theta": net.get_params()}
        if net.in_shift is not None:
            arrays["in_shift"] = np.array(net.in_shift)
            arrays["in_scale"] = np.array(net.in_scale)
        for k, v in self.optimizer.state_dict().items():
            arrays[f"optimizer/{k}"] = v
        arrays["history"] = np.array(
            [[float(r[c]) for c in HISTORY_COLUMNS] for r in self.history],
            np.float64).reshape(len(self.history), len(HISTORY_COLUMNS))
        state = {"epoch": self.epoch, "first_loss": self.first_loss,
                 "optimizer": self.cfg.optimizer, "history_columns": list(HISTORY_COLUMNS),
                 "rng": self.rng.bit_generator.state}  # PCG64's integers exceed 64 bits: JSON
        arrays["trainer"] = np.array(json.dumps(state))
        return arrays

    def load_state_dict(self, arrays: dict[str, np.ndarray]) -> None:
        """Continue from what :meth:`state_dict` returned (for the same network, config and
        data).  ``ValueError`` for a state that does not fit this trainer or is damaged;
        nothing is changed then."""
        net = self.net
        try:
            state = json.loads(str(arrays["trainer"]))
            epoch, first_loss = state["epoch"], state["first_loss"]
            optimizer, columns, rng_state = (state["optimizer"], state["history_columns"],
                                             state["rng"])
            theta, history = arrays["theta"], arrays["history"]
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"not a trainer state ({type(e).__name__}: {e})") from None
        if optimizer != self.cfg.optimizer:
            raise ValueError(f"the state is of optimizer {optimizer!r}, the config says "
                             f"{self.cfg.optimizer!r}")
        if theta.shape != net.theta.shape or theta.dtype != net.dtype:
            raise ValueError(f"{theta.shape[0] if theta.ndim == 1 else theta.shape} "
                             f"{theta.dtype} parameters stored, the network has "
                             f"{net.num_params} {net.dtype}")
        if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
            raise ValueError(f"finished epochs {epoch!r} is not a count")
        if first_loss is not None and not isinstance(first_loss, (int, float)):
            raise ValueError(f"first loss {first_loss!r} is not a number")
        if list(columns) != list(HISTORY_COLUMNS) or history.shape != (epoch,
                                                                      len(HISTORY_COLUMNS)):
            raise ValueError(f"the history has shape {history.shape}, expected {epoch} rows "
                             f"of {', '.join(HISTORY_COLUMNS)}")
        has_norm = "in_shift" in arrays and "in_scale" in arrays
        rng = np.random.default_rng()  # the kind of generator __init__ makes (PCG64)
        try:
            rng.bit_generator.state = rng_state  # checks the generator's kind and fields
        except (TypeError, ValueError, KeyError, OverflowError) as e:
            raise ValueError(f"random generator state unreadable ({e})") from None
        opt_state = {k[len("optimizer/"):]: v for k, v in arrays.items()
                     if k.startswith("optimizer/")}
        optim = make_optimizer(self.cfg, net)
        optim.load_state_dict(opt_state)  # ValueError for another optimizer's state
        if has_norm:
            net.set_input_norm(arrays["in_shift"], arrays["in_scale"])
        else:
            net.set_input_norm(None, None)
        net.set_params(theta)
        self.optimizer = optim
        self.rng = rng
        self.epoch = epoch
        self.first_loss = None if first_loss is None else float(first_loss)
        self.history = [_record(row) for row in history]

    def fit(self, x: np.ndarray, y: np.ndarray, x_val: np.ndarray | None = None,
            y_val: np.ndarray | None = None) -> TrainResult:
        x = np.asarray(x, self.net.dtype)
        if len(x) == 0:
            raise ValueError("the training set is empty")
        with self.stop:
            self.time_limit.start()
            return self._fit(x, y, x_val, y_val)

    def _fit(self, x, y, x_val, y_val) -> TrainResult:
        net, cfg, opt = self.net, self.cfg, self.optimizer
        n, n_classes = len(x), net.n_outputs
        result = TrainResult(history=self.history)  # the same list: restored rows too
        last_good = net.get_params()
        targets = np.zeros((cfg.batch_size, n_classes), net.dtype)
        try:
            for cb in self.callbacks:
                cb.on_train_begin(self)
            n_batches = -(-n // cfg.batch_size)
            epochs_bar = tqdm(total=cfg.epochs, initial=min(self.epoch, cfg.epochs),
                              desc="training", unit="epoch", disable=not self.progress,
                              mininterval=0.5)
            self._bars = [epochs_bar]
            for epoch in range(self.epoch, cfg.epochs):
                opt.epoch = epoch
                t0 = time.perf_counter()
                perm = self.rng.permutation(n)
                loss_sum, correct, seen = 0.0, 0, 0
                # A batch bar only where an epoch takes a while.
                bar = tqdm(range(0, n, cfg.batch_size), desc=f"epoch {epoch + 1}/{cfg.epochs}",
                           unit="batch", leave=False, mininterval=0.5,
                           disable=not self.progress or n_batches < 300)
                self._bars.append(bar)
                for lo in bar:
                    idx = perm[lo:lo + cfg.batch_size]
                    xb, yb = x[idx], y[idx]
                    if self.augment is not None:
                        xb = self.augment(xb, self.rng)
                    tb = one_hot(yb, n_classes, out=targets[:len(idx)])
                    loss, a = net.loss_and_backward(xb, tb, cfg.dropout, self.rng)
                    if self.first_loss is None:
                        self.first_loss = max(loss, 1e-8)
                    if not math.isfinite(loss) or loss > cfg.diverge_factor * self.first_loss:
                        net.set_params(last_good)
                        result.status = "diverged"
                        result.message = (
                            f"training diverged at epoch {epoch + 1} (batch loss {loss:.4g}): "
                            f"the learning rate ({opt.current_lr:.4g}) is probably too high; "
                            f"kept the model from epoch {epoch}")
                        return result
                    opt.step(net.theta, net.grad)
                    loss_sum += loss * len(idx)
                    correct += int(np.count_nonzero(a.argmax(axis=1) == yb))
                    seen += len(idx)
                    if self.progress and (lo // cfg.batch_size) % 50 == 0:
                        bar.set_postfix(loss=f"{loss_sum / seen:.4f}", refresh=False)
                    if self.stop:
                        break
                bar.close()
                if self.stop:
                    result.status = "interrupted"
                    result.message = f"interrupted during epoch {epoch + 1}"
                    return result
                if not np.all(np.isfinite(net.theta)):
                    net.set_params(last_good)
                    result.status = "diverged"
                    result.message = (f"training diverged in epoch {epoch + 1} (parameters not "
                                      f"finite): the learning rate is probably too high; kept "
                                      f"the model from epoch {epoch}")
                    return result
                seconds = time.perf_counter() - t0
                val_loss, val_acc = (loss_and_accuracy(net, x_val, y_val) if x_val is not None
                                     else (math.nan, math.nan))
                record = {"epoch": epoch + 1, "lr": opt.current_lr,
                          "train_loss": loss_sum / seen, "train_accuracy": correct / seen,
                          "val_loss": val_loss, "val_accuracy": val_acc,
                          "seconds": seconds, "samples_per_second": seen / seconds}
                self.history.append(record)
                self.epoch = epoch + 1
                last_good = net.get_params()
                epochs_bar.set_postfix(loss=f"{record['train_loss']:.4f}",
                                       acc=f"{record['train_accuracy']:.4f}", refresh=False)
                epochs_bar.update(1)
                for cb in self.callbacks:
                    cb.on_epoch_end(self, record)
                if self.epoch < cfg.epochs and self.time_limit.reached():
                    result.status = "time"
                    result.message = (f"{self.time_limit} reached after epoch {self.epoch} "
                                      f"of {cfg.epochs}")
                    return result
            return result
        except KeyboardInterrupt:  # a second Ctrl-C: the callbacks learn it stopped early
            result.status = "interrupted"
            result.message = f"interrupted during epoch {self.epoch + 1}"
            raise
        finally:
            for b in getattr(self, "_bars", []):
                b.close()
            for cb in self.callbacks:
                cb.on_train_end(self, result)
