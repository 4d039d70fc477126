"""`draw` and `browse` with a convolutional model (a layer list in its model file)."""

from __future__ import annotations

import numpy as np

from nn.io import save_model
from nn.network import Network


def save_convnet(path):
    net = Network(layers=[{"conv": 3, "kernel": 3, "padding": "same"}, {"pool": 2},
                          {"dense": 10}], input_shape=(28, 28, 1),
                  rng=np.random.default_rng(0))
    save_model(path, net, input_shape=[28, 28, 1], dataset="mnist",
               data_options={"n_train": 100, "n_test": 300}, label_names=list("0123456789"),
               preprocessing={"scale": "0-1", "orientation": "top-down"})
    return path


def test_draw_runs_a_convnet(cli, gui, tmp_path):
    path = save_convnet(tmp_path / "cnn.npz")
    shot = tmp_path / "draw.png"
    proc = cli("draw", str(path), "--frames", "2", "--screenshot", str(shot))
    assert proc.returncode == 0, proc.stderr
    assert "conv3k3-pool2-flat-dense10 network" in proc.stderr
    assert shot.read_bytes()[:4] == b"\x89PNG"


def test_browse_runs_a_convnet_on_real_mnist(cli, gui, need_shared_data, tmp_path):
    data = need_shared_data("mnist")
    path = save_convnet(tmp_path / "cnn.npz")
    shot = tmp_path / "browse.png"
    proc = cli("browse", str(path), "--frames", "2", "--screenshot", str(shot),
               env={"NEUROEVO_DATA": str(data.parent), "NEUROEVO_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("mnist test set: 300 images, accuracy 0.")
    assert shot.read_bytes()[:4] == b"\x89PNG"
