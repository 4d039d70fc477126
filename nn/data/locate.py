"""Where dataset files are looked for.

Search order, first hit wins:

1. the explicit ``data_dir`` argument (``--data-dir``),
2. the ``NEUROEVO_DATA`` environment variable (several folders may be joined with ``os.pathsep``),
3. the user cache folder: ``$XDG_CACHE_HOME/neuroevo``, else ``~/.cache/neuroevo``
   (downloads land here),
4. per-dataset system folders, e.g. Debian's ``/usr/share/datasets/fashion-mnist/``.

Each of these *roots* may hold the datasets in their own subfolders (``mnist/``,
``quickdraw/numpy_bitmap/``, ``cifar10/cifar-10-batches-py/``, as in ``../shared/datasets``)
or be one dataset's folder itself; every loader lists the subfolder names it accepts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from nn.errors import DatasetError

ENV_DATA = "NEUROEVO_DATA"
# Set to 1/true/yes to forbid downloads (the error then says where to get the files).
ENV_OFFLINE = "NEUROEVO_OFFLINE"

# Debian/Ubuntu `dataset-fashion-mnist` installs the official IDX files here.
FASHION_SYSTEM_DIRS: list[Path] = [Path("/usr/share/datasets/fashion-mnist")]


def cache_dir() -> Path:
    """The user cache folder for neuroevo (XDG_CACHE_HOME respected); not created here."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "neuroevo"


def search_roots(data_dir: str | os.PathLike | None = None,
                 extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """The roots to search, in order, without duplicates (existing or not).

    An explicit ``data_dir`` that does not exist is an error: it is almost always a typo.
    """
    roots: list[Path] = []
    if data_dir is not None and str(data_dir) != "":
        d = Path(data_dir).expanduser()
        if not d.is_dir():
            raise DatasetError(f"data directory {d} does not exist or is not a folder")
        roots.append(d)
    for part in os.environ.get(ENV_DATA, "").split(os.pathsep):
        if part.strip():
            roots.append(Path(part.strip()).expanduser())
    roots.append(cache_dir())
    roots.extend(Path(p) for p in extra)
    seen: set[str] = set()
    unique = []
    for r in roots:
        key = os.path.abspath(r)
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return unique


def candidate_dirs(roots: Sequence[Path], subdirs: Sequence[str]) -> list[Path]:
    """``root / sub`` for every root and accepted subfolder name ("" = the root itself)."""
    return [root / sub if sub else root for root in roots for sub in subdirs]


def find_dir(roots: Sequence[Path], subdirs: Sequence[str],
             accept: Callable[[Path], bool]) -> Path | None:
    """The first existing candidate folder that ``accept`` approves, or None."""
    for d in candidate_dirs(roots, subdirs):
        if d.is_dir() and accept(d):
            return d
    return None


def find_file(roots: Sequence[Path], subdirs: Sequence[str],
              names: Sequence[str]) -> Path | None:
    """The first existing file called one of ``names`` in the candidate folders, or None."""
    for d in candidate_dirs(roots, subdirs):
        for name in names:
            p = d / name
            if p.is_file():
                return p
    return None


def first_existing(folder: Path, names: Sequence[str]) -> Path | None:
    """The first of ``folder / name`` that is a file, or None."""
    for name in names:
        p = folder / name
        if p.is_file():
            return p
    return None


def describe_dirs(dirs: Sequence[Path], limit: int = 8) -> str:
    """A short, one-line list of folders for error messages."""
    shown = [str(d) for d in dirs[:limit]]
    more = len(dirs) - len(shown)
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "")


def downloads_allowed(download: bool | None = None) -> bool:
    """Whether a loader may download: the ``download`` option, else not NEUROEVO_OFFLINE."""
    if download is not None:
        return bool(download)
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in ("1", "true", "yes", "on")
