"""``neuroevo train`` and ``neuroevo evaluate``: classification by backpropagation."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from evo.config import ConfigError, TrainRunConfig, load_config, named_config, to_yaml
from nn.data import load_dataset
from nn.data.dataset import Dataset
from nn.errors import ModelFileError
from nn.io import atomic_write_text, load_model, save_model
from nn.network import Network
from nn.train import Trainer, evaluate, split_validation

EXIT_INTERRUPTED = 130
EXIT_USER_ERROR = 2


def resolve_config(dataset: str | None, config_file: str | None, overrides: list[str],
                   epochs: int | None = None, seed: int | None = None) -> TrainRunConfig:
    path = Path(config_file) if config_file else named_config(dataset)
    overrides = list(overrides)
    if epochs is not None:
        overrides.append(f"train.epochs={epochs}")
    if seed is not None:
        overrides.append(f"train.seed={seed}")
    return load_config(TrainRunConfig, path, overrides)


def open_dataset(name: str, data_dir: str | None, seed: int, options: dict) -> Dataset:
    try:
        return load_dataset(name, data_dir=data_dir, seed=seed, **options)
    except TypeError as e:
        if "unexpected keyword" in str(e):
            key = str(e).rsplit(" ", 1)[-1].strip("'")
            raise ConfigError(f"data.options.{key}: not an option of dataset {name!r}") from None
        raise


def build_network(cfg: TrainRunConfig, data: Dataset) -> Network:
    m = cfg.model
    sizes = [data.n_inputs, *m.hidden, data.n_classes]
    acts = [m.hidden_activation] * len(m.hidden) + [m.output_activation]
    rng = np.random.default_rng(np.random.SeedSequence(cfg.train.seed).spawn(2)[0])
    return Network(sizes, acts, loss=m.loss, dtype=np.dtype(m.dtype), rng=rng)


def make_augmenter(cfg: TrainRunConfig, data: Dataset):
    if not cfg.data.augment:
        return None
    from nn.data.augment import Augmenter

    try:
        aug = Augmenter.from_config(cfg.data.augment, data.input_shape)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"data.augment: {e}") from None
    return aug if aug.enabled else None


def default_out(name: str) -> Path:
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def train(args) -> int:
    cfg = resolve_config(args.dataset, args.config, args.set, args.epochs, args.seed)
    data = open_dataset(cfg.data.name, args.data_dir, cfg.train.seed, cfg.data.options)
    out = Path(args.out) if args.out else default_out(args.dataset or cfg.data.name)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "config.yaml", to_yaml(cfg))

    net = build_network(cfg, data)
    split_rng = np.random.default_rng(np.random.SeedSequence([cfg.train.seed, 1]))
    x_tr, y_tr, x_val, y_val = split_validation(data.x_train, data.y_train,
                                                cfg.train.validation_fraction, split_rng)
    from nn.callbacks import MetricsCSV

    trainer = Trainer(net, cfg.train, augment=make_augmenter(cfg, data),
                      callbacks=[MetricsCSV(out)], progress=not args.quiet)
    print(f"training {net} on {data.name}: {len(x_tr)} train, {len(x_val)} validation, "
          f"{len(data.x_test)} test -> {out}", file=sys.stderr)
    result = trainer.fit(x_tr, y_tr, x_val if len(x_val) else None, y_val if len(y_val) else None)

    meta = dict(dataset=data.name, data_options=cfg.data.options,
                input_shape=list(data.input_shape), label_names=data.label_names,
                preprocessing=data.preprocessing, train_config=asdict(cfg.train),
                epochs_completed=len(result.history))
    save_model(out / "model.npz", net, **meta)
    write_pictures(out, net, data, result.history)
    if result.status == "interrupted":
        print(f"neuroevo: {result.message}; saved the model so far to {out / 'model.npz'}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if result.status == "diverged":
        print(f"neuroevo: error: {result.message} ({out / 'model.npz'})", file=sys.stderr)
        return EXIT_USER_ERROR
    _, acc = evaluate(net, data.x_test, data.y_test)
    if result.history:
        r = result.history[-1]
        total = sum(h["seconds"] for h in result.history)
        print(f"epochs: {r['epoch']}  train loss: {r['train_loss']:.4f}  "
              f"train accuracy: {r['train_accuracy']:.4f}  "
              f"validation accuracy: {r['val_accuracy']:.4f}  time: {total:.1f} s")
    print(f"model: {out / 'model.npz'}")
    if data.n_inputs == 2 and not args.quiet:
        show_map(net, data)
    print(f"test accuracy: {acc:.4f}")
    return 0


def write_pictures(out: Path, net: Network, data: Dataset, history: list[dict]) -> None:
    from nn.plots import plot_boundary, plot_curves

    if history:
        plot_curves(history, out / "curves.png", title=f"{data.name}: {net}")
    if data.n_inputs == 2:
        feats = tuple(data.preprocessing.get("features", ("x0", "x1")))
        plot_boundary(net, data.x_test, data.y_test, data.label_names, out / "boundary.png",
                      feature_names=feats, title=f"{data.name}: test set and decision")


def show_map(net: Network, data: Dataset) -> None:
    from nn.textplot import POINT, REGION, decision_map

    feats = data.preprocessing.get("features", ("x0", "x1"))
    print(f"\n{feats[1]} (up) vs {feats[0]} (right); test points, capitals are mistakes")
    print(decision_map(net, data.x_test, data.y_test))
    legend = "  ".join(f"{POINT[k]} {name} (region '{REGION[k]}')"
                       for k, name in enumerate(data.label_names))
    print(legend)


def check_fits(net: Network, meta: dict, data: Dataset, model_path: str) -> None:
    if net.n_inputs != data.n_inputs:
        raise ModelFileError(f"{model_path}: the model takes {net.n_inputs} inputs but dataset "
                             f"{data.name} has {data.n_inputs} features")
    if net.n_outputs != data.n_classes:
        raise ModelFileError(f"{model_path}: the model has {net.n_outputs} outputs but dataset "
                             f"{data.name} has {data.n_classes} classes")


def per_class_accuracy(pred: np.ndarray, y: np.ndarray, names: list[str]) -> dict:
    table = {}
    for k, name in enumerate(names):
        sel = y == k
        n = int(sel.sum())
        table[name] = {"n": n, "accuracy": float((pred[sel] == k).mean()) if n else float("nan")}
    return table


def evaluate_cmd(args) -> int:
    net, meta = load_model(args.model)
    name = args.dataset or meta.get("dataset")
    if not name:
        raise ConfigError(f"{args.model}: the model does not say which dataset it was trained "
                          f"on; pass --dataset NAME")
    options = meta.get("data_options", {}) if name == meta.get("dataset") else {}
    seed = meta.get("train_config", {}).get("seed", 0)
    data = open_dataset(name, args.data_dir, seed, options)
    check_fits(net, meta, data, args.model)
    pred = net.predict(data.x_test)
    acc = float((pred == data.y_test).mean())
    table = per_class_accuracy(pred, data.y_test, data.label_names)
    if args.json:
        print(json.dumps({"accuracy": acc, "per_class": {k: v["accuracy"] for k, v in
                                                         table.items()},
                          "n": int(len(data.y_test))}))
        return 0
    print(f"test accuracy: {acc:.4f}")
    width = max(5, *(len(k) for k in table))
    print(f"{'class':<{width}}  {'n':>6}  accuracy")
    for k, v in table.items():
        print(f"{k:<{width}}  {v['n']:>6}  {v['accuracy']:.4f}")
    return 0
