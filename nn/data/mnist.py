"""MNIST and Fashion-MNIST from the canonical IDX files (gzip or raw).

Files are looked for as described in :mod:`nn.data.locate`; accepted subfolder names are
listed in each spec below (``mnist/``, ``fashion-mnist/``, ...), and the root itself. A
folder qualifies when it holds all four files, each as ``NAME.gz``, ``NAME`` or LeCun's
``train-images.idx3-ubyte`` spelling. Missing files are downloaded into the cache folder
(``<cache>/mnist``, ``<cache>/fashion-mnist``) unless downloads are off.

Every file is checked: IDX magic and sizes, then a SHA-256 either of the file as served
(``.gz``) or of its decompressed content, so the canonical ``.gz``, a re-compressed copy
and an unpacked raw file are all accepted, and nothing else is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nn.data.dataset import Dataset
from nn.data.download import RemoteFile, fetch
from nn.data.idx import check_idx, parse_idx, read_bytes
from nn.data.locate import (
    FASHION_SYSTEM_DIRS,
    cache_dir,
    candidate_dirs,
    describe_dirs,
    downloads_allowed,
    find_dir,
    first_existing,
    search_roots,
)
from nn.errors import DatasetError

ROLES = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class IdxFile:
    name: str  # base name without .gz, e.g. "train-images-idx3-ubyte"
    gz_sha256: str  # SHA-256 of the canonical .gz as served
    gz_size: int  # bytes of the canonical .gz
    sha256: str  # SHA-256 of the decompressed IDX content

    def local_names(self) -> list[str]:
        lecun = self.name.replace("-idx", ".idx")  # "train-images.idx3-ubyte"
        return [f"{self.name}.gz", self.name, f"{lecun}.gz", lecun]


@dataclass(frozen=True)
class IdxSpec:
    key: str  # registry name and cache subfolder
    title: str
    base_url: str
    files: dict[str, IdxFile]  # role -> file
    subdirs: tuple[str, ...]  # accepted folder names under each root ("" = the root itself)
    label_names: tuple[str, ...]
    system_dirs: list[Path] = field(default_factory=list)

    def remote(self, role: str) -> RemoteFile:
        f = self.files[role]
        return RemoteFile(self.base_url + f.name + ".gz", sha256=f.gz_sha256, size=f.gz_size)


# The shared copies (../shared/datasets/mnist) are byte-identical to these; the .gz sums
# also match tensorflow_datasets' url_checksums/mnist.txt.
MNIST = IdxSpec(
    key="mnist",
    title="MNIST",
    base_url="https://storage.googleapis.com/cvdf-datasets/mnist/",
    files={
        "train_images": IdxFile(
            "train-images-idx3-ubyte",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422,
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "train_labels": IdxFile(
            "train-labels-idx1-ubyte",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881,
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        "test_images": IdxFile(
            "t10k-images-idx3-ubyte",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877,
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "test_labels": IdxFile(
            "t10k-labels-idx1-ubyte",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542,
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    },
    subdirs=("mnist", "MNIST", "MNIST/raw", ""),
    label_names=tuple(str(d) for d in range(10)),
)

# The .gz sums and sizes are those of the official files (as listed in tensorflow_datasets'
# url_checksums/fashion_mnist.txt). Debian's dataset-fashion-mnist re-gzipped them (no file
# name in the gzip header, a 2020 mtime), so its .gz bytes differ, each exactly by the
# dropped name field; the content sums below were computed from those Debian files.
FASHION = IdxSpec(
    key="fashion",
    title="Fashion-MNIST",
    base_url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    files={
        "train_images": IdxFile(
            "train-images-idx3-ubyte",
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880,
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        "train_labels": IdxFile(
            "train-labels-idx1-ubyte",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515,
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        "test_images": IdxFile(
            "t10k-images-idx3-ubyte",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102,
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        "test_labels": IdxFile(
            "t10k-labels-idx1-ubyte",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148,
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    },
    subdirs=("fashion-mnist", "fashion_mnist", "fashion", "Fashion-MNIST", "FashionMNIST/raw", ""),
    label_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot"),
    system_dirs=FASHION_SYSTEM_DIRS,
)

SPECS = {s.key: s for s in (MNIST, FASHION)}
# content/gz sha256 -> (dataset title, file name): to say "this is MNIST, not Fashion-MNIST"
_KNOWN: dict[str, tuple[str, str]] = {}
for _s in SPECS.values():
    for _f in _s.files.values():
        _KNOWN[_f.sha256] = _KNOWN[_f.gz_sha256] = (_s.title, _f.name)


def _files_in(folder: Path, spec: IdxSpec) -> dict[str, Path] | None:
    found = {}
    for role, f in spec.files.items():
        p = first_existing(folder, f.local_names())
        if p is None:
            return None
        found[role] = p
    return found


def _belongs_elsewhere(path: Path, spec: IdxSpec) -> str | None:
    """The title of another known dataset whose file this is, else None."""
    try:
        raw, payload = read_bytes(path)
    except DatasetError:
        return None
    for digest in {hashlib.sha256(raw).hexdigest(), hashlib.sha256(payload).hexdigest()}:
        owner = _KNOWN.get(digest)
        if owner is not None and owner[0] != spec.title:
            return owner[0]
    return None


def _accept(folder: Path, spec: IdxSpec) -> bool:
    files = _files_in(folder, spec)
    # the small test-label file tells MNIST and Fashion-MNIST apart (same file names)
    return files is not None and _belongs_elsewhere(files["test_labels"], spec) is None


def locate_idx_files(spec: IdxSpec, data_dir=None, download: bool | None = None,
                     progress: bool | None = None) -> dict[str, Path]:
    """Role -> path of the four IDX files, downloading into the cache if needed and allowed."""
    roots = search_roots(data_dir, extra=spec.system_dirs)
    folder = find_dir(roots, spec.subdirs, lambda d: _accept(d, spec))
    if folder is not None:
        return _files_in(folder, spec)  # type: ignore[return-value]
    names = ", ".join(f.name + "[.gz]" for f in spec.files.values())
    looked = describe_dirs([d for d in candidate_dirs(roots, spec.subdirs[:1] + ("",))])
    where = f"get them from {spec.base_url} (or set NEUROEVO_DATA / --data-dir)"
    if not downloads_allowed(download):
        raise DatasetError(f"{spec.title} not found: looked for {names} in {looked}; {where}")
    target = cache_dir() / spec.key
    out = {}
    for role, f in spec.files.items():
        existing = first_existing(target, f.local_names())
        if existing is not None and _belongs_elsewhere(existing, spec) is None:
            out[role] = existing
            continue
        try:
            out[role] = fetch(spec.remote(role), target / f"{f.name}.gz", progress=progress)
        except DatasetError as e:
            raise DatasetError(f"{spec.title} not found locally ({looked}) and {e}") from None
    return out


def read_idx_checked(path: Path, f: IdxFile, spec: IdxSpec, verify: bool = True) -> np.ndarray:
    """Read one IDX file, validating its structure and (with ``verify``) its checksum."""
    raw, payload = read_bytes(path)
    arr = parse_idx(payload, str(path))
    if verify:
        ok = (raw is not payload and hashlib.sha256(raw).hexdigest() == f.gz_sha256) \
            or hashlib.sha256(payload).hexdigest() == f.sha256
        if not ok:
            other = _belongs_elsewhere(path, spec)
            if other is not None:
                raise DatasetError(f"{path} is a {other} file, not {spec.title}")
            raise DatasetError(f"{path}: checksum mismatch, not the official {spec.title} "
                               f"{f.name}; delete it and fetch it again from {spec.base_url}")
    return arr


def load_idx_dataset(spec: IdxSpec, data_dir=None, seed: int = 0, *, n_train: int | None = None,
                     n_test: int | None = None, download: bool | None = None,
                     verify: bool = True, progress: bool | None = None) -> Dataset:
    """Load MNIST-style IDX files as a :class:`Dataset` (``seed`` is unused: fixed split)."""
    del seed  # the official split is fixed
    n_train = _cap(n_train, "n_train")
    n_test = _cap(n_test, "n_test")
    paths = locate_idx_files(spec, data_dir, download, progress)
    arrays = {role: read_idx_checked(paths[role], spec.files[role], spec, verify)
              for role in ROLES}
    splits = {}
    for split, cap in (("train", n_train), ("test", n_test)):
        img_path, lab_path = paths[f"{split}_images"], paths[f"{split}_labels"]
        images = check_idx(arrays[f"{split}_images"], str(img_path), ndim=3, dtype=np.uint8)
        labels = check_idx(arrays[f"{split}_labels"], str(lab_path), ndim=1, dtype=np.uint8)
        if len(images) != len(labels):
            raise DatasetError(f"{img_path} has {len(images)} images but {lab_path} has "
                               f"{len(labels)} labels")
        if len(labels) and int(labels.max()) >= len(spec.label_names):
            raise DatasetError(f"{lab_path}: label {int(labels.max())} out of range "
                               f"0-{len(spec.label_names) - 1}")
        if cap is not None:
            images, labels = images[:cap], labels[:cap]
        splits[split] = (to_unit_float(images.reshape(len(images), -1)), labels.astype(np.int64))
    h, w = arrays["train_images"].shape[1:]
    if arrays["test_images"].shape[1:] != (h, w):
        raise DatasetError(f"{spec.title}: train images are {h}x{w} but test images are "
                           f"{arrays['test_images'].shape[1]}x{arrays['test_images'].shape[2]}")
    return Dataset(
        name=spec.key,
        x_train=splits["train"][0], y_train=splits["train"][1],
        x_test=splits["test"][0], y_test=splits["test"][1],
        label_names=list(spec.label_names),
        input_shape=(int(h), int(w), 1),
        preprocessing={"scale": "0-1", "orientation": "top-down", "layout": "HWC",
                       "ink": "white-on-black", "source": str(paths["train_images"].parent)},
    )


def to_unit_float(pixels: np.ndarray) -> np.ndarray:
    """uint8 (N, D) -> float32 (N, D) in [0, 1]."""
    x = pixels.astype(np.float32)
    x /= np.float32(255.0)
    return x


def _cap(n, name: str) -> int | None:
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DatasetError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def load_mnist(data_dir=None, seed: int = 0, **options) -> Dataset:
    """MNIST digits: 60,000 train / 10,000 test, 28x28 grey. Options: n_train, n_test,
    download, verify, progress."""
    return load_idx_dataset(MNIST, data_dir, seed, **_known(options, "mnist"))


def load_fashion(data_dir=None, seed: int = 0, **options) -> Dataset:
    """Fashion-MNIST: 60,000 train / 10,000 test, 28x28 grey. Same options as MNIST."""
    return load_idx_dataset(FASHION, data_dir, seed, **_known(options, "fashion"))


_OPTIONS = ("n_train", "n_test", "download", "verify", "progress")


def _known(options: dict, name: str) -> dict:
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise DatasetError(f"{name}: unknown data option(s) {', '.join(unknown)}; "
                           f"known: {', '.join(_OPTIONS)}")
    return options
