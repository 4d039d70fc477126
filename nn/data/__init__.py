"""Datasets: loaders, download and cache, augmentation."""

from nn.data.dataset import Dataset
from nn.data.registry import DATASETS, load_dataset

__all__ = ["DATASETS", "Dataset", "load_dataset"]
