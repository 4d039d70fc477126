"""The image datasets are registered and reached through load_dataset."""

from __future__ import annotations

import pytest

from nn.data import DATASETS, load_dataset
from nn.errors import DatasetError


def test_entries():
    for name in ("mnist", "fashion", "doodles", "cifar10", "fruit"):
        assert name in DATASETS


@pytest.mark.parametrize("name", ["mnist", "fashion", "doodles", "cifar10"])
def test_missing_is_a_one_line_dataset_error(tmp_path, name):
    with pytest.raises(DatasetError) as e:
        load_dataset(name, tmp_path)
    assert "\n" not in str(e.value) and str(tmp_path) in str(e.value)


def test_unknown_dataset():
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_dataset("imagenet")
