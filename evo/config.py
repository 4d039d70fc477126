"""Typed, strict configuration: YAML -> frozen dataclasses.

Unknown keys, wrong types and impossible values raise :class:`ConfigError` with one line
naming the file and the key.  ``--set a.b=value`` overrides are parsed as YAML scalars
and checked exactly like values from the file.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from nn.train import TrainConfig

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


class ConfigError(ValueError):
    """A config file or override is malformed (user error, exit status 2)."""


# -- schemas -----------------------------------------------------------------------------
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

    def validate(self):
        from nn.activations import ACTIVATIONS
        from nn.losses import LOSSES

        bad = []
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


# -- generic strict loading ----------------------------------------------------------------
def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp, where: str) -> Any:
    """Check ``value`` against the annotation ``tp``; return it (ints widen to float)."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{where}: invalid value {value!r}")
    if dataclasses.is_dataclass(tp):
        return build(tp, value, where)
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {_describe(value)}")
        return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if tp is dict or origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {_describe(value)}")
        return dict(value)
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {_describe(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {_describe(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {_describe(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {_describe(value)}")
        return value
    raise TypeError(f"unsupported config type {_type_name(tp)} at {where}")


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {value!r}"


def build(cls, data: Any, where: str):
    """Build dataclass ``cls`` from a mapping, strictly.  ``where`` prefixes errors,
    e.g. ``"configs/mnist.yaml: train"``."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {_describe(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    sep = "." if not where.endswith(": ") else ""
    for key in data:
        if key not in fields:
            raise ConfigError(f"{where}{sep}{key}: unknown key (known: {', '.join(fields)})")
    kwargs = {k: _coerce(v, hints[k], f"{where}{sep}{k}") for k, v in data.items()}
    try:
        obj = cls(**kwargs)
    except ValueError as e:  # a library dataclass that checks itself in __post_init__
        raise ConfigError(f"{where.rstrip(': ')}: {str(e).splitlines()[0]}") from None
    for key, problem in getattr(obj, "validate", lambda: [])():
        raise ConfigError(f"{where}{sep}{key}: {problem} (got {getattr(obj, key)!r})")
    return obj


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read config ({e})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{path}: malformed YAML{at}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {_describe(data)}")
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.lr=0.1"`` -> ``(["train", "lr"], 0.1)``; values are YAML scalars/lists."""
    if "=" not in text:
        raise ConfigError(f"--set {text}: expected KEY=VALUE, e.g. train.lr=0.01")
    key, _, raw = text.partition("=")
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"--set {text}: malformed key {key!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def _schema_has(cls, parts: list[str]) -> bool:
    for i, part in enumerate(parts):
        if not dataclasses.is_dataclass(cls):
            # free-form mapping (e.g. data.options): anything below it is allowed
            return i > 0 and cls in (dict,)
        hints = typing.get_type_hints(cls)
        if part not in hints:
            return False
        cls = hints[part]
        if typing.get_origin(cls) is dict:
            cls = dict
    return True


def apply_overrides(cls, raw: dict, overrides: list[str]) -> dict:
    """Return a copy of ``raw`` with each ``KEY=VALUE`` set; unknown keys are errors."""
    import copy

    raw = copy.deepcopy(raw)
    for text in overrides:
        parts, value = parse_override(text)
        if not _schema_has(cls, parts):
            raise ConfigError(f"--set {text}: unknown key {'.'.join(parts)!r}")
        node = raw
        for part in parts[:-1]:
            if node.get(part) is None:
                node[part] = {}
            elif not isinstance(node[part], dict):
                raise ConfigError(f"--set {text}: {part!r} is not a mapping")
            node = node[part]
        node[parts[-1]] = value
    return raw


def load_config(cls, path: str | Path | None, overrides: list[str] = ()):
    """Load ``cls`` from a YAML file (or defaults when ``path`` is None) plus overrides."""
    raw = read_yaml(path) if path is not None else {}
    where = f"{path}: " if path is not None else "config: "
    build(cls, raw, where)  # errors in the file itself name the file
    if overrides:
        raw = apply_overrides(cls, raw, list(overrides))
        where = f"{path or 'config'} with --set {' '.join(overrides)}: "
    return build(cls, raw, where)


def to_yaml(cfg) -> str:
    return yaml.safe_dump(dataclasses.asdict(cfg), sort_keys=False, default_flow_style=None)


def named_config(name: str) -> Path:
    """``configs/NAME.yaml`` for a dataset or task name."""
    path = CONFIG_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))
        raise ConfigError(f"no config named {name!r} in {CONFIG_DIR} (known: {', '.join(known)})")
    return path

