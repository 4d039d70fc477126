"""Atomic files: every file that matters is written to a temporary file and renamed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def write_csv(path: str | os.PathLike, columns, rows) -> None:
    """A table (``rows``: mappings with every one of ``columns``), atomically; floats are
    written exactly (``repr``), so equal numbers give equal files."""
    import csv
    import io
    import math

    def cell(v) -> str:
        if isinstance(v, float):
            return "nan" if math.isnan(v) else repr(v)
        return str(v)

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([cell(row[c]) for c in columns])
    atomic_write_text(path, buf.getvalue())


# -- archives of arrays with JSON metadata (models, checkpoints) ---------------------------
NPZ_MAGIC = b"PK\x03\x04"  # every .npz is a zip archive


def write_npz(path: str | os.PathLike, arrays: dict, meta: dict) -> None:
    """``arrays`` plus the JSON object ``meta`` (as the 0-d array ``"meta"``) into the
    ``.npz`` archive ``path``, atomically."""
    import json

    import numpy as np

    full = {**arrays, "meta": np.array(json.dumps(meta))}
    atomic_write(path, lambda f: np.savez(f, **full))


def read_npz(path: str | os.PathLike, what: str, expected: str,
             error: type[Exception]) -> tuple[dict, dict | None]:
    """``(arrays, meta)`` of an archive :func:`write_npz` wrote: every array read (and
    CRC-checked), ``meta`` the JSON object or None when there is none.  Never unpickles:
    a missing, foreign, truncated or corrupt file, or one holding Python objects, raises
    ``error`` with one line naming ``path`` and ``what`` it should be (``expected``: what
    such a file is, for the user)."""
    import json
    import zipfile

    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such {what}")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise error(f"{path}: cannot read the {what} ({e.strerror or e})") from None
    if magic != NPZ_MAGIC:
        raise error(f"{path}: not a {what} ({expected})")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as e:
        if "pickle" in str(e):  # an object array: never unpickled
            raise error(f"{path}: not a {what} (it holds Python objects, which are never "
                        f"loaded)") from None
        raise error(f"{path}: unreadable {what} (truncated or corrupt: {_line(e)})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as e:
        raise error(f"{path}: unreadable {what} (truncated or corrupt: {_line(e)})") from None
    if "meta" not in arrays:
        return arrays, None
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (ValueError, TypeError):
        raise error(f"{path}: the {what}'s metadata is not valid JSON") from None
    if not isinstance(meta, dict):
        raise error(f"{path}: the {what}'s metadata is not a JSON object")
    return arrays, meta


def read_run_checkpoint(path: str | os.PathLike, command: str, versions: tuple[int, ...],
                        error: type[Exception], required: tuple[str, ...] = (),
                        what: str = "checkpoint",
                        fmt: str | None = None) -> tuple[dict, dict]:
    """``(arrays, meta)`` of the checkpoint a run of ``neuroevo COMMAND`` wrote (with
    :func:`write_npz`), whose ``meta`` holds a ``version`` among ``versions`` (and a
    ``format`` equal to ``fmt``, where given) and whose arrays include ``required``.  Any
    other file (missing, foreign, damaged, another version) raises ``error`` with one line;
    nothing is unpickled.  The one reader of evolve's, reinforce's and train's checkpoints."""
    path = Path(path)
    arrays, meta = read_npz(path, what, f"a {path.name} written by neuroevo {command} is "
                            "expected", error)
    if (meta is None or any(k not in arrays for k in required)
            or (fmt is not None and meta.get("format") != fmt)):
        raise error(f"{path}: not a {what} of neuroevo {command}")
    if meta.get("version") not in versions:
        readable = " or ".join(str(v) for v in versions)
        raise error(f"{path}: {what} version {meta.get('version')!r} is not supported (this "
                    f"neuroevo reads version {readable})")
    return arrays, meta


def _line(e: BaseException) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__
