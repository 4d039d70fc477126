"""Dataset names -> loader functions.

Every loader is called as ``loader(data_dir=None, seed=0, **options)`` and returns a
:class:`nn.data.dataset.Dataset`. Options come from the ``data:`` section of a config.
User-caused failures raise :class:`nn.errors.DatasetError`.
"""

from __future__ import annotations

from collections.abc import Callable

from nn.data.dataset import Dataset
from nn.errors import DatasetError

Loader = Callable[..., Dataset]


def _fruit(data_dir=None, seed=0, **options) -> Dataset:
    from nn.data.fruit import load_fruit

    return load_fruit(curved=False, seed=seed, **options)


def _fruit_curved(data_dir=None, seed=0, **options) -> Dataset:
    from nn.data.fruit import load_fruit

    return load_fruit(curved=True, seed=seed, **options)


def _mnist(data_dir=None, seed=0, **options) -> Dataset:
    from nn.data.mnist import load_mnist

    return load_mnist(data_dir=data_dir, seed=seed, **options)


def _fashion(data_dir=None, seed=0, **options) -> Dataset:
    from nn.data.mnist import load_fashion

    return load_fashion(data_dir=data_dir, seed=seed, **options)


def _doodles(data_dir=None, seed=0, **options) -> Dataset:
    from nn.data.quickdraw import load_doodles_option_dict

    return load_doodles_option_dict(data_dir=data_dir, seed=seed, **options)


def _cifar10(data_dir=None, seed=0, **options) -> Dataset:
    from nn.data.cifar10 import load_cifar10_options

    return load_cifar10_options(data_dir=data_dir, seed=seed, **options)


DATASETS: dict[str, Loader] = {
    "fruit": _fruit,
    "fruit-curved": _fruit_curved,
    "mnist": _mnist,
    "fashion": _fashion,
    "doodles": _doodles,
    "cifar10": _cifar10,
}


def load_dataset(name: str, data_dir=None, seed: int = 0, **options) -> Dataset:
    """Load the dataset called ``name`` (a key of :data:`DATASETS`)."""
    try:
        loader = DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise DatasetError(f"unknown dataset {name!r}; known: {known}") from None
    return loader(data_dir=data_dir, seed=seed, **options)
