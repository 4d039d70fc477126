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


DATASETS: dict[str, Loader] = {
    "fruit": _fruit,
    "fruit-curved": _fruit_curved,
}


def load_dataset(name: str, data_dir=None, seed: int = 0, **options) -> Dataset:
    """Load the dataset called ``name`` (a key of :data:`DATASETS`)."""
    try:
        loader = DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise DatasetError(f"unknown dataset {name!r}; known: {known}") from None
    return loader(data_dir=data_dir, seed=seed, **options)
