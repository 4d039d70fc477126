"""The one strict YAML loader: every file the project reads (configs, tracks, creatures).

Files are read with a ``yaml.SafeLoader`` only (:func:`read_yaml`, :func:`parse_yaml`) that
also reads every number people write as one (``1e-3``, ``1E3``, ``.5``, ``5.``; PyYAML's
YAML 1.1 rules read ``1e-3`` as a string).  Configs become frozen
dataclasses (:func:`build`, :func:`load_config`): unknown keys, wrong types and impossible
values (a schema's ``validate()``) raise :class:`ConfigError` with one line naming the file
and the key; ``--set a.b=value`` overrides are parsed as YAML scalars and checked exactly
like values from the file.  Files with a free-form structure (tracks, creatures) check
their keys and values with :func:`check_keys` and the ``as_*`` readers, which raise the
same error.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from pathlib import Path
from typing import Any, Union

import yaml

from common.errors import UserError
from common.resources import shipped_dir, shipped_file, shipped_names

CONFIG_DIR = shipped_dir()  # the shipped run configs (common.resources finds them)


class ConfigError(UserError):
    """A config file or override is malformed (user error, exit status 2)."""


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose floats follow YAML 1.2: ``1e-3`` and ``1E3`` are numbers."""


_FLOAT = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
                     |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                     |[-+]?\.(?:inf|Inf|INF)
                     |\.(?:nan|NaN|NAN))$""", re.X)
_Loader.yaml_implicit_resolvers = {k: list(v) for k, v in
                                   yaml.SafeLoader.yaml_implicit_resolvers.items()}
for _first in "-+0123456789.":
    _Loader.yaml_implicit_resolvers[_first] = [
        (tag, rx) for tag, rx in _Loader.yaml_implicit_resolvers.get(_first, [])
        if tag != "tag:yaml.org,2002:float"]
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
# ints are tried first, so "12" stays an int and only what is not an int becomes a float
for _first in "-+0123456789":
    _Loader.yaml_implicit_resolvers[_first].sort(key=lambda r: r[0] != "tag:yaml.org,2002:int")


def parse_yaml(text: str):
    """YAML text -> Python data, safely (no objects), with YAML 1.2 numbers."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


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
        if not math.isfinite(value):
            raise ConfigError(f"{where}: expected a finite number, got {value}")
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
            hint = did_you_mean(str(key), fields)
            raise ConfigError(f"{where}{sep}{key}: unknown key{hint} (known: "
                              f"{', '.join(fields)})")
    kwargs = {k: _coerce(v, hints[k], f"{where}{sep}{k}") for k, v in data.items()}
    try:
        obj = cls(**kwargs)
    except ValueError as e:  # a library dataclass that checks itself in __post_init__
        raise ConfigError(f"{where.rstrip(': ')}: {str(e).splitlines()[0]}") from None
    for key, problem in getattr(obj, "validate", lambda: [])():
        value = obj
        for part in key.split("."):  # a key of a section, e.g. gym.stall_steps
            value = getattr(value, part)
        raise ConfigError(f"{where}{sep}{key}: {problem} (got {value!r})")
    return obj


def read_yaml(path: str | Path, what: str = "config") -> dict:
    """The mapping at the top of a YAML file (``{}`` for an empty file); ``what`` names
    the kind of file in errors ("config", "track", "creature")."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what} file") from None
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or e
        raise ConfigError(f"{path}: cannot read {what} file ({reason})") from None
    try:
        data = parse_yaml(text)
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


# -- readers for free-form files (tracks, creatures) ---------------------------------------
def check_keys(where: str, data: dict[str, Any], required: set[str],
               optional: set[str]) -> None:
    """Reject unknown keys and report missing required ones; ``where`` prefixes the message."""
    unknown = sorted(str(k) for k in data if k not in required | optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {allowed})")
    missing = sorted(required - set(data))
    if missing:
        raise ConfigError(f"{where}: missing key(s) {', '.join(missing)}")


def as_float(where: str, key: str, value: Any) -> float:
    """A finite real number (int or float, not bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: '{key}' must be a number, got {type(value).__name__}")
    out = float(value)
    if not math.isfinite(out):
        raise ConfigError(f"{where}: '{key}' must be finite")
    return out


def as_positive(where: str, key: str, value: Any) -> float:
    """A finite number > 0."""
    out = as_float(where, key, value)
    if out <= 0:
        raise ConfigError(f"{where}: '{key}' must be > 0, got {out:g}")
    return out


def as_int(where: str, key: str, value: Any) -> int:
    """An integer (not bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: '{key}' must be an integer, got {type(value).__name__}")
    return int(value)


def as_str(where: str, key: str, value: Any) -> str:
    """A string."""
    if not isinstance(value, str):
        raise ConfigError(f"{where}: '{key}' must be a string, got {type(value).__name__}")
    return value


def as_vec2(where: str, key: str, value: Any) -> tuple[float, float]:
    """A pair of numbers [x, y]."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(f"{where}: '{key}' must be a pair [x, y]")
    return as_float(where, key, value[0]), as_float(where, key, value[1])


# -- configs --------------------------------------------------------------------------------
def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.lr=0.1"`` -> ``(["train", "lr"], 0.1)``; values are YAML scalars/lists."""
    if "=" not in text:
        raise ConfigError(f"--set {text}: expected KEY=VALUE, e.g. train.lr=0.01")
    key, _, raw = text.partition("=")
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"--set {text}: malformed key {key!r}")
    try:
        value = parse_yaml(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def did_you_mean(name: str, known) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``known``, or ``""``."""
    close = difflib.get_close_matches(name, [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def schema_keys(cls, prefix: str = "") -> list[str]:
    """Every dotted key of the dataclass ``cls``: ``["train.lr", "train.epochs", ...]``."""
    keys = []
    for name, tp in typing.get_type_hints(cls).items():
        if dataclasses.is_dataclass(tp):
            keys += schema_keys(tp, f"{prefix}{name}.")
        else:
            keys.append(prefix + name)
    return keys


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
            key = ".".join(parts)
            raise ConfigError(f"--set {text}: unknown key {key!r}"
                              f"{did_you_mean(key, schema_keys(cls))}")
        node = raw
        for part in parts[:-1]:
            if node.get(part) is None:
                node[part] = {}
            elif not isinstance(node[part], dict):
                raise ConfigError(f"--set {text}: {part!r} is not a mapping")
            node = node[part]
        node[parts[-1]] = value
    return raw


def load_config(cls, path: str | Path | None, overrides: list[str] = (),
                options: list[tuple[str, str]] = ()):
    """Load ``cls`` from a YAML file (or defaults when ``path`` is None) plus overrides
    (``--set KEY=VALUE`` texts), then ``options``: ``(flag, override)`` pairs of a command's
    own options (``("--population 0", "population=0")``), named in errors as given."""
    raw = read_yaml(path) if path is not None else {}
    where = f"{path}: " if path is not None else "config: "
    build(cls, raw, where)  # errors in the file itself name the file
    options = list(options)
    if overrides or options:
        raw = apply_overrides(cls, raw, [*overrides, *(o for _, o in options)])
        given = ([f"--set {' '.join(overrides)}"] if overrides else []) + [f for f, _ in options]
        where = f"{path or 'config'} with {' '.join(given)}: "
    return build(cls, raw, where)


def resumed_config(meta: dict, out, task: str | None, command: str, verb: str) -> dict:
    """The raw config a run checkpoint's ``meta`` holds, for ``neuroevo COMMAND --resume
    OUT``; a run of another task than ``task`` (None: any) is one line naming the command
    that resumes it (``verb``: what the run does, "evolves", "learns")."""
    raw = parse_yaml(meta["config"])
    if task is not None and raw.get("task") != task:
        raise ConfigError(f"--resume {out}: that run {verb} {raw.get('task')}, not {task} "
                          f"(neuroevo {command} {raw.get('task')} --resume {out})")
    return raw


def to_yaml(cfg) -> str:
    """``cfg`` as YAML that reads top-down: its plain settings first, in field order, then
    its sections (nested configs), those its own class declares before those it inherits
    (an ``evolve`` config's ``strategy`` before the task sections it shares with
    ``reinforce``)."""
    data = dataclasses.asdict(cfg)
    mro = type(cfg).__mro__
    declared = {name: next(i for i, k in enumerate(mro)
                           if name in vars(k).get("__annotations__", {}))
                for name in data}
    order = sorted(enumerate(data), key=lambda item: (
        isinstance(data[item[1]], dict), isinstance(data[item[1]], dict)
        and declared[item[1]], item[0]))
    ordered = {name: data[name] for _, name in order}
    return yaml.safe_dump(ordered, sort_keys=False, default_flow_style=None)


def named_config(name: str, known: list[str] | None = None, what: str = "config") -> Path:
    """``configs/NAME.yaml`` for a dataset or task name.  ``known``: the names this command
    accepts (default every shipped config); an unknown name gets a suggestion."""
    path = shipped_file("", name)
    names = known if known is not None else shipped_names()
    if name not in names or path is None:
        raise ConfigError(f"no {what} named {name!r}{did_you_mean(name, names)} (known: "
                          f"{', '.join(names)})")
    return path
