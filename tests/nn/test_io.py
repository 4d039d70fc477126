"""Model files: round trips, and every kind of bad file refused with one clear line."""


import numpy as np
import pytest

from common.files import atomic_write
from nn.errors import ModelFileError
from nn.io import load_model, save_model
from nn.network import Network
from tests.nn.checks import rewrite


@pytest.fixture
def saved(tmp_path):
    net = Network([5, 7, 3], ["silu", "softmax"], rng=np.random.default_rng(0))
    path = tmp_path / "model.npz"
    save_model(path, net, input_shape=[5], label_names=["a", "b", "c"], dataset="toy")
    return net, path


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_identical_predictions(tmp_path, dtype):
    net = Network([4, 6, 2], ["tanh", "sigmoid"], loss="mse", dtype=dtype,
                  rng=np.random.default_rng(1))
    save_model(tmp_path / "m.npz", net, label_names=["no", "yes"])
    loaded, meta = load_model(tmp_path / "m.npz")
    x = np.random.default_rng(2).normal(size=(20, 4))
    np.testing.assert_array_equal(loaded.predict_proba(x), net.predict_proba(x))
    assert loaded.dtype == dtype and loaded.sizes == [4, 6, 2]
    assert meta["label_names"] == ["no", "yes"] and meta["version"] == 1
    assert meta["activations"] == ["tanh", "sigmoid"] and meta["loss"] == "mse"


def test_file_holds_arrays_only(saved):
    _, path = saved
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["meta", "theta"]
        assert z["meta"].dtype.kind == "U"


def test_no_temporary_files_left(saved, tmp_path):
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_failed_write_keeps_the_old_file(saved):
    net, path = saved
    before = path.read_bytes()

    def boom(f):
        f.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, boom)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]



@pytest.mark.parametrize("case,fragment", [
    ("truncated", "truncated or corrupt"),
    ("garbage", "not a model file"),
    ("text", "not a model file"),
    ("version", "version 99"),
    ("shape", "parameters stored"),
    ("missing", "no such model file"),
    ("foreign", "not a neuroevo model"),
    ("pickled", "not a model file"),
])
def test_bad_files_raise_one_line(saved, tmp_path, case, fragment):
    _, path = saved
    if case == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif case == "garbage":
        path.write_bytes(b"\x00" * 100)
    elif case == "text":  # e.g. `neuroevo evaluate README.md`
        path.write_text("# a README\n\nnot a model\n")
    elif case == "version":
        rewrite(path, meta={"version": 99})
    elif case == "shape":
        rewrite(path, theta=np.zeros(10, np.float32))
    elif case == "missing":
        path = tmp_path / "nope.npz"
    elif case == "foreign":
        np.savez(path, weights=np.zeros(3))
    elif case == "pickled":
        np.savez(path, theta=np.array([object()], dtype=object), meta=np.array("{}"))
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    msg = str(info.value)
    assert fragment in msg and "\n" not in msg and str(path) in msg
    assert "allow_pickle" not in msg and "unsafe" not in msg  # never advice to unpickle


def test_input_standardisation_round_trips_and_exports(tmp_path):
    from nn.data.dataset import standardization
    from nn.lague import export_lague, load_lague

    rng = np.random.default_rng(5)
    x = rng.random((40, 12)) * 3 + 1  # images (2, 2, 3)
    net = Network([12, 5, 3], ["relu", "softmax"], dtype=np.float64, rng=rng)
    shift, scale = standardization(x, (2, 2, 3))
    z = (x - shift) * scale
    np.testing.assert_allclose(z.reshape(40, 4, 3).mean(axis=(0, 1)), 0, atol=1e-12)
    np.testing.assert_allclose(z.reshape(40, 4, 3).std(axis=(0, 1)), 1, rtol=1e-9)
    net.set_input_norm(shift, scale)
    ref = net.predict_proba(x)
    raw = Network([12, 5, 3], ["relu", "softmax"], dtype=np.float64)
    raw.set_params(net.theta)
    np.testing.assert_allclose(raw.predict_proba(z), ref)  # the norm really is applied
    pop = net.forward_population(x, net.theta[None, :])[0]
    np.testing.assert_allclose(pop, ref, rtol=1e-12)
    save_model(tmp_path / "m.npz", net, input_shape=[2, 2, 3])
    loaded, _ = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict_proba(x), ref)
    # exported to the original format, the standardisation is folded into the first layer
    export_lague(tmp_path / "m.json", net, {"input_shape": [12],
                                           "preprocessing": {"orientation": "top-down"}})
    imported, _ = load_lague(tmp_path / "m.json")
    np.testing.assert_allclose(imported.predict_proba(x), ref, rtol=1e-9, atol=1e-12)
