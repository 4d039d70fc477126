"""``neuroevo train`` and ``neuroevo evaluate``: classification by backpropagation."""

from __future__ import annotations

import json
import sys
import zlib
from dataclasses import asdict
from pathlib import Path

import numpy as np
import yaml

from common.config import ConfigError, build, load_config, named_config, parse_yaml, to_yaml
from common.errors import EXIT_INTERRUPTED, EXIT_USER_ERROR
from common.files import atomic_write_text
from common.interrupt import TimeLimit
from common.resources import shipped_file, shipped_names
from neuroevo.image_models import model_and_data, open_dataset, open_model
from neuroevo.runs import add_time_limit, claim_run_dir, lock_run_dir, run_dir
from nn.config import TrainRunConfig
from nn.data.dataset import Dataset
from nn.errors import ModelFileError
from nn.io import save_model
from nn.lague import export_lague, orient_inputs
from nn.network import Network
from nn.train import Trainer, loss_and_accuracy, split_validation

EVOLVED = ("cars", "walkers")  # shipped configs of `neuroevo evolve`


def config_command(name: str) -> str | None:
    """The command a shipped config ``name`` is for ("train", "evolve", "reinforce",
    "compare"), read from its top-level keys; None for no shipped config of that name."""
    path = shipped_file("", name)
    if path is None:
        return None
    keys = set(yaml.safe_load(path.read_text()) or {})
    if "data" in keys:
        return "train"
    if "pg" in keys or "total_steps" in keys:
        return "reinforce"
    if "task" in keys:
        return "evolve"
    return "compare"


def training_configs() -> list[str]:
    """The shipped configs `train` takes: datasets only."""
    return [n for n in shipped_names() if config_command(n) == "train"]


def resolve_config(dataset: str | None, config_file: str | None, overrides: list[str],
                   epochs: int | None = None, seed: int | None = None) -> TrainRunConfig:
    if config_file is None and dataset in EVOLVED:
        raise ConfigError(f"{dataset} are evolved, not trained on a dataset: "
                          f"neuroevo evolve {dataset}")
    if config_file is None and dataset is not None:
        other = config_command(dataset)
        if other not in (None, "train"):
            raise ConfigError(f"{dataset} is a config of neuroevo {other}, not a dataset "
                              f"(datasets: {', '.join(training_configs())})")
    path = Path(config_file) if config_file else named_config(dataset, training_configs(),
                                                              "dataset")
    options = [(f"{flag} {value}", f"train.{key}={value}") for flag, key, value in (
        ("--epochs", "epochs", epochs), ("--seed", "seed", seed)) if value is not None]
    return load_config(TrainRunConfig, path, list(overrides), options)


def build_network(cfg: TrainRunConfig, data: Dataset) -> Network:
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


# options that make a run what it is: --resume continues a run with its own
RESUME_REFUSES = (("config", "--config"), ("set", "--set"), ("seed", "--seed"),
                  ("out", "--out"), ("force", "--force"))


def train(args) -> int:
    lock = None  # the run folder's lock, held while this process writes it
    try:
        if args.resume:
            lock = lock_run_dir(args.resume)
            cfg, out, checkpoint = resume_config(args)
            name = checkpoint[1].get("dataset_arg") or cfg.data.name
        else:
            cfg = resolve_config(args.dataset, args.config, args.set, args.epochs, args.seed)
            name = args.dataset or cfg.data.name
            out = run_dir(args.out, name, force=args.force)  # refused before any work
            checkpoint = None
        data = open_dataset(cfg.data.name, args.data_dir, cfg.train.seed, cfg.data.options)
        augment = make_augmenter(cfg, data)
        if checkpoint is None:  # everything that can fail before training has passed
            lock = claim_run_dir(out, force=args.force)
        return _train(args, cfg, out, checkpoint, name, data, augment)
    finally:
        if lock is not None:
            lock.release()


def _train(args, cfg, out, checkpoint, name, data, augment) -> int:
    net = build_network(cfg, data)
    split_rng = np.random.default_rng(np.random.SeedSequence([cfg.train.seed, 1]))
    x_tr, y_tr, x_val, y_val = split_validation(data.x_train, data.y_train,
                                                cfg.train.validation_fraction, split_rng)
    if cfg.model.input_norm == "standardize":
        from nn.data.dataset import standardization

        net.set_input_norm(*standardization(x_tr, data.input_shape))
    from nn.callbacks import CHECKPOINT, MetricsCSV, TrainCheckpoint

    fingerprint = data_fingerprint(x_tr, y_tr, x_val, y_val)
    info = {"dataset": cfg.data.name, "dataset_arg": name, "config": to_yaml(cfg),
            "data": fingerprint}
    trainer = Trainer(net, cfg.train, augment=augment,
                      callbacks=[MetricsCSV(out), TrainCheckpoint(out / CHECKPOINT, info)],
                      progress=not args.quiet)
    trainer.time_limit = TimeLimit(args.time_limit)
    if checkpoint is not None:
        restore(trainer, checkpoint, fingerprint, out / CHECKPOINT)
        if trainer.epoch >= cfg.train.epochs:  # nothing left to train
            print(f"neuroevo: the run in {out} has already finished its {trainer.epoch} "
                  f"epochs (give --epochs N for a longer one); wrote its model.npz and "
                  f"pictures again", file=sys.stderr)
            return finish(args, cfg, out, net, data, trainer.history)
    atomic_write_text(out / "config.yaml", to_yaml(cfg))
    doing = (f"resuming at epoch {trainer.epoch + 1}/{cfg.train.epochs}: " if trainer.epoch
             else "training ")
    print(f"{doing}{net} on {data.name}: {len(x_tr)} train, {len(x_val)} validation, "
          f"{len(data.x_test)} test -> {out}", file=sys.stderr)
    result = trainer.fit(x_tr, y_tr, x_val if len(x_val) else None, y_val if len(y_val) else None)
    if result.status in ("interrupted", "time"):
        save_run_model(out, cfg, net, data, result.history)
        write_pictures(out, net, data, result.history)
        print(f"neuroevo: {result.message}; saved the model so far to {out / 'model.npz'}; "
              f"resume with --resume {out}", file=sys.stderr)
        return EXIT_INTERRUPTED if result.status == "interrupted" else 0
    if result.status == "diverged":
        save_run_model(out, cfg, net, data, result.history)
        write_pictures(out, net, data, result.history)
        print(f"neuroevo: error: {result.message} ({out / 'model.npz'})", file=sys.stderr)
        return EXIT_USER_ERROR
    return finish(args, cfg, out, net, data, result.history)


def resume_config(args):
    """``--resume DIR``: ``(config, run folder, (checkpoint arrays, metadata))`` of the run
    there, with ``--epochs`` as its new total; every refusal is one line."""
    from nn.callbacks import CHECKPOINT, read_checkpoint

    given = [flag for attr, flag in RESUME_REFUSES if getattr(args, attr, None)]
    if given:
        raise ConfigError(f"--resume continues a run with its own config: {', '.join(given)} "
                          f"cannot be given with it (only --epochs, a new total, may change; "
                          f"--data-dir, --time-limit and --quiet are allowed)")
    out = Path(args.resume)
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
    trained = meta.get("dataset_arg") or cfg.data.name
    if args.dataset not in (trained, cfg.data.name):
        raise ConfigError(f"--resume {out}: that run trains on {trained}, not {args.dataset} "
                          f"(neuroevo train {trained} --resume {out})")
    if meta["status"] == "diverged":
        raise ConfigError(f"--resume {out}: that run diverged and would again with the same "
                          f"config ({meta.get('message') or 'no message'}); start a new run "
                          f"with other settings")
    if args.epochs is not None:
        if args.epochs < meta["epoch"]:
            raise ConfigError(f"--epochs {args.epochs}: the run in {out} has already finished "
                              f"{meta['epoch']} epochs (--epochs is the new total)")
        raw["train"] = {**(raw.get("train") or {}), "epochs": args.epochs}
        cfg = build(TrainRunConfig, raw, f"--resume {out} --epochs {args.epochs}: ")
    return cfg, out, (arrays, meta)


def restore(trainer: Trainer, checkpoint, fingerprint: dict, path: Path) -> None:
    """Put ``trainer`` where the checkpoint left it, after checking that the data are the
    run's (same split, same numbers)."""
    arrays, meta = checkpoint
    if meta.get("data") != fingerprint:
        raise ConfigError(f"{path}: the training data differ from the ones the run used "
                          f"({describe_data(meta.get('data'))} then, "
                          f"{describe_data(fingerprint)} now); was another --data-dir given?")
    try:
        trainer.load_state_dict(arrays)
    except ValueError as e:
        raise ModelFileError(f"{path}: the checkpoint does not fit its run "
                             f"({str(e).splitlines()[0]})") from None
    if trainer.epoch != meta["epoch"]:
        raise ModelFileError(f"{path}: the checkpoint's epochs disagree ({meta['epoch']} in "
                             f"its metadata, {trainer.epoch} in its state)")


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


def save_run_model(out: Path, cfg: TrainRunConfig, net: Network, data: Dataset,
                   history: list[dict]) -> None:
    meta = dict(dataset=data.name, data_options=cfg.data.options,
                input_shape=list(data.input_shape), label_names=data.label_names,
                preprocessing=data.preprocessing, train_config=asdict(cfg.train),
                epochs_completed=len(history))
    save_model(out / "model.npz", net, **meta)


def finish(args, cfg: TrainRunConfig, out: Path, net: Network, data: Dataset,
           history: list[dict]) -> int:
    """A finished run: model.npz, the pictures, the summary and the test accuracy."""
    save_run_model(out, cfg, net, data, history)
    write_pictures(out, net, data, history)
    _, acc = loss_and_accuracy(net, data.x_test, data.y_test)
    if history:
        r = history[-1]
        total = sum(h["seconds"] for h in history)
        print(f"epochs: {r['epoch']}  train loss: {r['train_loss']:.4f}  "
              f"train accuracy: {r['train_accuracy']:.4f}  "
              f"validation accuracy: {r['val_accuracy']:.4f}  time: {total:.1f} s")
    print(f"model: {out / 'model.npz'}")
    if data.n_inputs == 2 and not args.quiet:
        show_map(net, data)
    print(f"test accuracy: {acc:.4f}")
    return 0


def write_pictures(out: Path, net: Network, data: Dataset, history: list[dict]) -> None:
    """curves.png, confusion.png, report.md; mistakes.png for images, boundary.png for 2-D."""
    from nn.plots import plot_boundary, plot_curves
    from nn.report import confusion_matrix, plot_confusion, plot_mistakes, write_report_md

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
        plot_boundary(net, data.x_test, data.y_test, data.label_names, out / "boundary.png",
                      feature_names=feats, title=f"{data.name}: test set and decision")
    extra = {"network": str(net), "epochs": str(len(history)),
             "training time": f"{sum(h['seconds'] for h in history):.1f} s"}
    pictures = [p for p in ("curves.png", "confusion.png", "mistakes.png", "boundary.png")
                if (out / p).exists()]
    write_report_md(out / "report.md", f"{data.name}", cm, data.label_names, extra,
                    tuple(pictures))


def show_map(net: Network, data: Dataset) -> None:
    from nn.textplot import POINT, REGION, decision_map

    feats = data.preprocessing.get("features", ("x0", "x1"))
    print(f"\n{feats[1]} (up) vs {feats[0]} (right); test points, capitals are mistakes")
    print(decision_map(net, data.x_test, data.y_test))
    legend = "  ".join(f"{POINT[k]} {name} (region '{REGION[k]}')"
                       for k, name in enumerate(data.label_names))
    print(legend)


def evaluate_cmd(args) -> int:
    from nn.report import confusion_matrix, per_class_accuracy

    net, meta, data = model_and_data(args.model, args.dataset, args.data_dir)
    x = orient_inputs(data.x_test, data.input_shape,
                      data.preprocessing.get("orientation", "top-down"),
                      meta.get("preprocessing", {}).get("orientation", "top-down"))
    pred = net.predict(x)
    cm = confusion_matrix(data.y_test, pred, data.n_classes)
    acc = float(np.trace(cm) / max(cm.sum(), 1))
    per_class = per_class_accuracy(cm)
    if args.json:
        print(json.dumps({"accuracy": acc,
                          "per_class": {k: float(a) for k, a in zip(data.label_names, per_class)},
                          "n": int(len(data.y_test))}))
        return 0
    print(f"test accuracy: {acc:.4f}")
    width = max(5, *(len(k) for k in data.label_names))
    print(f"{'class':<{width}}  {'n':>6}  accuracy")
    for k, n, a in zip(data.label_names, cm.sum(axis=1), per_class):
        print(f"{k:<{width}}  {int(n):>6}  {a:.4f}")
    return 0


def export_cmd(args) -> int:
    net, meta = open_model(args.model)
    if args.format != "lague-json":
        raise ConfigError(f"unknown export format {args.format!r} (known: lague-json)")
    export_lague(args.out, net, meta)
    print(f"wrote {args.out} ({args.format}, layers {net.describe()})")
    return 0


def add_commands(sub) -> None:
    """Register this module's subcommands with the ``neuroevo`` parser."""
    t = sub.add_parser("train", help="train a classifier by backpropagation",
                       description="Train a network on a dataset by backpropagation. DATASET names "
                       "a config in configs/ (fruit, fruit-curved, ...). Writes model.npz, "
                       "metrics.csv, timing.csv, curves.png and the resolved config.yaml to --out, "
                       "and train-checkpoint.npz after every epoch: --resume DIR continues a run "
                       "that was interrupted or killed, with the same results as an "
                       "uninterrupted one.")
    t.add_argument("dataset", metavar="DATASET", help="config name, e.g. fruit-curved")
    t.add_argument("--config", metavar="FILE", help="YAML config to use instead of "
                   "configs/DATASET.yaml")
    t.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="override a config value, e.g. --set train.lr=0.01 (repeatable)")
    t.add_argument("--epochs", type=int, metavar="N", help="shortcut for --set train.epochs=N")
    t.add_argument("--seed", type=int, metavar="N", help="shortcut for --set train.seed=N")
    t.add_argument("--out", metavar="DIR", help="run directory (default runs/DATASET-TIME); "
                   "refused if it already holds a run, unless --force")
    t.add_argument("--force", action="store_true", help="let --out name a folder that holds "
                   "a run: its files are removed first")
    t.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its last "
                   "finished epoch (with its own config; only --epochs, a new total, may change)")
    t.add_argument("--data-dir", metavar="DIR", help="where dataset files are (else "
                   "$NEUROEVO_DATA, then the cache)")
    add_time_limit(t, "epoch")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.set_defaults(func="neuroevo.commands.train:train")

    e = sub.add_parser("evaluate", help="test a saved model on a dataset",
                       description="Print the test accuracy and a per-class table of a saved "
                       "model.")
    e.add_argument("model", metavar="MODEL", help="a model.npz written by neuroevo train, or "
                   "a .json network saved by the original C# project")
    e.add_argument("--dataset", metavar="NAME", help="dataset to test on (default: the model's)")
    e.add_argument("--data-dir", metavar="DIR", help="where dataset files are")
    e.add_argument("--json", action="store_true", help="print one JSON object with keys "
                   "accuracy, per_class, n")
    e.set_defaults(func="neuroevo.commands.train:evaluate_cmd")

    x = sub.add_parser("export", help="write a model in another format",
                       description="Write a saved model in the JSON format of the original C# "
                       "project (SebLague/Neural-Network-Experiments). Image models are "
                       "written to take bottom-row-first pixels, as that project feeds them. "
                       "That format has dense layers only: convolutional models are refused.")
    x.add_argument("model", metavar="MODEL", help="a model.npz (or .json) to convert")
    x.add_argument("--format", default="lague-json", choices=["lague-json"],
                   help="output format (default lague-json)")
    x.add_argument("--out", metavar="FILE", required=True, help="file to write")
    x.set_defaults(func="neuroevo.commands.train:export_cmd")
