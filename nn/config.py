"""The schema of ``neuroevo train`` configs (``configs/mnist.yaml``, ``configs/fruit.yaml``...):
what to learn, with which network, and how.

Loaded strictly, like every config, by :func:`common.config.load_config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nn.train import TrainConfig


@dataclass(frozen=True)
class DataConfig:
    name: str = "fruit-curved"  # a dataset name: fruit, fruit-curved, mnist, fashion, ...
    options: dict = field(default_factory=dict)  # loader options, e.g. n_train, categories
    augment: dict = field(default_factory=dict)  # augmentation settings (image sets)

    def validate(self):
        return []


@dataclass(frozen=True)
class ModelConfig:
    hidden: list[int] = field(default_factory=lambda: [16])  # hidden layer widths
    hidden_activation: str = "relu"  # sigmoid, tanh, relu, silu
    output_activation: str = "softmax"  # softmax, sigmoid, tanh, identity ...
    loss: str = "cross_entropy"  # cross_entropy or mse
    dtype: str = "float32"  # float32 or float64
    input_norm: str = "none"  # "standardize": zero mean, unit variance inputs (per channel)
    # A layer list for convolutional networks (then `hidden` is not used), input to output,
    # e.g. [{conv: 32, kernel: 5, padding: same}, {pool: 2}, {dense: 128}, {dense: 10}];
    # kinds: conv (kernel, stride, padding, activation), pool, flatten, dropout, dense
    # (activation).  Activations default to hidden_activation, and to output_activation
    # for the last layer, which must be dense with one output per class.  Empty: an MLP.
    layers: list[dict] = field(default_factory=list)

    def resolved_layers(self) -> list[dict]:
        """``layers`` with every default filled in (:func:`nn.network.normalize_layers`)."""
        from nn.network import normalize_layers

        return normalize_layers(self.layers, self.hidden_activation, self.output_activation)

    def validate(self):
        from nn.activations import ACTIVATIONS
        from nn.losses import LOSSES

        bad = []
        if self.layers:
            try:
                if any("rnn" in spec for spec in self.resolved_layers()):
                    bad.append(("layers", "rnn layers run on sequences, which these data "
                                "sets are not (recurrent layers are for evolution "
                                "policies: policy.recurrent)"))
            except ValueError as e:
                bad.append(("layers", str(e)))
        if any(h < 1 for h in self.hidden):
            bad.append(("hidden", "every hidden width must be >= 1"))
        if self.hidden_activation not in ACTIVATIONS or self.hidden_activation == "softmax":
            bad.append(("hidden_activation", "must be one of sigmoid, tanh, relu, silu, identity"))
        if self.output_activation not in ACTIVATIONS:
            bad.append(("output_activation", f"must be one of {', '.join(ACTIVATIONS)}"))
        if self.loss not in LOSSES:
            bad.append(("loss", f"must be one of {', '.join(LOSSES)}"))
        elif self.loss == "cross_entropy" and self.output_activation not in ("softmax", "sigmoid"):
            bad.append(("loss", "cross_entropy needs output_activation softmax or sigmoid"))
        if self.dtype not in ("float32", "float64"):
            bad.append(("dtype", "must be float32 or float64"))
        if self.input_norm not in ("none", "standardize"):
            bad.append(("input_norm", "must be none or standardize"))
        return bad


@dataclass(frozen=True)
class TrainRunConfig:
    """``neuroevo train``: what to learn, with which network, and how."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
