"""Finding the files neuroevo ships: run configs, tracks and creatures.

They live in the ``configs`` package (``configs/*.yaml``, ``configs/tracks/*.yaml``,
``configs/creatures/*.yaml`` at the top of the repository) and are found with
:mod:`importlib.resources`, never through this file's path, so the same lookup works from a
checkout, an editable install (which reads the repository's ``configs/`` in place: edits
show at once) and a wheel (``site-packages/configs``).  The package is named by string, so
no library imports it: every package may read shipped files through this module.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from common.errors import UserError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

PACKAGE = "configs"
KINDS = ("", "tracks", "creatures")  # "": the run configs themselves
SUFFIX = ".yaml"

_extracted: dict[str, Path] = {}


class ShippedFilesMissing(UserError):
    """The ``configs`` package is not installed: a broken or outdated installation."""


def shipped_dir(kind: str = "") -> Path:
    """The folder of the shipped files of one kind: ``""`` (run configs), ``"tracks"`` or
    ``"creatures"``.  A real folder: when the package is not on the file system (a zip),
    its files are copied once to a temporary folder that lives as long as the process."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of shipped file {kind!r} (known: {KINDS})")
    try:
        root = resources.files(PACKAGE)
    except ModuleNotFoundError as e:
        if e.name != PACKAGE:
            raise
        raise ShippedFilesMissing(
            f"the shipped configs (package {PACKAGE!r}) are not installed; reinstall neuroevo "
            "(`pip install .`, or `make` / `pip install -e .` in a checkout)") from None
    folder = root.joinpath(kind) if kind else root
    if isinstance(folder, Path):
        return folder
    if kind not in _extracted:
        _extracted[kind] = _extract(folder)
    return _extracted[kind]


def shipped_names(kind: str = "") -> list[str]:
    """The names (file stems) of the shipped files of one kind, sorted."""
    return sorted(p.stem for p in shipped_dir(kind).glob(f"*{SUFFIX}") if p.is_file())


def shipped_file(kind: str, name: str) -> Path | None:
    """``NAME.yaml`` among the shipped files of one kind, or None when there is none."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = shipped_dir(kind) / f"{name}{SUFFIX}"
    return path if path.is_file() else None


def file_or_shipped(kind: str, spec: str | Path) -> Path | None:
    """The file ``spec`` names: a file at that path, else the shipped file of that name
    (``kind``: "tracks", "creatures"), else None.  A folder in the current directory named
    like a shipped file does not hide it (``biped`` is the shipped creature even where
    ``./biped/`` exists)."""
    path = Path(spec)
    if path.is_file():
        return path
    if path.suffix in (".yaml", ".yml"):
        return None
    return shipped_file(kind, str(spec))


def _extract(folder: Traversable) -> Path:
    """Copy the ``*.yaml`` files of ``folder`` to a temporary folder removed at exit."""
    out = Path(tempfile.mkdtemp(prefix="neuroevo-configs-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    for item in folder.iterdir() if folder.is_dir() else ():
        if item.is_file() and item.name.endswith(SUFFIX):
            (out / item.name).write_bytes(item.read_bytes())
    return out


def pip_install(extra: str) -> str:
    """The command that installs the optional ``extra`` into the Python running now:
    ``.venv/bin/pip install -e '.[gym]'`` inside a virtual environment (its pip, shown
    relative to the current directory where it lies below it), else ``pip install``."""
    import os
    import sys

    pip = "pip"
    if sys.prefix != sys.base_prefix:  # a virtual environment: its own pip, not the PATH's
        exe = Path(sys.executable).parent / "pip"
        if exe.is_file():
            try:
                pip = os.path.relpath(exe) if exe.is_relative_to(Path.cwd()) else str(exe)
            except ValueError:
                pip = str(exe)
    return f"{pip} install -e '.[{extra}]'"

