"""Losses, each defined beside its gradient.

A loss sees the network output ``a`` of shape ``(B, n)`` and targets ``y`` of the same
shape (one-hot for classes) and returns the mean over the batch of the per-sample loss.
``grad(a, y)`` is ``dL/da`` for that mean.  ``fused_delta`` gives ``dL/dz`` directly for
output activations where the product simplifies (softmax or sigmoid with cross-entropy:
``(a - y) / B``), which is both faster and numerically safer.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


class Loss:
    name: str = ""

    def value(self, a: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def grad(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fused_delta(self, activation_name: str, a: np.ndarray, y: np.ndarray,
                    out: np.ndarray | None = None) -> np.ndarray | None:
        """``dL/dz`` for the output layer if it has a fused form, else None."""
        return None


class MSE(Loss):
    """L = 1/(2B) * sum (a - y)^2;  dL/da = (a - y) / B."""

    name = "mse"

    def value(self, a, y):
        d = a - y
        return float(0.5 * np.einsum("bi,bi->", d, d) / len(a))

    def grad(self, a, y):
        return (a - y) / len(a)


class CrossEntropy(Loss):
    """Categorical cross-entropy for probability outputs (softmax or sigmoid).

    L = -1/B * sum y * ln(a);  dL/da = -y / (B a).
    Fused with softmax: dL/dz = (a - y) / B.
    With sigmoid outputs the loss is the per-output binary cross-entropy
    L = -1/B * sum [y ln a + (1 - y) ln(1 - a)], whose fused gradient is also (a - y) / B.
    """

    name = "cross_entropy"

    def __init__(self, binary: bool = False):
        self.binary = binary

    def value(self, a, y):
        a = np.clip(a, _EPS, 1.0)
        if self.binary:
            b = np.clip(1.0 - a, _EPS, 1.0)
            return float(-(np.sum(y * np.log(a)) + np.sum((1 - y) * np.log(b))) / len(a))
        return float(-np.sum(y * np.log(a)) / len(a))

    def grad(self, a, y):
        a = np.clip(a, _EPS, 1.0)
        if self.binary:
            b = np.clip(1.0 - a, _EPS, 1.0)
            return (-y / a + (1 - y) / b) / len(a)
        return -y / a / len(a)

    def fused_delta(self, activation_name, a, y, out=None):
        if (activation_name == "softmax" and not self.binary) or (
                activation_name == "sigmoid" and self.binary):
            out = np.subtract(a, y, out=out)
            out *= 1.0 / len(a)
            return out
        return None


LOSSES = ("mse", "cross_entropy")


def get_loss(name: str, output_activation: str) -> Loss:
    """The loss called ``name`` as it pairs with the output activation."""
    if name == "mse":
        return MSE()
    if name == "cross_entropy":
        if output_activation == "softmax":
            return CrossEntropy(binary=False)
        if output_activation == "sigmoid":
            return CrossEntropy(binary=True)
        raise ValueError("cross_entropy needs probability outputs: set the output "
                         f"activation to softmax or sigmoid (not {output_activation})")
    raise ValueError(f"unknown loss {name!r}; choose from {', '.join(LOSSES)}")
