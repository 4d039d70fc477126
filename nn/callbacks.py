"""Trainer callbacks that write files: metrics and timings as CSV, and the checkpoint that
lets an interrupted (or killed) run continue, all rewritten atomically after every epoch.

``train-checkpoint.npz`` holds arrays only (``np.load(..., allow_pickle=False)`` reads it):
the arrays of :meth:`nn.train.Trainer.state_dict` (parameters, input standardisation,
``optimizer/...``, ``history``, ``trainer``) and ``meta``, a 0-d JSON string::

    {"format": "neuroevo-train-checkpoint", "version": 1, "epoch": 12,
     "status": "running", "message": "", "config": "<the resolved config as YAML>", ...}

``status`` is "running" while training goes on, then "completed", "interrupted", "time"
(stopped by its time limit) or "diverged" (with ``message``, one line).  The arrays are
always those of the last finished epoch: a run interrupted or diverged mid-epoch keeps the
state that epoch started from.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from common.files import read_run_checkpoint, write_csv, write_npz
from nn.errors import ModelFileError
from nn.train import METRIC_COLUMNS, TIMING_COLUMNS, Callback

CHECKPOINT = "train-checkpoint.npz"
CHECKPOINT_FORMAT = "neuroevo-train-checkpoint"
CHECKPOINT_VERSION = 1


class MetricsCSV(Callback):
    """``metrics.csv`` (deterministic columns only) and ``timing.csv`` (wall time),
    rewritten after every epoch.  A resumed trainer's finished epochs are written again at
    the start (a kill may have left the tables an epoch ahead of the checkpoint)."""

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)
        self.rows: list[dict] = []

    def on_train_begin(self, trainer):
        self.rows = list(trainer.history)
        if self.rows:
            self._write()

    def on_epoch_end(self, trainer, record):
        self.rows.append(record)
        self._write()

    def _write(self):
        write_csv(self.out_dir / "metrics.csv", METRIC_COLUMNS, self.rows)
        write_csv(self.out_dir / "timing.csv", TIMING_COLUMNS, self.rows)


def write_checkpoint(path: str | os.PathLike, arrays: dict[str, np.ndarray],
                     meta: dict) -> None:
    """``arrays`` and the JSON ``meta`` (format and version added) into ``path``,
    atomically."""
    write_npz(path, arrays, {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                             **meta})


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """``(arrays, meta)`` of a training checkpoint; :class:`ModelFileError` (one line) for
    a missing, damaged, foreign or other-version file.  Never unpickles anything."""
    arrays, meta = read_run_checkpoint(path, "train", (CHECKPOINT_VERSION,), ModelFileError,
                                       what="training checkpoint", fmt=CHECKPOINT_FORMAT)
    for key, kind in (("epoch", int), ("status", str), ("config", str)):
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise ModelFileError(f"{path}: checkpoint metadata lacks a valid {key!r}")
    return arrays, meta


class TrainCheckpoint(Callback):
    """``train-checkpoint.npz``: the trainer's state when training starts and after every
    finished epoch (list it after :class:`MetricsCSV`: the checkpoint commits the epoch);
    at the end the same state again with the run's status.  ``info``: JSON metadata stored
    with it (the resolved config, the dataset...)."""

    def __init__(self, path: str | os.PathLike, info: dict):
        self.path = Path(path)
        self.info = dict(info)
        self._arrays: dict[str, np.ndarray] | None = None
        self._epoch = 0

    def _save(self, status: str, message: str = "") -> None:
        write_checkpoint(self.path, self._arrays, {**self.info, "epoch": self._epoch,
                                                   "status": status, "message": message})

    def on_train_begin(self, trainer):
        self._arrays, self._epoch = trainer.state_dict(), trainer.epoch
        self._save("running")

    def on_epoch_end(self, trainer, record):
        self._arrays, self._epoch = trainer.state_dict(), trainer.epoch
        self._save("running")

    def on_train_end(self, trainer, result):
        if self._arrays is not None:  # the last finished epoch's state, with the outcome
            self._save(result.status, result.message)
