"""Saved image models and the test sets they are scored on (``evaluate``, ``export``,
``browse``, ``draw``): opening a model file or a network of the original project, opening a
dataset with a model's options, and checking that the two fit."""

from __future__ import annotations

from common.config import ConfigError
from evo.policy_file import KIND as POLICY_KIND
from nn.data import load_dataset
from nn.data.dataset import Dataset
from nn.errors import ModelFileError
from nn.io import load_model
from nn.lague import load_lague
from nn.network import Network


def open_dataset(name: str, data_dir: str | None, seed: int, options: dict) -> Dataset:
    """Dataset ``name`` with a config's or a model's ``options``; an option the dataset does
    not take is one line naming it."""
    try:
        return load_dataset(name, data_dir=data_dir, seed=seed, **options)
    except TypeError as e:
        if "unexpected keyword" in str(e):
            key = str(e).rsplit(" ", 1)[-1].strip("'")
            raise ConfigError(f"data.options.{key}: not an option of dataset {name!r}") from None
        raise


def check_fits(net: Network, meta: dict, data: Dataset, model_path: str) -> None:
    """One line naming ``model_path`` where the network's inputs or outputs do not fit
    ``data``."""
    if not net.is_mlp and len(net.input_shape) == 3 and tuple(net.input_shape) != tuple(
            data.input_shape):
        raise ModelFileError(f"{model_path}: the model takes {'x'.join(map(str, net.input_shape))} "
                             f"images but dataset {data.name} has "
                             f"{'x'.join(map(str, data.input_shape))} inputs")
    if net.n_inputs != data.n_inputs:
        raise ModelFileError(f"{model_path}: the model takes {net.n_inputs} inputs but dataset "
                             f"{data.name} has {data.n_inputs} features")
    if net.n_outputs != data.n_classes:
        raise ModelFileError(f"{model_path}: the model has {net.n_outputs} outputs but dataset "
                             f"{data.name} has {data.n_classes} classes")


def open_model(path: str) -> tuple[Network, dict]:
    """A ``model.npz`` of ours, or a ``.json`` network of the original project."""
    if str(path).lower().endswith(".json"):
        return load_lague(path)
    return load_model(path)


def model_and_data(model_path: str, dataset: str | None, data_dir: str | None):
    """A saved model with the dataset it is tested on (its own unless ``dataset`` names
    another, loaded with the same options and split), checked to fit: ``(net, meta, data)``."""
    net, meta = open_model(model_path)
    if meta.get("kind") == POLICY_KIND:  # best.npz of evolve or reinforce
        by = "reinforce" if meta.get("trained_by") else "evolve"
        raise ConfigError(f"{model_path}: a policy of {meta.get('task', 'a control task')} "
                          f"(written by neuroevo {by}), not an image model: play it with "
                          f"neuroevo replay {model_path}")
    name = dataset or meta.get("dataset")
    if not name:
        raise ConfigError(f"{model_path}: the model does not say which dataset it was trained "
                          f"on; pass --dataset NAME")
    options = meta.get("data_options", {}) if name == meta.get("dataset") else {}
    seed = meta.get("train_config", {}).get("seed", 0)
    data = open_dataset(name, data_dir, seed, options)
    check_fits(net, meta, data, model_path)
    return net, meta, data
