"""Quick, Draw! doodles: official ``numpy_bitmap`` .npy files, or ``simplified`` strokes.

* ``source="bitmap"`` (default): ``<category>.npy``, uint8 ``(N, 784)``, 28x28, 0 background
  and 255 ink, from ``https://storage.googleapis.com/quickdraw_dataset/full/numpy_bitmap/``.
  Read memory-mapped, so a cap on drawings per category reads only those rows.
* ``source="strokes"``: ``<category>.ndjson`` from ``.../full/simplified/``, one drawing per
  line, rasterised with :func:`nn.data.strokes.rasterize_strokes` as the bitmaps were.

Files are looked for per category (see :mod:`nn.data.locate`) in ``quickdraw/numpy_bitmap/``,
``numpy_bitmap/``, ``quickdraw/`` or the root itself (``simplified/`` for strokes), also
under the ``full_numpy_bitmap_<category>.npy`` name that bulk downloads use. Missing ones are
downloaded into ``<cache>/quickdraw/...`` unless downloads are off. There are no canonical
checksums for these files: shape, dtype and JSON structure are validated instead.

The split is fixed by the seed: within each category the first ``max_per_category``
drawings are taken and a seeded permutation (which depends on the seed and the category's
name only, not on which other categories are loaded) sends ``test_fraction`` of them to the
test set. Both sets are then shuffled with the seed.
"""

from __future__ import annotations

import json
import urllib.parse
import zlib
from itertools import islice
from pathlib import Path

import numpy as np

from nn.data.dataset import Dataset
from nn.data.download import RemoteFile, fetch
from nn.data.locate import (
    cache_dir,
    candidate_dirs,
    describe_dirs,
    downloads_allowed,
    find_file,
    search_roots,
)
from nn.data.strokes import rasterize_strokes
from nn.errors import DatasetError

# The ten categories of the original video, in its order.
DEFAULT_CATEGORIES = ("helicopter", "house plant", "cat", "cruise ship", "windmill", "popsicle",
                      "tractor", "umbrella", "bicycle", "octopus")
BASE_URL = "https://storage.googleapis.com/quickdraw_dataset/full/"
SOURCES = {
    # source -> (remote folder, local subfolders, file name patterns)
    "bitmap": ("numpy_bitmap", ("quickdraw/numpy_bitmap", "numpy_bitmap", "quickdraw", ""),
               ("{}.npy", "full_numpy_bitmap_{}.npy", "full-numpy_bitmap-{}.npy")),
    "strokes": ("simplified", ("quickdraw/simplified", "simplified", "quickdraw", ""),
                ("{}.ndjson", "full_simplified_{}.ndjson", "full-simplified-{}.ndjson")),
}
SIDE = 28
N_PIXELS = SIDE * SIDE


def category_url(category: str, source: str = "bitmap") -> str:
    folder, _, patterns = SOURCES[source]
    return BASE_URL + folder + "/" + urllib.parse.quote(patterns[0].format(category))


def _find_category(category: str, source: str, roots: list[Path]) -> Path | None:
    _, subdirs, patterns = SOURCES[source]
    names = [p.format(category) for p in patterns]
    if " " in category:
        names += [p.format(category.replace(" ", "_")) for p in patterns]
    return find_file(roots, subdirs, names)


def locate_categories(categories, source: str = "bitmap", data_dir=None,
                      download: bool | None = None, progress: bool | None = None
                      ) -> dict[str, Path]:
    """Category -> file, downloading missing ones into the cache when allowed."""
    roots = search_roots(data_dir)
    found = {c: _find_category(c, source, roots) for c in categories}
    missing = [c for c, p in found.items() if p is None]
    if missing:
        folder, subdirs, patterns = SOURCES[source]
        if not downloads_allowed(download):
            files = ", ".join(patterns[0].format(c) for c in missing)
            looked = describe_dirs(candidate_dirs(roots, subdirs[:2]))
            raise DatasetError(f"Quick, Draw! {source} files not found: {files} (looked in "
                               f"{looked}); get them from {BASE_URL}{folder}/ or choose other "
                               f"categories")
        target = cache_dir() / "quickdraw" / folder
        for c in missing:
            # no canonical checksums: the content is validated when it is read
            found[c] = fetch(RemoteFile(category_url(c, source)),
                             target / patterns[0].format(c), progress=progress)
    return found  # type: ignore[return-value]


def read_bitmaps(path: Path, limit: int | None = None) -> np.ndarray:
    """The first ``limit`` drawings of one numpy_bitmap file: uint8 ``(n, 784)``."""
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise DatasetError(f"{path}: not a valid .npy file ({str(e).splitlines()[0]})") from None
    if not isinstance(arr, np.ndarray):
        raise DatasetError(f"{path}: expected one array, found {type(arr).__name__}")
    if arr.dtype != np.uint8 or arr.ndim != 2 or arr.shape[1] != N_PIXELS:
        raise DatasetError(f"{path}: expected uint8 (N, {N_PIXELS}) bitmaps, found "
                           f"{arr.dtype} {arr.shape}")
    if len(arr) == 0:
        raise DatasetError(f"{path}: holds no drawings")
    return np.array(arr[:limit] if limit is not None else arr)


def read_stroke_drawings(path: Path, limit: int | None = None) -> list:
    """The ``drawing`` fields of the first ``limit`` lines of a simplified .ndjson file."""
    drawings = []
    try:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(islice(f, limit), start=1):
                if not line.strip():
                    continue
                drawings.append(_parse_drawing(line, path, lineno))
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot read {path}: {e}") from None
    if not drawings:
        raise DatasetError(f"{path}: holds no drawings")
    return drawings


def _parse_drawing(line: str, path: Path, lineno: int) -> list:
    try:
        rec = json.loads(line)
        drawing = rec["drawing"]
        strokes = []
        for stroke in drawing:
            xs, ys = stroke[0], stroke[1]
            if len(xs) != len(ys) or not xs:
                raise ValueError("stroke x and y lists differ in length or are empty")
            strokes.append((np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)))
    except (ValueError, KeyError, TypeError, IndexError) as e:
        raise DatasetError(f"{path}:{lineno}: not a Quick, Draw! drawing ({e})") from None
    return strokes


def _category_seed(seed: int, category: str) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(category.encode("utf-8"))])


def load_doodles(data_dir=None, seed: int = 0, *, categories=None,
                 max_per_category: int | None = None, test_fraction: float = 0.2,
                 source: str = "bitmap", n_train: int | None = None, n_test: int | None = None,
                 download: bool | None = None, progress: bool | None = None) -> Dataset:
    """Quick, Draw! doodles as a 28x28 classification set (labels follow ``categories``).

    Options: categories (default: the original video's ten), max_per_category (first N
    drawings of each), test_fraction (0-1, default 0.2), source ("bitmap" or "strokes"),
    n_train / n_test (caps after the split), download, progress.
    """
    if categories is None:
        categories = list(DEFAULT_CATEGORIES)
    if isinstance(categories, str):
        categories = [categories]
    categories = [str(c).strip() for c in categories]
    if not categories or any(not c for c in categories):
        raise DatasetError("doodles: categories must be a non-empty list of category names")
    if len(set(categories)) != len(categories):
        raise DatasetError(f"doodles: categories repeat a name: {categories}")
    if source not in SOURCES:
        raise DatasetError(f"doodles: source must be one of {', '.join(SOURCES)}, got {source!r}")
    max_per_category = _positive(max_per_category, "max_per_category")
    n_train = _positive(n_train, "n_train")
    n_test = _positive(n_test, "n_test")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) \
            or not 0.0 <= float(test_fraction) < 1.0:
        raise DatasetError(f"doodles: test_fraction must be in [0, 1), got {test_fraction!r}")

    paths = locate_categories(categories, source, data_dir, download, progress)
    xs_tr, ys_tr, xs_te, ys_te = [], [], [], []
    for label, cat in enumerate(categories):
        if source == "bitmap":
            pixels = read_bitmaps(paths[cat], max_per_category)
        else:
            drawings = read_stroke_drawings(paths[cat], max_per_category)
            pixels = np.stack([rasterize_strokes(d) for d in drawings]).reshape(-1, N_PIXELS)
        n = len(pixels)
        n_te = int(round(n * float(test_fraction)))
        if test_fraction > 0 and n >= 2:
            n_te = min(max(n_te, 1), n - 1)
        order = _category_seed(seed, cat).permutation(n)
        xs_te.append(pixels[order[:n_te]])
        xs_tr.append(pixels[order[n_te:]])
        ys_te.append(np.full(n_te, label, dtype=np.int64))
        ys_tr.append(np.full(n - n_te, label, dtype=np.int64))

    rng = np.random.default_rng(seed)
    out = {}
    for split, xs, ys, cap in (("train", xs_tr, ys_tr, n_train), ("test", xs_te, ys_te, n_test)):
        x = np.concatenate(xs)
        y = np.concatenate(ys)
        perm = rng.permutation(len(x))[:cap]
        out[split] = (x[perm].astype(np.float32) / np.float32(255.0), y[perm])
    return Dataset(
        name="doodles",
        x_train=out["train"][0], y_train=out["train"][1],
        x_test=out["test"][0], y_test=out["test"][1],
        label_names=list(categories),
        input_shape=(SIDE, SIDE, 1),
        preprocessing={"scale": "0-1", "orientation": "top-down", "layout": "HWC",
                       "ink": "white-on-black", "source": source,
                       "max_per_category": max_per_category,
                       "test_fraction": float(test_fraction), "split_seed": int(seed)},
    )


def _positive(n, name: str) -> int | None:
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DatasetError(f"doodles: {name} must be a positive integer, got {n!r}")
    return int(n)


def load_doodles_option_dict(data_dir=None, seed: int = 0, **options) -> Dataset:
    """Registry entry: like :func:`load_doodles`, but unknown options are one-line errors."""
    known = {"categories", "max_per_category", "test_fraction", "source", "n_train", "n_test",
             "download", "progress"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise DatasetError(f"doodles: unknown data option(s) {', '.join(unknown)}; "
                           f"known: {', '.join(sorted(known))}")
    return load_doodles(data_dir, seed, **options)
