"""`neuroevo compare mnist-cnn`: backprop and evolution on one small convolutional network
(the population evaluated through the shared patch matrix)."""

import json
import os
from pathlib import Path

import pytest

from tests.conftest import assert_user_error

SHARED = Path(os.environ.get("NEUROEVO_DATA", "").split(os.pathsep)[0]
              or Path(__file__).parents[3] / "shared" / "datasets")


@pytest.fixture
def mnist_env():
    if not (SHARED / "mnist").is_dir():
        pytest.skip(f"real data not found: {SHARED / 'mnist'}")
    return {"NEUROEVO_DATA": str(SHARED), "NEUROEVO_OFFLINE": "1"}


def test_short_mnist_cnn_comparison(tmp_path, cli, mnist_env):
    out = tmp_path / "cmp"
    proc = cli("compare", "mnist-cnn", "--budget-seconds", "1.5", "--subset", "2000",
               "--methods", "es,backprop-adam", "--set", "evaluations=2",
               "--set", "cnn.population=20", "--set", "cnn.fitness_batch=64",
               "--out", str(out), "--quiet", env=mnist_env)
    assert proc.returncode == 0, proc.stderr
    report = (out / "report.md").read_text()
    assert "a convolutional network: conv 8 (5x5, stride 2), conv 16 (3x3, stride 2)" in report
    res = json.loads((out / "results.json").read_text())
    assert res["config"]["cnn"]["population"] == 20
    es, adam = res["results"]["es"][0], res["results"]["backprop-adam"][0]
    assert es["num_params"] == adam["num_params"] == 5386  # the same convnet
    assert es["curve"]["evaluations"][-1] % (20 * 64) == 0  # whole generations of 20 x 64
    acc = adam["curve"]["accuracy"]
    assert all(0 <= a <= 1 for a in acc)
    assert acc[-1] > acc[0] + 0.05  # it learned (how far in 1.5 s depends on the machine)


def test_bad_cnn_compare_config(cli, mnist_env):
    assert_user_error(cli("compare", "mnist-cnn", "--set",
                          "cnn.layers=[{conv: 4}, {dropout: 0.5}, {dense: 10}]",
                          env=mnist_env), "cnn.layers", "no dropout")
    assert_user_error(cli("compare", "mnist-cnn", "--set", "cnn.population=5",
                          env=mnist_env), "cnn.population")
