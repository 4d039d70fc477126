"""One training run in a folder (``neuroevo train``): the network and data split of a
config, the trainer with its checkpoint, resuming, and what a run leaves behind.

The same lifecycle shape as evolution's :class:`evo.run.EvolutionRun` and policy
gradients' :class:`rl.run.ReinforceRun`: build from a config and a folder, ``resume`` from
the folder's checkpoint, ``run`` to the end (or to Ctrl-C, the time limit, divergence),
then the files: ``model.npz``, the pictures, ``report.md``.  The command around it parses
options and prints.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import yaml

from common.config import ConfigError, build, parse_yaml, to_yaml
from common.files import atomic_write_text
from nn.config import TrainRunConfig
from nn.data.dataset import Dataset
from nn.errors import ModelFileError
from nn.io import save_model
from nn.network import Network
from nn.train import Trainer, TrainResult, split_validation


def build_network(cfg: TrainRunConfig, data: Dataset) -> Network:
    """The config's network for ``data``'s inputs and classes, initialised from the seed."""
    m = cfg.model
    rng = np.random.default_rng(np.random.SeedSequence(cfg.train.seed).spawn(2)[0])
    if m.layers:
        layers = m.resolved_layers()
        if layers[-1]["dense"] != data.n_classes:
            raise ConfigError(f"model.layers: the last layer has {layers[-1]['dense']} "
                              f"outputs but dataset {data.name} has {data.n_classes} classes")
        try:
            return Network(layers=layers, input_shape=data.input_shape, loss=m.loss,
                           dtype=np.dtype(m.dtype), rng=rng)
        except ValueError as e:
            raise ConfigError(f"model.{str(e).splitlines()[0]} (dataset {data.name}: inputs "
                              f"of shape {'x'.join(map(str, data.input_shape))})") from None
    sizes = [data.n_inputs, *m.hidden, data.n_classes]
    acts = [m.hidden_activation] * len(m.hidden) + [m.output_activation]
    return Network(sizes, acts, loss=m.loss, dtype=np.dtype(m.dtype), rng=rng)


def make_augmenter(cfg: TrainRunConfig, data: Dataset):
    """The configured augmentation, or None.  ``data.augment`` is a mapping of
    :class:`nn.data.augment.AugmentConfig` fields or ``{preset: NAME}``."""
    if not cfg.data.augment:
        return None
    from nn.data.augment import Augmenter
    from nn.errors import NNError

    spec = dict(cfg.data.augment)
    try:
        aug = Augmenter(spec["preset"] if set(spec) == {"preset"} else spec, data.input_shape)
    except NNError as e:
        raise ConfigError(f"data.{e}") from None
    return aug if aug.enabled else None


def data_fingerprint(x_tr, y_tr, x_val, y_val) -> dict:
    """Sizes and a CRC of the split a run trains on: a resumed run checks it has the same."""
    crc = 0
    for a in (x_tr, y_tr, x_val, y_val):
        crc = zlib.crc32(np.ascontiguousarray(a).data.cast("B"), crc)
    return {"n_train": len(x_tr), "n_val": len(x_val), "crc32": crc}


def describe_data(fp) -> str:
    if not isinstance(fp, dict):
        return "unknown"
    return (f"{fp.get('n_train')} train + {fp.get('n_val')} validation samples, "
            f"CRC {fp.get('crc32')}")


@dataclass(frozen=True)
class Checkpoint:
    """A training run's checkpoint as read back: its arrays and metadata, and its config
    (with a new total of epochs where one was asked for)."""

    cfg: TrainRunConfig
    arrays: dict
    meta: dict

    @property
    def dataset_arg(self) -> str:
        """The dataset name the run was started with (a config name may differ from the
        dataset it loads)."""
        return self.meta.get("dataset_arg") or self.cfg.data.name


def read_run(out: str | Path, epochs: int | None = None) -> Checkpoint:
    """The checkpoint of the training run in ``out``, checked: one line for a folder with
    no training run, a checkpoint whose config is not valid, a diverged run (it would
    diverge again) or ``epochs`` (a new total) below what the run has done."""
    from nn.callbacks import CHECKPOINT, read_checkpoint

    out = Path(out)
    path = out / CHECKPOINT
    if not path.is_file():
        other = " (it holds an evolve run)" if (out / "checkpoint.npz").is_file() else ""
        raise ConfigError(f"--resume {out}: no training run to resume there (no "
                          f"{CHECKPOINT}){other}")
    arrays, meta = read_checkpoint(path)
    try:
        raw = parse_yaml(meta["config"])
        cfg = build(TrainRunConfig, raw, f"{path}: config")
    except (ConfigError, yaml.YAMLError) as e:
        raise ModelFileError(f"{path}: the checkpoint's config is not valid "
                             f"({str(e).splitlines()[0]})") from None
    if meta["status"] == "diverged":
        raise ConfigError(f"--resume {out}: that run diverged and would again with the same "
                          f"config ({meta.get('message') or 'no message'}); start a new run "
                          f"with other settings")
    if epochs is not None:
        if epochs < meta["epoch"]:
            raise ConfigError(f"--epochs {epochs}: the run in {out} has already finished "
                              f"{meta['epoch']} epochs (--epochs is the new total)")
        raw["train"] = {**(raw.get("train") or {}), "epochs": epochs}
        cfg = build(TrainRunConfig, raw, f"--resume {out} --epochs {epochs}: ")
    return Checkpoint(cfg, arrays, meta)


class TrainRun:
    """The network, split and trainer of ``cfg`` on ``data``, writing into ``out``
    (``metrics.csv``, ``timing.csv``, the checkpoint after every epoch).  ``name``: the
    dataset as the user named it (kept for ``--resume``)."""

    def __init__(self, cfg: TrainRunConfig, data: Dataset, out: str | Path, name: str,
                 augment=None, progress: bool = True):
        from nn.callbacks import CHECKPOINT, MetricsCSV, TrainCheckpoint

        self.cfg, self.data, self.out, self.name = cfg, data, Path(out), name
        self.net = build_network(cfg, data)
        split_rng = np.random.default_rng(np.random.SeedSequence([cfg.train.seed, 1]))
        self.x_tr, self.y_tr, self.x_val, self.y_val = split_validation(
            data.x_train, data.y_train, cfg.train.validation_fraction, split_rng)
        if cfg.model.input_norm == "standardize":
            from nn.data.dataset import standardization

            self.net.set_input_norm(*standardization(self.x_tr, data.input_shape))
        self.fingerprint = data_fingerprint(self.x_tr, self.y_tr, self.x_val, self.y_val)
        self.checkpoint_path = self.out / CHECKPOINT
        info = {"dataset": cfg.data.name, "dataset_arg": name, "config": to_yaml(cfg),
                "data": self.fingerprint}
        self.trainer = Trainer(self.net, cfg.train, augment=augment,
                               callbacks=[MetricsCSV(self.out),
                                          TrainCheckpoint(self.checkpoint_path, info)],
                               progress=progress)

    @property
    def epoch(self) -> int:
        return self.trainer.epoch

    @property
    def finished(self) -> bool:
        return self.trainer.epoch >= self.cfg.train.epochs

    def resume(self, checkpoint: Checkpoint) -> None:
        """Continue from ``checkpoint`` (:func:`read_run`), after checking that the data
        are the run's (same split, same numbers)."""
        path = self.checkpoint_path
        if checkpoint.meta.get("data") != self.fingerprint:
            raise ConfigError(f"{path}: the training data differ from the ones the run used "
                              f"({describe_data(checkpoint.meta.get('data'))} then, "
                              f"{describe_data(self.fingerprint)} now); was another "
                              f"--data-dir given?")
        try:
            self.trainer.load_state_dict(checkpoint.arrays)
        except ValueError as e:
            raise ModelFileError(f"{path}: the checkpoint does not fit its run "
                                 f"({str(e).splitlines()[0]})") from None
        if self.trainer.epoch != checkpoint.meta["epoch"]:
            raise ModelFileError(f"{path}: the checkpoint's epochs disagree "
                                 f"({checkpoint.meta['epoch']} in its metadata, "
                                 f"{self.trainer.epoch} in its state)")

    def run(self, time_limit=None) -> TrainResult:
        """Train to the config's epochs (or Ctrl-C, ``time_limit``, divergence: the
        result's status says which); ``config.yaml`` first."""
        if time_limit is not None:
            self.trainer.time_limit = time_limit
        atomic_write_text(self.out / "config.yaml", to_yaml(self.cfg))
        val = (self.x_val, self.y_val) if len(self.x_val) else (None, None)
        return self.trainer.fit(self.x_tr, self.y_tr, *val)

    def save_model(self) -> Path:
        """``model.npz``: the network with its dataset, preprocessing and training config."""
        data, cfg = self.data, self.cfg
        meta = dict(dataset=data.name, data_options=cfg.data.options,
                    input_shape=list(data.input_shape), label_names=data.label_names,
                    preprocessing=data.preprocessing, train_config=asdict(cfg.train),
                    epochs_completed=len(self.trainer.history))
        save_model(self.out / "model.npz", self.net, **meta)
        return self.out / "model.npz"

    def write_pictures(self) -> None:
        """curves.png, confusion.png, report.md; mistakes.png for images, boundary.png for
        2-D inputs."""
        from nn.plots import plot_boundary, plot_curves
        from nn.report import confusion_matrix, plot_confusion, plot_mistakes, write_report_md

        net, data, out, history = self.net, self.data, self.out, self.trainer.history
        if history:
            name = str(net) if net.is_mlp else f"{net.describe()}, {net.num_params:,} params"
            plot_curves(history, out / "curves.png", title=f"{data.name}: {name}")
        pred = net.predict(data.x_test)
        cm = confusion_matrix(data.y_test, pred, data.n_classes)
        plot_confusion(cm, data.label_names, out / "confusion.png", title=f"{data.name} (test)")
        if data.is_image:
            plot_mistakes(data.x_test, data.y_test, pred, data.label_names, data.input_shape,
                          out / "mistakes.png")
        if data.n_inputs == 2:
            feats = tuple(data.preprocessing.get("features", ("x0", "x1")))
            plot_boundary(net, data.x_test, data.y_test, data.label_names,
                          out / "boundary.png", feature_names=feats,
                          title=f"{data.name}: test set and decision")
        extra = {"network": str(net), "epochs": str(len(history)),
                 "training time": f"{sum(h['seconds'] for h in history):.1f} s"}
        pictures = [p for p in ("curves.png", "confusion.png", "mistakes.png", "boundary.png")
                    if (out / p).exists()]
        write_report_md(out / "report.md", f"{data.name}", cm, data.label_names, extra,
                        tuple(pictures))
