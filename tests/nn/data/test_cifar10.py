"""CIFAR-10: binary and python batches, the restricted unpickler, download + extraction."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from nn.data import cifar10, load_dataset
from nn.data.cifar10 import (
    LABEL_NAMES,
    RestrictedUnpickler,
    load_cifar10,
    planes_to_hwc,
    restricted_loads,
)
from nn.data.download import RemoteFile
from nn.errors import DatasetError


def _images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            rng.integers(0, 10, n).astype(np.int64))


def write_bin_batch(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rec = np.concatenate([y.astype(np.uint8)[:, None], x], axis=1)
    rec.tofile(path)


def write_py_batch(path: Path, x: np.ndarray, y: np.ndarray, str_keys: bool = False) -> None:
    """Like the official files: bytes keys, labels a list of ints, data a uint8 array."""
    path.parent.mkdir(parents=True, exist_ok=True)
    k = (lambda s: s) if str_keys else (lambda s: s.encode())
    obj = {k("batch_label"): k("testing batch"), k("labels"): [int(v) for v in y],
           k("data"): x, k("filenames"): [k(f"img_{i}.png") for i in range(len(x))]}
    path.write_bytes(pickle.dumps(obj, protocol=2))


def make_bin_set(folder: Path, batches=(1, 3), n=12, n_test=5) -> dict:
    d = folder / "cifar-10-batches-bin"
    out = {}
    for b in batches:
        out[b] = _images(n, b)
        write_bin_batch(d / f"data_batch_{b}.bin", *out[b])
    out["test"] = _images(n_test, 99)
    write_bin_batch(d / "test_batch.bin", *out["test"])
    (d / "batches.meta.txt").write_text("\n".join(LABEL_NAMES) + "\n\n")
    return out


def make_py_set(folder: Path, batches=(1,), n=12, n_test=5, str_keys=False) -> dict:
    d = folder / "cifar-10-batches-py"
    out = {}
    for b in batches:
        out[b] = _images(n, b)
        write_py_batch(d / f"data_batch_{b}", *out[b], str_keys=str_keys)
    out["test"] = _images(n_test, 99)
    write_py_batch(d / "test_batch", *out["test"], str_keys=str_keys)
    meta = {b"label_names": [s.encode() for s in LABEL_NAMES], b"num_vis": 3072}
    (d / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return out


def test_planes_to_hwc():
    x = np.zeros((1, 3072), np.uint8)
    x[0, :1024] = 255  # R plane
    x[0, 2048:] = 51  # B plane
    img = planes_to_hwc(x).reshape(32, 32, 3)
    assert img.dtype == np.float32
    assert np.all(img[..., 0] == 1.0) and np.all(img[..., 1] == 0) and np.allclose(img[..., 2], 0.2)


def test_binary_batches_whatever_is_present(tmp_path):
    data = make_bin_set(tmp_path / "cifar10", batches=(1, 3))
    d = load_cifar10(tmp_path)
    assert d.x_train.shape == (24, 3072) and d.x_test.shape == (5, 3072)
    assert d.input_shape == (32, 32, 3) and d.preprocessing["layout"] == "HWC"
    assert d.preprocessing["format"] == "bin"
    assert d.preprocessing["train_batches"] == ["data_batch_1.bin", "data_batch_3.bin"]
    np.testing.assert_array_equal(d.y_train, np.concatenate([data[1][1], data[3][1]]))
    np.testing.assert_array_equal(d.x_test, planes_to_hwc(data["test"][0]))
    assert d.label_names == list(LABEL_NAMES)


def test_python_batches(tmp_path):
    data = make_py_set(tmp_path, batches=(1, 2))
    d = load_cifar10(tmp_path / "cifar-10-batches-py")  # pointing at the batch folder itself
    assert d.x_train.shape == (24, 3072) and d.preprocessing["format"] == "py"
    np.testing.assert_array_equal(d.x_train[:12], planes_to_hwc(data[1][0]))
    np.testing.assert_array_equal(d.y_test, data["test"][1])
    assert d.label_names == list(LABEL_NAMES)


def test_python3_pickles_with_str_keys(tmp_path):
    make_py_set(tmp_path, str_keys=True)
    assert len(load_cifar10(tmp_path).x_train) == 12


def test_format_option_and_caps(tmp_path):
    make_bin_set(tmp_path)
    make_py_set(tmp_path, batches=(1, 2, 3))
    assert load_cifar10(tmp_path).preprocessing["format"] == "bin"  # auto prefers binary
    d = load_cifar10(tmp_path, format="py", n_train=15, n_test=2)
    assert d.preprocessing["format"] == "py" and len(d.x_train) == 15 and len(d.x_test) == 2
    assert d.preprocessing["train_batches"] == ["data_batch_1", "data_batch_2"]  # stops early
    with pytest.raises(DatasetError, match="format"):
        load_cifar10(tmp_path, format="png")
    with pytest.raises(DatasetError, match="unknown data option"):
        load_dataset("cifar10", tmp_path, whiten=True)


def test_truncated_binary_batch(tmp_path):
    make_bin_set(tmp_path)
    p = tmp_path / "cifar-10-batches-bin" / "data_batch_3.bin"
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(DatasetError, match="data_batch_3.bin.*whole number") as e:
        load_cifar10(tmp_path)
    assert "\n" not in str(e.value)


def test_binary_label_out_of_range(tmp_path):
    make_bin_set(tmp_path)
    p = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    raw = bytearray(p.read_bytes())
    raw[0] = 10
    p.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="label out of range"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize("mutate,match", [
    (lambda o: o.update({b"data": o[b"data"].astype(np.float32)}), "must be uint8"),
    (lambda o: o.update({b"data": o[b"data"][:, :100]}), "must be uint8"),
    (lambda o: o.update({b"labels": o[b"labels"][:-1]}), "labels"),
    (lambda o: o.pop(b"labels"), "labels"),
])
def test_bad_python_batches(tmp_path, mutate, match):
    make_py_set(tmp_path)
    p = tmp_path / "cifar-10-batches-py" / "data_batch_1"
    obj = pickle.loads(p.read_bytes())
    mutate(obj)
    p.write_bytes(pickle.dumps(obj, protocol=2))
    with pytest.raises(DatasetError, match=match):
        load_cifar10(tmp_path)


def test_truncated_pickle(tmp_path):
    make_py_set(tmp_path)
    p = tmp_path / "cifar-10-batches-py" / "test_batch"
    p.write_bytes(p.read_bytes()[:500])
    with pytest.raises(DatasetError, match="corrupt or truncated pickle|refused or corrupt"):
        load_cifar10(tmp_path)


def test_missing_test_batch_and_offline_message(tmp_path):
    make_bin_set(tmp_path)
    (tmp_path / "cifar-10-batches-bin" / "test_batch.bin").unlink()
    with pytest.raises(DatasetError) as e:
        load_cifar10(tmp_path)
    msg = str(e.value)
    assert "\n" not in msg and "CIFAR-10 not found" in msg and str(tmp_path) in msg
    assert "cs.toronto.edu/~kriz/cifar-10-binary.tar.gz" in msg


# ------------------------------------------------------------------ restricted unpickling

class _SystemCall:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_malicious_pickle_is_refused_and_not_run(tmp_path):
    sentinel = tmp_path / "pwned"
    payload = pickle.dumps({b"data": _SystemCall(str(sentinel))}, protocol=2)
    with pytest.raises(DatasetError, match="not allowed"):
        restricted_loads(payload, "evil")
    assert not sentinel.exists()
    # and through the loader, as a data batch
    make_py_set(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(payload)
    with pytest.raises(DatasetError, match="data_batch_1.*not allowed"):
        load_cifar10(tmp_path)
    assert not sentinel.exists()


@pytest.mark.parametrize("module,name", [
    ("builtins", "eval"), ("builtins", "getattr"), ("builtins", "__import__"),
    ("os", "system"), ("subprocess", "Popen"), ("numpy", "load"), ("copyreg", "_reconstructor"),
    ("numpy.testing._private.utils", "runstring"),
])
def test_unpickler_admits_only_the_needed_globals(module, name):
    with pytest.raises(pickle.UnpicklingError):
        RestrictedUnpickler(io.BytesIO(b"")).find_class(module, name)


def test_unpickler_admits_numpy_arrays():
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for proto in (2, 4):
        b = restricted_loads(pickle.dumps({"a": a, "n": [1, 2.5, "x", b"y"]}, protocol=proto))
        np.testing.assert_array_equal(b["a"], a)
        assert b["n"] == [1, 2.5, "x", b"y"]


# ------------------------------------------------------------------ download

def _tarball(folder: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(folder / "cifar-10-batches-bin", arcname="cifar-10-batches-bin")
    return buf.getvalue()


def test_download_and_extract(tmp_path, http_server, isolated_env, monkeypatch):
    data = make_bin_set(tmp_path / "src", batches=(1, 2, 3, 4, 5), n=4)
    blob = _tarball(tmp_path / "src")
    url = http_server("/~kriz/cifar-10-binary.tar.gz", blob)
    monkeypatch.setitem(cifar10.TARBALLS, "bin",
                        RemoteFile(url, sha256=hashlib.sha256(blob).hexdigest(), size=len(blob)))
    d = load_cifar10(None, download=True, progress=False)
    assert d.x_train.shape == (20, 3072)
    np.testing.assert_array_equal(d.y_test, data["test"][1])
    target = isolated_env / "cifar10"
    assert sorted(p.name for p in target.iterdir()) == ["cifar-10-batches-bin"]  # tarball gone
    assert len(load_cifar10(None, download=False).x_train) == 20  # now found in the cache


def test_download_with_bad_checksum(tmp_path, http_server, isolated_env, monkeypatch):
    make_bin_set(tmp_path / "src")
    blob = _tarball(tmp_path / "src")
    url = http_server("/c.tar.gz", blob)
    monkeypatch.setitem(cifar10.TARBALLS, "bin", RemoteFile(url, sha256="0" * 64))
    with pytest.raises(DatasetError, match="CIFAR-10 not found locally and .*sha256"):
        load_cifar10(None, download=True, progress=False)
    assert not (isolated_env / "cifar10" / "cifar-10-batches-bin").exists()


def test_download_with_unsafe_tarball(tmp_path, http_server, monkeypatch):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-bin/../../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    blob = buf.getvalue()
    url = http_server("/u.tar.gz", blob)
    monkeypatch.setitem(cifar10.TARBALLS, "bin", RemoteFile(url))
    with pytest.raises(DatasetError, match="unsafe member"):
        load_cifar10(None, download=True, progress=False)


def test_canonical_tarball_checksums():
    assert cifar10.TARBALLS["py"].md5 == "c58f30108f718f92721af3b95e74349a"
    assert cifar10.TARBALLS["bin"].url.endswith("cifar-10-binary.tar.gz")


# ------------------------------------------------------------------ the real (partial) copy

def test_real_partial_cifar10(shared_data, need):
    need(shared_data / "cifar10" / "cifar-10-batches-py" / "data_batch_1")
    d = load_dataset("cifar10", shared_data)
    assert d.x_train.shape == (16000, 3072) and d.x_test.shape == (5000, 3072)
    assert d.preprocessing["format"] == "py"
    assert d.label_names == list(LABEL_NAMES)
    assert list(d.y_train[:10]) == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]  # the official first labels
    assert list(d.y_test[:5]) == [3, 8, 8, 0, 6]
    assert np.bincount(d.y_test, minlength=10).min() > 400  # roughly balanced
    # NEUROEVO_DATA-style subfolder pointing works as well
    d2 = load_cifar10(shared_data / "cifar10", n_train=10, n_test=10)
    np.testing.assert_array_equal(d2.x_train, d.x_train[:10])
