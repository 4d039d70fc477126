"""Image classification end to end on the real shared data (skipped when the data are
missing, which fails the test in CI: tests/conftest.py)."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from nn.lague import export_lague
from nn.network import Network
from tests.conftest import REPO, assert_user_error

_ENV = os.environ.get("NEUROEVO_DATA", "")
SHARED = Path(_ENV.split(os.pathsep)[0]) if _ENV else REPO.parent / "shared" / "datasets"
FASHION = Path("/usr/share/datasets/fashion-mnist")


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found: {path}")
    return path


def accuracy(stdout: str) -> float:
    m = re.search(r"^test accuracy: ([01]\.\d{4})$", stdout, re.M)
    assert m, stdout
    return float(m.group(1))


def test_mnist_10k_images_two_epochs_clears_93_percent(tmp_path, cli):
    need(SHARED / "mnist")
    out = tmp_path / "run"
    proc = cli("train", "mnist", "--data-dir", str(SHARED), "--epochs", "2", "--set",
               "data.options.n_train=10000", "--set", "model.hidden=[256]", "--set",
               "train.batch_size=32", "--set", "train.lr=0.002", "--set", "train.decay=0.0",
               "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert accuracy(proc.stdout) >= 0.93
    for name in ("mistakes.png", "confusion.png", "report.md", "curves.png"):
        assert (out / name).stat().st_size > 0
    report = (out / "report.md").read_text()
    assert "| 7 |" in report and "Test accuracy" in report
    ev = cli("evaluate", str(out / "model.npz"), "--data-dir", str(SHARED), "--json")
    obj = json.loads(ev.stdout)
    assert abs(obj["accuracy"] - accuracy(proc.stdout)) < 1e-4 and obj["n"] == 10000


def test_augmented_doodles_run(tmp_path, cli):
    need(SHARED / "quickdraw" / "numpy_bitmap" / "cat.npy")
    proc = cli("train", "doodles-cat-bicycle", "--data-dir", str(SHARED), "--epochs", "1",
               "--set", "data.options.max_per_category=500", "--set", "model.hidden=[32]",
               "--out", str(tmp_path / "d"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert accuracy(proc.stdout) > 0.6


def test_a_network_of_the_original_project_evaluates_on_fashion(tmp_path, cli):
    """Train briefly, export in the original JSON format (bottom-up pixels), evaluate the
    JSON file directly: same accuracy as our own model file."""
    need(FASHION)
    out = tmp_path / "f"
    proc = cli("train", "fashion", "--epochs", "1", "--set", "data.options.n_train=6000",
               "--set", "model.hidden=[32]", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    ours = accuracy(proc.stdout)
    exp = cli("export", str(out / "model.npz"), "--format", "lague-json", "--out",
              str(tmp_path / "net.json"))
    assert exp.returncode == 0, exp.stderr
    ev = cli("evaluate", str(tmp_path / "net.json"), "--dataset", "fashion")
    assert ev.returncode == 0, ev.stderr
    assert abs(accuracy(ev.stdout) - ours) <= 2e-4
    assert re.search(r"^Ankle boot\s+1000\s+0\.\d{4}$", ev.stdout, re.M), ev.stdout


def test_a_model_that_does_not_fit_the_dataset(tmp_path, cli):
    need(FASHION)
    net = Network([100, 10], ["softmax"])
    export_lague(tmp_path / "small.json", net, {"input_shape": [10, 10, 1]})
    assert_user_error(cli("evaluate", str(tmp_path / "small.json"), "--dataset", "fashion"),
                      "100 inputs", "784 features")
    np.savez(tmp_path / "bad.npz", theta=np.zeros(3))
    assert_user_error(cli("evaluate", str(tmp_path / "bad.npz"), "--dataset", "fashion"),
                      "not a neuroevo model")
