"""Strict YAML reading for sims files: safe_load only, unknown keys and wrong types are errors.

Every failure is a :class:`~sims.errors.SimsError` whose one-line message names the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sims.errors import SimsError


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping at the top level."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SimsError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SimsError(f"{path}: malformed YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise SimsError(f"{path}: expected a mapping of keys at the top level")
    return data


def check_keys(
    where: str, data: dict[str, Any], required: set[str], optional: set[str]
) -> None:
    """Reject unknown keys and report missing required ones; `where` prefixes the message."""
    unknown = sorted(str(k) for k in data if k not in required | optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise SimsError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {allowed})")
    missing = sorted(required - set(data))
    if missing:
        raise SimsError(f"{where}: missing key(s) {', '.join(missing)}")


def as_float(where: str, key: str, value: Any) -> float:
    """A real number (int or float, not bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SimsError(f"{where}: '{key}' must be a number, got {type(value).__name__}")
    out = float(value)
    if not out == out or out in (float("inf"), float("-inf")):
        raise SimsError(f"{where}: '{key}' must be finite")
    return out


def as_positive(where: str, key: str, value: Any) -> float:
    """A finite number > 0."""
    out = as_float(where, key, value)
    if out <= 0:
        raise SimsError(f"{where}: '{key}' must be > 0, got {out:g}")
    return out


def as_int(where: str, key: str, value: Any) -> int:
    """An integer (not bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SimsError(f"{where}: '{key}' must be an integer, got {type(value).__name__}")
    return int(value)


def as_str(where: str, key: str, value: Any) -> str:
    """A string."""
    if not isinstance(value, str):
        raise SimsError(f"{where}: '{key}' must be a string, got {type(value).__name__}")
    return value


def as_bool(where: str, key: str, value: Any) -> bool:
    """A boolean."""
    if not isinstance(value, bool):
        raise SimsError(f"{where}: '{key}' must be true or false, got {type(value).__name__}")
    return value


def as_vec2(where: str, key: str, value: Any) -> tuple[float, float]:
    """A pair of numbers [x, y]."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise SimsError(f"{where}: '{key}' must be a pair [x, y]")
    return as_float(where, key, value[0]), as_float(where, key, value[1])
