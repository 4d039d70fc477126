"""``neuroevo train`` and ``neuroevo evaluate``: classification by backpropagation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import yaml

from common.config import ConfigError, load_config, named_config
from common.errors import EXIT_INTERRUPTED, EXIT_USER_ERROR
from common.interrupt import TimeLimit
from common.resources import shipped_file, shipped_names
from evo.kinds import WORLD_TASKS
from neuroevo.image_models import model_and_data, open_dataset, open_model
from neuroevo.runs import add_time_limit, claim_run_dir, lock_run_dir, run_dir
from nn.config import TrainRunConfig
from nn.data.dataset import Dataset
from nn.lague import export_lague, orient_inputs
from nn.network import Network
from nn.run import Checkpoint, TrainRun, make_augmenter, read_run
from nn.train import loss_and_accuracy

EVOLVED = WORLD_TASKS  # shipped configs of `neuroevo evolve`


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


# options that make a run what it is: --resume continues a run with its own
RESUME_REFUSES = (("config", "--config"), ("set", "--set"), ("seed", "--seed"),
                  ("out", "--out"), ("force", "--force"))


def train(args) -> int:
    lock = None  # the run folder's lock, held while this process writes it
    try:
        if args.resume:
            lock = lock_run_dir(args.resume)
            cfg, out, checkpoint = resume_config(args)
            name = checkpoint.dataset_arg
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
    run = TrainRun(cfg, data, out, name, augment=augment, progress=not args.quiet)
    if checkpoint is not None:
        run.resume(checkpoint)
        if run.finished:  # nothing left to train
            print(f"neuroevo: the run in {out} has already finished its {run.epoch} "
                  f"epochs (give --epochs N for a longer one); wrote its model.npz and "
                  f"pictures again", file=sys.stderr)
            return finish(args, run)
    doing = (f"resuming at epoch {run.epoch + 1}/{cfg.train.epochs}: " if run.epoch
             else "training ")
    print(f"{doing}{run.net} on {data.name}: {len(run.x_tr)} train, {len(run.x_val)} "
          f"validation, {len(data.x_test)} test -> {out}", file=sys.stderr)
    result = run.run(TimeLimit(args.time_limit))
    if result.status in ("interrupted", "time"):
        model = run.save_model()
        run.write_pictures()
        print(f"neuroevo: {result.message}; saved the model so far to {model}; "
              f"resume with --resume {out}", file=sys.stderr)
        return EXIT_INTERRUPTED if result.status == "interrupted" else 0
    if result.status == "diverged":
        model = run.save_model()
        run.write_pictures()
        print(f"neuroevo: error: {result.message} ({model})", file=sys.stderr)
        return EXIT_USER_ERROR
    return finish(args, run)


def resume_config(args) -> tuple[TrainRunConfig, Path, Checkpoint]:
    """``--resume DIR``: ``(config, run folder, checkpoint)`` of the run there, with
    ``--epochs`` as its new total; every refusal is one line."""
    given = [flag for attr, flag in RESUME_REFUSES if getattr(args, attr, None)]
    if given:
        raise ConfigError(f"--resume continues a run with its own config: {', '.join(given)} "
                          f"cannot be given with it (only --epochs, a new total, may change; "
                          f"--data-dir, --time-limit and --quiet are allowed)")
    out = Path(args.resume)
    checkpoint = read_run(out, args.epochs)
    trained = checkpoint.dataset_arg
    if args.dataset not in (trained, checkpoint.cfg.data.name):
        raise ConfigError(f"--resume {out}: that run trains on {trained}, not {args.dataset} "
                          f"(neuroevo train {trained} --resume {out})")
    return checkpoint.cfg, out, checkpoint


def finish(args, run: TrainRun) -> int:
    """A finished run: model.npz, the pictures, the summary and the test accuracy."""
    model = run.save_model()
    run.write_pictures()
    net, data, history = run.net, run.data, run.trainer.history
    _, acc = loss_and_accuracy(net, data.x_test, data.y_test)
    if history:
        r = history[-1]
        total = sum(h["seconds"] for h in history)
        print(f"epochs: {r['epoch']}  train loss: {r['train_loss']:.4f}  "
              f"train accuracy: {r['train_accuracy']:.4f}  "
              f"validation accuracy: {r['val_accuracy']:.4f}  time: {total:.1f} s")
    print(f"model: {model}")
    if data.n_inputs == 2 and not args.quiet:
        show_map(net, data)
    print(f"test accuracy: {acc:.4f}")
    return 0


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
