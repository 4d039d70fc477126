"""IDX reader and the MNIST / Fashion-MNIST loaders, on generated files and the real ones."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from nn.data import load_dataset
from nn.data.idx import encode_idx, parse_idx, read_idx
from nn.data.mnist import FASHION, MNIST, IdxFile, load_fashion, load_idx_dataset, load_mnist
from nn.errors import DatasetError

RNG = np.random.default_rng(0)


# ------------------------------------------------------------------ IDX format

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
def test_idx_roundtrip(dtype):
    a = (RNG.random((3, 4, 5)) * 100).astype(dtype)
    b = parse_idx(encode_idx(a))
    assert b.shape == a.shape and np.array_equal(b, a)


def test_read_idx_gzip_and_raw(tmp_path):
    a = RNG.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    (tmp_path / "raw").write_bytes(encode_idx(a))
    (tmp_path / "gz.gz").write_bytes(gzip.compress(encode_idx(a)))
    for name in ("raw", "gz.gz"):
        assert np.array_equal(read_idx(tmp_path / name, ndim=3, shape_tail=(28, 28)), a)


@pytest.mark.parametrize("data,match", [
    (b"\x00\x00", "too short"),
    (b"\x01\x02\x08\x01" + b"\x00\x00\x00\x01" + b"\x05", "bad IDX magic"),
    (b"\x00\x00\x07\x01" + b"\x00\x00\x00\x01" + b"\x05", "unknown IDX type"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x02\x00\x00", "truncated IDX header"),
    (b"\x00\x00\x08\x01" + b"\x00\x00\x00\x05" + b"\x01\x02", "truncated"),
    (b"\x00\x00\x08\x01" + b"\x00\x00\x00\x01" + b"\x01\x02", "trailing bytes"),
])
def test_idx_structure_errors(data, match):
    with pytest.raises(DatasetError, match=match) as e:
        parse_idx(data, "f.idx")
    assert "\n" not in str(e.value) and "f.idx" in str(e.value)


def test_truncated_gzip(tmp_path):
    blob = gzip.compress(encode_idx(RNG.integers(0, 256, (50, 28, 28), dtype=np.uint8)))
    p = tmp_path / "x.gz"
    p.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DatasetError, match="corrupt or truncated gzip"):
        read_idx(p)


def test_read_idx_checks_shape(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(encode_idx(np.zeros((2, 3), np.uint8)))
    with pytest.raises(DatasetError, match="expected 3 dimensions"):
        read_idx(p, ndim=3)
    with pytest.raises(DatasetError, match="items of shape"):
        read_idx(p, shape_tail=(4,))


# ------------------------------------------------------------------ loaders on generated files

def make_idx_set(folder: Path, n_train=20, n_test=6, gz=True, side=28, n_labels=10,
                 lecun_names=False, seed=0):
    """Write a small MNIST-layout set; returns the arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, n_labels, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, side, side), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, n_labels, n_test, dtype=np.uint8),
    }
    for name, a in arrays.items():
        data = encode_idx(a)
        fname = name.replace("-idx", ".idx") if lecun_names else name
        if gz:
            (folder / f"{fname}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / fname).write_bytes(data)
    return arrays


def test_load_generated_set(tmp_path):
    arrays = make_idx_set(tmp_path / "mnist")
    d = load_mnist(tmp_path, verify=False)
    assert d.name == "mnist" and d.input_shape == (28, 28, 1)
    assert d.x_train.shape == (20, 784) and d.x_test.shape == (6, 784)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    np.testing.assert_array_equal(d.x_train * 255, arrays["train-images-idx3-ubyte"]
                                  .reshape(20, -1).astype(np.float32))
    np.testing.assert_array_equal(d.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert d.label_names == [str(i) for i in range(10)]
    assert d.preprocessing["orientation"] == "top-down" and d.preprocessing["scale"] == "0-1"


@pytest.mark.parametrize("gz,lecun", [(False, False), (True, True), (False, True)])
def test_raw_and_lecun_names(tmp_path, gz, lecun):
    make_idx_set(tmp_path, gz=gz, lecun_names=lecun)
    assert load_mnist(tmp_path, verify=False).x_train.shape == (20, 784)


def test_caps_take_the_first_n(tmp_path):
    arrays = make_idx_set(tmp_path / "mnist")
    d = load_mnist(tmp_path, verify=False, n_train=5, n_test=2)
    assert len(d.x_train) == 5 and len(d.y_test) == 2
    np.testing.assert_array_equal(d.y_train, arrays["train-labels-idx1-ubyte"][:5])
    with pytest.raises(DatasetError, match="positive integer"):
        load_mnist(tmp_path, verify=False, n_train=0)


def test_checksums_reject_non_official_files(tmp_path):
    make_idx_set(tmp_path / "mnist")
    with pytest.raises(DatasetError, match="checksum mismatch") as e:
        load_mnist(tmp_path)
    assert "\n" not in str(e.value)


def test_count_mismatch_and_label_range(tmp_path):
    make_idx_set(tmp_path / "a")
    (tmp_path / "a" / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(encode_idx(np.zeros(5, np.uint8))))
    with pytest.raises(DatasetError, match="6 images but .* 5 labels"):
        load_mnist(tmp_path / "a", verify=False)
    make_idx_set(tmp_path / "b", n_labels=12, n_train=200)
    with pytest.raises(DatasetError, match="out of range"):
        load_mnist(tmp_path / "b", verify=False)


def test_corrupt_file_is_one_line(tmp_path):
    make_idx_set(tmp_path)
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:100])
    with pytest.raises(DatasetError, match="train-images") as e:
        load_mnist(tmp_path, verify=False)
    assert "\n" not in str(e.value)


def test_missing_files_offline_message(tmp_path):
    with pytest.raises(DatasetError) as e:
        load_mnist(tmp_path)
    msg = str(e.value)
    assert "\n" not in msg
    assert "train-images-idx3-ubyte" in msg and str(tmp_path) in msg
    assert "storage.googleapis.com/cvdf-datasets/mnist" in msg


def test_search_order_data_dir_env_cache(tmp_path, monkeypatch, isolated_env):
    make_idx_set(tmp_path / "explicit" / "mnist", n_train=11)
    make_idx_set(tmp_path / "env" / "mnist", n_train=12)
    make_idx_set(isolated_env / "mnist", n_train=13)  # the (private) cache folder
    monkeypatch.setenv("NEUROEVO_DATA", str(tmp_path / "env"))
    assert len(load_mnist(tmp_path / "explicit", verify=False).x_train) == 11
    assert len(load_mnist(None, verify=False).x_train) == 12
    # NEUROEVO_DATA may point straight at the dataset folder too
    monkeypatch.setenv("NEUROEVO_DATA", str(tmp_path / "env" / "mnist"))
    assert len(load_mnist(None, verify=False).x_train) == 12
    monkeypatch.delenv("NEUROEVO_DATA")
    assert len(load_mnist(None, verify=False).x_train) == 13


def test_partial_folder_is_skipped(tmp_path):
    make_idx_set(tmp_path / "first" / "mnist")
    (tmp_path / "first" / "mnist" / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match="not found"):
        load_mnist(tmp_path / "first", verify=False)


def test_unknown_option(tmp_path):
    with pytest.raises(DatasetError, match="unknown data option"):
        load_dataset("mnist", tmp_path, shuffle=True)


def test_download_into_cache(tmp_path, http_server, isolated_env):
    """A missing set is fetched from the (spec's) base URL, verified, cached and loaded."""
    src = tmp_path / "server"
    arrays = make_idx_set(src, n_train=9, n_test=4)
    files = {}
    for role, f in MNIST.files.items():
        raw = (src / f"{f.name}.gz").read_bytes()
        http_server(f"/mnist/{f.name}.gz", raw)
        files[role] = IdxFile(f.name, hashlib.sha256(raw).hexdigest(), len(raw),
                              hashlib.sha256(gzip.decompress(raw)).hexdigest())
    spec = replace(MNIST, base_url=http_server.base + "/mnist/", files=files)
    d = load_idx_dataset(spec, download=True, progress=False)
    assert len(d.x_train) == 9
    np.testing.assert_array_equal(d.y_train, arrays["train-labels-idx1-ubyte"])
    assert sorted(p.name for p in (isolated_env / "mnist").iterdir()) == \
        sorted(f"{f.name}.gz" for f in files.values())
    # second time: found in the cache, no server needed
    spec_offline = replace(spec, base_url="http://127.0.0.1:9/")
    assert len(load_idx_dataset(spec_offline, download=False).x_train) == 9


def test_download_checksum_failure_is_reported(tmp_path, http_server):
    src = tmp_path / "server"
    make_idx_set(src)
    files = {}
    for role, f in MNIST.files.items():
        raw = (src / f"{f.name}.gz").read_bytes()
        http_server(f"/m/{f.name}.gz", raw)
        files[role] = replace(f, gz_size=len(raw))  # right size, the real (other) sums
    spec = replace(MNIST, base_url=http_server.base + "/m/", files=files)
    with pytest.raises(DatasetError, match="not found locally .* failed its sha256 check"):
        load_idx_dataset(spec, download=True, progress=False)


# ------------------------------------------------------------------ the real files

def test_real_mnist(shared_data, need):
    need(shared_data / "mnist" / "train-images-idx3-ubyte.gz")
    d = load_mnist(shared_data)  # checksums verified (its speed: bench/bench_data.py)
    assert d.x_train.shape == (60000, 784) and d.x_test.shape == (10000, 784)
    assert list(d.y_train[:8]) == [5, 0, 4, 1, 9, 2, 1, 3]
    assert list(d.y_test[:5]) == [7, 2, 1, 0, 4]
    assert np.bincount(d.y_train).tolist()[:3] == [5923, 6742, 5958]
    assert d.x_train.max() == 1.0 and d.x_train.min() == 0.0


def test_real_mnist_via_subfolder_and_registry(shared_data, need):
    need(shared_data / "mnist")
    d = load_dataset("mnist", shared_data / "mnist", n_train=100, n_test=50)
    assert d.x_train.shape == (100, 784) and d.x_test.shape == (50, 784)


def test_real_fashion(fashion_dir, need):
    need(fashion_dir / "train-images-idx3-ubyte.gz", "apt-get install dataset-fashion-mnist")
    d = load_fashion(fashion_dir)
    assert d.x_train.shape == (60000, 784) and d.x_test.shape == (10000, 784)
    assert d.label_names[0] == "T-shirt/top" and d.label_names[9] == "Ankle boot"
    assert list(d.y_train[:5]) == [9, 0, 0, 3, 0]
    assert np.bincount(d.y_test).tolist() == [1000] * 10


def test_real_fashion_from_system_dir(fashion_dir, need):
    need(fashion_dir / "train-images-idx3-ubyte.gz", "apt-get install dataset-fashion-mnist")
    from nn.data import locate

    locate.FASHION_SYSTEM_DIRS.append(fashion_dir)  # restored by the autouse fixture
    assert FASHION.system_dirs[-1] == fashion_dir
    assert len(load_fashion(n_train=10, n_test=10).x_train) == 10


def test_mnist_folder_is_not_fashion(shared_data, need, tmp_path):
    need(shared_data / "mnist")
    with pytest.raises(DatasetError, match="Fashion-MNIST not found"):
        load_fashion(shared_data / "mnist")
    # named as Fashion-MNIST, the MNIST files are told apart by their checksums
    link = tmp_path / "fashion-mnist"
    link.symlink_to(shared_data / "mnist")
    with pytest.raises(DatasetError, match="not found|is a MNIST file"):
        load_fashion(tmp_path)
