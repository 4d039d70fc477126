"""Mini-batch training by backpropagation.

The :class:`Trainer` shuffles with a seeded generator, runs mini-batches through
``Network.loss_and_backward`` and an optimizer, records per-epoch train/validation loss and
accuracy, stops on divergence (keeping the last good parameters) and on Ctrl-C (finishing
the current batch first).  Files and plots are written by callbacks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from common.interrupt import StopRequest
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
        if self.epochs < 0:
            bad.append(("epochs", "must be >= 0"))
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
    """Mean loss and accuracy of ``net`` on labelled data."""
    if len(x) == 0:
        return math.nan, math.nan
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
    status: str = "completed"  # "completed", "diverged" or "interrupted"
    message: str = ""  # one line explaining a non-completed status


METRIC_COLUMNS = ("epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy")
TIMING_COLUMNS = ("epoch", "seconds", "samples_per_second")


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

    def fit(self, x: np.ndarray, y: np.ndarray, x_val: np.ndarray | None = None,
            y_val: np.ndarray | None = None) -> TrainResult:
        x = np.asarray(x, self.net.dtype)
        if len(x) == 0:
            raise ValueError("the training set is empty")
        with self.stop:
            return self._fit(x, y, x_val, y_val)

    def _fit(self, x, y, x_val, y_val) -> TrainResult:
        net, cfg, opt = self.net, self.cfg, self.optimizer
        n, n_classes = len(x), net.n_outputs
        result = TrainResult()
        first_loss: float | None = None
        last_good = net.get_params()
        targets = np.zeros((cfg.batch_size, n_classes), net.dtype)
        try:
            for cb in self.callbacks:
                cb.on_train_begin(self)
            n_batches = -(-n // cfg.batch_size)
            epochs_bar = tqdm(total=cfg.epochs, desc="training", unit="epoch",
                              disable=not self.progress, mininterval=0.5)
            self._bars = [epochs_bar]
            for epoch in range(cfg.epochs):
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
                    if first_loss is None:
                        first_loss = max(loss, 1e-8)
                    if not math.isfinite(loss) or loss > cfg.diverge_factor * first_loss:
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
                result.history.append(record)
                last_good = net.get_params()
                epochs_bar.set_postfix(loss=f"{record['train_loss']:.4f}",
                                       acc=f"{record['train_accuracy']:.4f}", refresh=False)
                epochs_bar.update(1)
                for cb in self.callbacks:
                    cb.on_epoch_end(self, record)
            return result
        finally:
            for b in getattr(self, "_bars", []):
                b.close()
            for cb in self.callbacks:
                cb.on_train_end(self, result)
