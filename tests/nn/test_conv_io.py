"""Convolutional networks in model files, configs and commands: round trips, version 2
metadata, and every bad file or config refused in one line (exit status 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nn.errors import ModelFileError
from nn.io import load_model, save_model
from nn.network import Network
from tests.conftest import assert_user_error
from tests.nn.checks import rewrite

LAYERS = [{"conv": 4, "kernel": 5, "padding": 2}, {"pool": 2},
          {"conv": 6, "kernel": 3, "stride": 2}, {"dropout": 0.2}, {"dense": 10}]
SHARED = Path(__import__("os").environ.get("NEUROEVO_DATA", "").split(":")[0]
              or Path(__file__).parents[3] / "shared" / "datasets")


def tiny_convnet(dtype=np.float32, seed=0) -> Network:
    return Network(layers=LAYERS, input_shape=(28, 28, 1), dtype=dtype,
                   rng=np.random.default_rng(seed))



@pytest.fixture
def saved(tmp_path):
    net = tiny_convnet()
    path = tmp_path / "model.npz"
    save_model(path, net, input_shape=[28, 28, 1], dataset="mnist",
               data_options={"n_train": 100, "n_test": 300})
    return net, path


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_records_the_layer_list(tmp_path, dtype):
    net = tiny_convnet(dtype, seed=3)
    save_model(tmp_path / "m.npz", net, input_shape=[28, 28, 1])
    loaded, meta = load_model(tmp_path / "m.npz")
    x = np.random.default_rng(2).random((7, 784))
    np.testing.assert_array_equal(loaded.predict_proba(x), net.predict_proba(x))
    assert loaded.dtype == dtype and loaded.layer_specs() == net.layer_specs()
    assert meta["version"] == 2 and meta["input_shape"] == [28, 28, 1]
    assert meta["layers"][0] == {"conv": 4, "kernel": 5, "stride": 1, "padding": 2,
                                 "activation": "relu"}
    assert {"flatten": True} in meta["layers"] and {"dropout": 0.2} in meta["layers"]
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:
        assert sorted(z.files) == ["meta", "theta"]


def test_perceptrons_are_still_written_as_version_1(tmp_path):
    net = Network([4, 3, 2], ["relu", "softmax"])
    save_model(tmp_path / "m.npz", net)
    _, meta = load_model(tmp_path / "m.npz")
    assert meta["version"] == 1 and "layers" not in meta


@pytest.mark.parametrize("case,fragment", [
    ("newer", "written by a newer neuroevo"),
    ("older", "version 0 is not supported"),
    ("shape", "parameters stored but layers conv4k5-pool2-conv6k3s2-drop0.2-flat-dense10"),
    ("input", "describes no valid network"),
    ("layers", "describes no valid network (layers[1]: unknown key(s) size"),
    ("missing", "lacks 'layers'"),
])
def test_bad_convnet_files_raise_one_line(saved, case, fragment):
    _, path = saved
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
    if case == "newer":
        rewrite(path, meta={"version": 3})
    elif case == "older":
        rewrite(path, meta={"version": 0})
    elif case == "shape":
        rewrite(path, theta=np.zeros(100, np.float32))
    elif case == "input":
        rewrite(path, meta={"input_shape": [3, 3, 1]})
    elif case == "layers":
        rewrite(path, meta={"layers": [meta["layers"][0], {"pool": 2, "size": 3},
                                       *meta["layers"][2:]]})
    elif case == "missing":
        meta.pop("layers")
        np.savez(path, theta=np.zeros(3, np.float32), meta=np.array(json.dumps(meta)))
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    msg = str(info.value)
    assert fragment in msg and "\n" not in msg and str(path) in msg


def test_lague_export_refuses_convnets(saved, tmp_path, cli):
    _, path = saved
    proc = cli("export", str(path), "--out", str(tmp_path / "m.json"))
    assert_user_error(proc, "dense layers only", "conv", "pool")
    assert not (tmp_path / "m.json").exists()


def need_mnist():
    if not (SHARED / "mnist").is_dir():
        pytest.skip(f"real data not found: {SHARED / 'mnist'}")
    return {"NEUROEVO_DATA": str(SHARED), "NEUROEVO_OFFLINE": "1"}


def test_train_and_evaluate_a_convnet_end_to_end(tmp_path, cli):
    """A tiny layer list through `train` (one short epoch) and `evaluate`: the same
    accuracy, and the model file records the layers."""
    env = need_mnist()
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("""data: {name: mnist, options: {n_train: 600, n_test: 300}}
model:
  layers: [{conv: 4, kernel: 3, padding: same}, {pool: 2}, {dropout: 0.1}, {dense: 10}]
train: {epochs: 2, batch_size: 32, optimizer: adam, lr: 0.003, l2: 0.0, decay: 0.0}
""")
    out = tmp_path / "run"
    proc = cli("train", "mnist", "--config", str(cfg), "--out", str(out), "--quiet", env=env)
    assert proc.returncode == 0, proc.stderr
    acc = proc.stdout.strip().splitlines()[-1]
    assert acc.startswith("test accuracy: 0.") and float(acc.split()[-1]) > 0.5, acc
    assert "conv4k3-pool2-drop0.1-flat-dense10" in proc.stderr
    _, meta = load_model(out / "model.npz")
    assert meta["version"] == 2 and meta["layers"][1] == {"pool": 2}
    ev = cli("evaluate", str(out / "model.npz"), env=env)
    assert ev.returncode == 0, ev.stderr
    assert ev.stdout.splitlines()[0] == acc
    # --resume finds the run finished; the layer list survives the checkpoint's config
    again = cli("train", "mnist", "--resume", str(out), "--quiet", env=env)
    assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == acc


@pytest.mark.parametrize("layers,fragment", [
    ("[{conv: 4, kernal: 3}, {dense: 10}]", "model.layers: layers[0]: unknown key(s) kernal"),
    ("[{conv: 4}, {pool: 2}]", "the last layer must be a dense layer"),
    ("[{conv: 4, kernel: 3}, {dense: 7}]", "7 outputs but dataset mnist has 10 classes"),
    ("[{conv: 4, kernel: 29}, {dense: 10}]", "model.layers[0]: conv kernel 29"),
])
def test_bad_layer_configs_are_one_line(tmp_path, cli, layers, fragment):
    env = need_mnist()
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(f"data: {{name: mnist, options: {{n_train: 100, n_test: 100}}}}\n"
                   f"model: {{layers: {layers}}}\n")
    proc = cli("train", "mnist", "--config", str(cfg), "--out", str(tmp_path / "run"),
               env=env)
    assert_user_error(proc, fragment)


def test_layers_on_a_tabular_dataset_are_one_line(tmp_path, cli):
    proc = cli("train", "fruit", "--set", "model.layers=[{conv: 4}, {dense: 2}]",
               "--out", str(tmp_path / "run"))
    assert_user_error(proc, "needs image inputs")


def test_evaluate_refuses_a_convnet_on_other_images(saved, cli, tmp_path):
    _, path = saved
    if not (SHARED / "cifar10").is_dir():
        pytest.skip(f"real data not found: {SHARED / 'cifar10'}")
    proc = cli("evaluate", str(path), "--dataset", "cifar10",
               env={"NEUROEVO_DATA": str(SHARED), "NEUROEVO_OFFLINE": "1"})
    assert_user_error(proc, "28x28x1 images", "32x32x3")


@pytest.mark.parametrize("name,shape", [("mnist-cnn", (28, 28, 1)), ("fashion-cnn", (28, 28, 1)),
                                        ("cifar10-cnn", (32, 32, 3))])
def test_shipped_convnet_configs_build_their_networks(name, shape):
    from common.config import load_config, named_config
    from nn.config import TrainRunConfig

    cfg = load_config(TrainRunConfig, named_config(name))
    net = Network(layers=cfg.model.resolved_layers(), input_shape=shape)
    assert net.n_outputs == 10 and not net.is_mlp
    assert net.layer_specs()[-1] == {"dense": 10, "activation": "softmax"}
    assert bool(cfg.data.augment) == (name == "cifar10-cnn")  # as the MLP configs
