"""CIFAR-10 from the official binary (``cifar-10-batches-bin``) or python
(``cifar-10-batches-py``) version.

Whatever training batches are present are used (``data_batch_1`` .. ``data_batch_5``, in
order); ``test_batch`` is required. Each batch is validated on its own: record size and
label range for the binary files; type, dtype, shape and label count for the pickles.
The python version is read with :class:`RestrictedUnpickler`, which only admits numpy's
array reconstruction, ``_codecs.encode`` and plain builtin containers - never plain
``pickle.load``.

Folders tried under each root (see :mod:`nn.data.locate`): ``cifar10/``, ``cifar-10/``,
``CIFAR10/`` and the root itself, each holding ``cifar-10-batches-bin/`` or
``cifar-10-batches-py/``, or being such a folder. When none is found, the binary tarball
is downloaded, checked (SHA-256, MD5) and safely extracted into ``<cache>/cifar10/``.

Pixels are stored as R, G and B planes; they are returned as (32, 32, 3) HWC rows,
flattened, scaled to [0, 1].
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from nn.data.dataset import Dataset
from nn.data.download import RemoteFile, fetch, safe_extract_tar
from nn.data.locate import (
    cache_dir,
    candidate_dirs,
    describe_dirs,
    downloads_allowed,
    search_roots,
)
from nn.errors import DatasetError

LABEL_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")
SIDE = 32
N_PIXELS = SIDE * SIDE * 3
RECORD = 1 + N_PIXELS  # binary version: label byte + pixels
SUBDIRS = ("cifar10", "cifar-10", "CIFAR10", "")
BIN_DIR, PY_DIR = "cifar-10-batches-bin", "cifar-10-batches-py"
MAX_TRAIN_BATCHES = 5

TARBALLS = {
    # sha256/size of the binary tarball as in tensorflow_datasets' url_checksums/cifar10.txt
    "bin": RemoteFile("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                      sha256="c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                      size=170052171),
    # md5 as published on the CIFAR page
    "py": RemoteFile("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                     sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                     size=170498071, md5="c58f30108f718f92721af3b95e74349a"),
}


# ---------------------------------------------------------------- restricted unpickling

def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _numpy_scalar():
    try:
        from numpy._core.multiarray import scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar
    return scalar


def _codecs_encode():
    import _codecs

    return _codecs.encode


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("_codecs", "encode"): _codecs_encode,
}
_SAFE_BUILTINS = {"list", "dict", "tuple", "set", "frozenset", "bytes", "bytearray", "str",
                  "int", "float", "complex", "bool"}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild numpy arrays and plain containers, nothing else."""

    def find_class(self, module: str, name: str):
        if module in ("builtins", "__builtin__") and name in _SAFE_BUILTINS:
            import builtins

            return getattr(builtins, name)
        factory = _ALLOWED.get((module, name))
        if factory is None:
            raise pickle.UnpicklingError(f"global '{module}.{name}' is not allowed")
        return factory()


def restricted_loads(data: bytes, source: str = "<bytes>"):
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (python 2 strings as bytes)."""
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except pickle.UnpicklingError as e:
        raise DatasetError(f"{source}: refused or corrupt pickle ({e})") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            OverflowError, MemoryError) as e:
        raise DatasetError(f"{source}: corrupt or truncated pickle "
                           f"({type(e).__name__}: {e})") from None


def _key(d: dict, name: str):
    for k in (name, name.encode()):
        if k in d:
            return d[k]
    return None


# ---------------------------------------------------------------- batch readers

def read_py_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One python-version batch: uint8 ``(N, 3072)`` CHW-planar rows and int64 labels."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"cannot read {path}: {e.strerror}") from None
    obj = restricted_loads(data, str(path))
    if not isinstance(obj, dict):
        raise DatasetError(f"{path}: expected a dict, found {type(obj).__name__}")
    x, labels = _key(obj, "data"), _key(obj, "labels")
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 2 \
            or x.shape[1] != N_PIXELS:
        desc = f"{x.dtype} {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        raise DatasetError(f"{path}: 'data' must be uint8 (N, {N_PIXELS}), found {desc}")
    if not isinstance(labels, (list, tuple, np.ndarray)):
        raise DatasetError(f"{path}: 'labels' missing or not a list")
    try:
        y = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise DatasetError(f"{path}: 'labels' are not integers") from None
    return x, _check_labels(y, len(x), path)


def read_bin_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One binary-version batch: records of 1 label byte + 3072 pixel bytes."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise DatasetError(f"cannot read {path}: {e.strerror}") from None
    if raw.size == 0 or raw.size % RECORD:
        raise DatasetError(f"{path}: {raw.size} bytes is not a whole number of {RECORD}-byte "
                           f"records (truncated or not a CIFAR-10 binary batch)")
    rec = raw.reshape(-1, RECORD)
    return rec[:, 1:], _check_labels(rec[:, 0].astype(np.int64), len(rec), path)


def _check_labels(y: np.ndarray, n: int, path: Path) -> np.ndarray:
    if y.ndim != 1 or len(y) != n:
        raise DatasetError(f"{path}: {n} images but {y.size} labels")
    if n == 0:
        raise DatasetError(f"{path}: holds no images")
    if y.min() < 0 or y.max() >= len(LABEL_NAMES):
        raise DatasetError(f"{path}: label out of range 0-{len(LABEL_NAMES) - 1}")
    return y


FORMATS = {
    # format -> (folder name, train file pattern, test file, meta file, reader)
    "bin": (BIN_DIR, "data_batch_{}.bin", "test_batch.bin", "batches.meta.txt", read_bin_batch),
    "py": (PY_DIR, "data_batch_{}", "test_batch", "batches.meta", read_py_batch),
}


def _batch_files(folder: Path, fmt: str) -> tuple[list[Path], Path] | None:
    _, pattern, test, _, _ = FORMATS[fmt]
    train = [folder / pattern.format(i) for i in range(1, MAX_TRAIN_BATCHES + 1)]
    train = [p for p in train if p.is_file()]
    if not train or not (folder / test).is_file():
        return None
    return train, folder / test


def _label_names(folder: Path, fmt: str) -> list[str]:
    meta = folder / FORMATS[fmt][3]
    if not meta.is_file():
        return list(LABEL_NAMES)
    if fmt == "bin":
        try:
            names = [s.strip() for s in meta.read_text(encoding="utf-8").splitlines() if s.strip()]
        except (OSError, UnicodeDecodeError) as e:
            raise DatasetError(f"cannot read {meta}: {e}") from None
    else:
        obj = restricted_loads(meta.read_bytes(), str(meta))
        raw = _key(obj, "label_names") if isinstance(obj, dict) else None
        if not isinstance(raw, (list, tuple)):
            raise DatasetError(f"{meta}: no 'label_names' list")
        names = [n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in raw]
    if len(names) != len(LABEL_NAMES):
        raise DatasetError(f"{meta}: {len(names)} label names, expected {len(LABEL_NAMES)}")
    return names


def locate_cifar10(data_dir=None, fmt: str = "auto", download: bool | None = None,
                   progress: bool | None = None) -> tuple[Path, str]:
    """The folder with the batches and its format ("bin" or "py")."""
    fmts = ("bin", "py") if fmt == "auto" else (fmt,)
    roots = search_roots(data_dir)
    looked = []
    for d in candidate_dirs(roots, SUBDIRS):
        for f in fmts:
            for folder in (d / FORMATS[f][0], d):
                looked.append(folder)
                if folder.is_dir() and _batch_files(folder, f) is not None:
                    return folder, f
    dl_fmt = "bin" if fmt == "auto" else fmt
    remote = TARBALLS[dl_fmt]
    where = (f"looked for {BIN_DIR}/ or {PY_DIR}/ (test_batch and data_batch_1..5) in "
             f"{describe_dirs(candidate_dirs(roots, SUBDIRS[:1] + ('',)))}")
    if not downloads_allowed(download):
        raise DatasetError(f"CIFAR-10 not found: {where}; get {remote.url} and unpack it there "
                           f"(or set NEUROEVO_DATA / --data-dir)")
    target = cache_dir() / "cifar10"
    archive = target / remote.filename
    try:
        fetch(remote, archive, progress=progress)
        safe_extract_tar(archive, target, prefix=FORMATS[dl_fmt][0])
    except DatasetError as e:
        raise DatasetError(f"CIFAR-10 not found locally and {e}") from None
    finally:
        archive.unlink(missing_ok=True)
    folder = target / FORMATS[dl_fmt][0]
    if _batch_files(folder, dl_fmt) is None:
        raise DatasetError(f"{remote.url} did not unpack to the expected batches in {folder}")
    return folder, dl_fmt


def load_cifar10(data_dir=None, seed: int = 0, *, n_train: int | None = None,
                 n_test: int | None = None, format: str = "auto", download: bool | None = None,
                 progress: bool | None = None) -> Dataset:
    """CIFAR-10: whichever training batches are present, and the test batch.

    Options: n_train / n_test (take the first N), format ("auto", "bin", "py"; auto
    prefers the binary version within a folder), download, progress.
    """
    del seed  # the official split is fixed
    if format not in ("auto", "bin", "py"):
        raise DatasetError(f"cifar10: format must be auto, bin or py, got {format!r}")
    for name, n in (("n_train", n_train), ("n_test", n_test)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))
                              or n < 1):
            raise DatasetError(f"cifar10: {name} must be a positive integer, got {n!r}")
    folder, fmt = locate_cifar10(data_dir, format, download, progress)
    train_files, test_file = _batch_files(folder, fmt)  # type: ignore[misc]
    reader = FORMATS[fmt][4]
    xs, ys, have = [], [], 0
    for p in train_files:
        if n_train is not None and have >= n_train:
            break
        x, y = reader(p)
        xs.append(x)
        ys.append(y)
        have += len(x)
    x_te, y_te = reader(test_file)
    x_tr, y_tr = np.concatenate(xs)[:n_train], np.concatenate(ys)[:n_train]
    x_te, y_te = x_te[:n_test], y_te[:n_test]
    return Dataset(
        name="cifar10",
        x_train=planes_to_hwc(x_tr), y_train=y_tr,
        x_test=planes_to_hwc(x_te), y_test=y_te,
        label_names=_label_names(folder, fmt),
        input_shape=(SIDE, SIDE, 3),
        preprocessing={"scale": "0-1", "orientation": "top-down", "layout": "HWC",
                       "format": fmt, "source": str(folder),
                       "train_batches": [p.name for p in train_files[:len(xs)]]},
    )


def planes_to_hwc(rows: np.ndarray) -> np.ndarray:
    """uint8 ``(N, 3072)`` as R, G, B planes -> float32 ``(N, 3072)`` HWC rows in [0, 1]."""
    n = len(rows)
    hwc = rows.reshape(n, 3, SIDE, SIDE).transpose(0, 2, 3, 1).reshape(n, N_PIXELS)
    x = hwc.astype(np.float32)
    x /= np.float32(255.0)
    return x


def load_cifar10_options(data_dir=None, seed: int = 0, **options) -> Dataset:
    """Registry entry: like :func:`load_cifar10`; unknown options are one-line errors."""
    known = {"n_train", "n_test", "format", "download", "progress"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise DatasetError(f"cifar10: unknown data option(s) {', '.join(unknown)}; "
                           f"known: {', '.join(sorted(known))}")
    return load_cifar10(data_dir, seed, **options)
