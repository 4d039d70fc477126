"""The in-memory dataset every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Dataset:
    """A labelled classification set, already split into train and test.

    Inputs are float32, flattened, batch-first; images are scaled to [0, 1].
    """

    name: str
    x_train: np.ndarray  # (N, D) float32
    y_train: np.ndarray  # (N,) int64 class indices
    x_test: np.ndarray  # (M, D) float32
    y_test: np.ndarray  # (M,) int64
    label_names: list[str]
    input_shape: tuple[int, ...]  # (D,) for tabular data, (H, W, C) for images
    # how raw pixels became x: {"scale": "0-1", "orientation": "top-down", ...}
    preprocessing: dict = field(default_factory=dict)

    @property
    def n_inputs(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    @property
    def is_image(self) -> bool:
        return len(self.input_shape) == 3

    def __post_init__(self) -> None:
        splits = (("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test))
        for split, x, y in splits:
            if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
                raise ValueError(f"{self.name} {split}: x {x.shape} and y {y.shape} do not match")
        if int(np.prod(self.input_shape)) != self.x_train.shape[1]:
            raise ValueError(f"{self.name}: input_shape {self.input_shape} does not fit "
                             f"{self.x_train.shape[1]} features")


def standardization(x: np.ndarray, input_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``(shift, scale)`` per input feature that give zero mean and unit variance: per
    channel for images ``(H, W, C)`` (so blank borders stay defined), per feature otherwise."""
    x = np.asarray(x, np.float64)
    if len(input_shape) == 3:
        c = input_shape[2]
        per = x.reshape(len(x), -1, c)  # (N, H*W, C)
        mean, std = per.mean(axis=(0, 1)), per.std(axis=(0, 1))
        reps = x.shape[1] // c
        mean, std = np.tile(mean, reps), np.tile(std, reps)  # HWC order
    else:
        mean, std = x.mean(axis=0), x.std(axis=0)
    return mean, 1.0 / np.maximum(std, 1e-3)
