"""The train/evaluate commands end to end, in subprocesses."""

import csv
import json
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from nn.io import load_model, save_model
from nn.network import Network
from tests.conftest import REPO, assert_user_error, run_cli


def test_curved_fruit_default_config_reaches_97_percent(tmp_path, cli):
    out = tmp_path / "run"
    proc = cli("train", "fruit-curved", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    m = re.search(r"^test accuracy: (0\.\d{4}|1\.0000)$", proc.stdout, re.M)
    assert m, proc.stdout
    assert float(m.group(1)) >= 0.97
    for name in ("model.npz", "metrics.csv", "timing.csv", "curves.png", "boundary.png",
                 "config.yaml"):
        assert (out / name).stat().st_size > 0, name
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["data"]["name"] == "fruit-curved" and resolved["train"]["epochs"] == 200
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert len(rows) == 200 and float(rows[-1]["val_accuracy"]) > 0.9

    # evaluate reproduces the same test accuracy, in text and JSON
    ev = cli("evaluate", str(out / "model.npz"))
    assert ev.returncode == 0, ev.stderr
    assert f"test accuracy: {m.group(1)}" in ev.stdout
    assert re.search(r"^poisonous\s+\d+\s+0\.\d{4}", ev.stdout, re.M)
    js = cli("evaluate", str(out / "model.npz"), "--json")
    obj = json.loads(js.stdout)
    assert set(obj) == {"accuracy", "per_class", "n"}
    assert abs(obj["accuracy"] - float(m.group(1))) < 1e-4 and obj["n"] == 400
    assert set(obj["per_class"]) == {"safe", "poisonous"}


def test_same_seed_same_metrics(tmp_path, cli):
    runs = []
    for d in ("a", "b"):
        proc = cli("train", "fruit", "--epochs", "5", "--seed", "3", "--out", str(tmp_path / d),
                   "--quiet")
        assert proc.returncode == 0, proc.stderr
        runs.append((tmp_path / d / "metrics.csv").read_bytes())
    assert runs[0] == runs[1]
    rows = list(csv.DictReader(open(tmp_path / "a" / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5]  # counted from 1
    na, _ = load_model(tmp_path / "a" / "model.npz")
    nb, _ = load_model(tmp_path / "b" / "model.npz")
    np.testing.assert_array_equal(na.theta, nb.theta)


def test_evaluate_refuses_a_model_of_the_wrong_shape(tmp_path, cli):
    net = Network([3, 4, 2], ["relu", "softmax"])
    save_model(tmp_path / "m.npz", net, dataset="fruit")
    proc = cli("evaluate", str(tmp_path / "m.npz"))
    assert_user_error(proc, "3 inputs", "2 features")
    net = Network([2, 4, 5], ["relu", "softmax"])
    save_model(tmp_path / "m5.npz", net)
    assert_user_error(cli("evaluate", str(tmp_path / "m5.npz"), "--dataset", "fruit"),
                      "5 outputs")


def test_evaluate_refuses_bad_files(tmp_path, cli):
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really")
    assert_user_error(cli("evaluate", str(tmp_path / "junk.npz"), "--dataset", "fruit"),
                      "junk.npz")
    assert_user_error(cli("evaluate", str(tmp_path / "none.npz")), "no such model file")


def test_diverging_run_exits_2_and_keeps_a_model(tmp_path, cli):
    out = tmp_path / "run"
    proc = cli("train", "fruit", "--set", "model.output_activation=identity", "--set",
               "model.loss=mse", "--set", "train.lr=1000", "--out", str(out), "--quiet")
    line = assert_user_error(proc, "learning rate")
    assert "diverged" in line
    net, _ = load_model(out / "model.npz")
    assert np.all(np.isfinite(net.theta))


def test_ctrl_c_saves_and_exits_130(tmp_path):
    out = tmp_path / "run"
    env_py = {"PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "neuroevo", "train", "fruit-curved", "--epochs", "100000",
         "--out", str(out), "--quiet"], cwd=REPO, env={**__import__("os").environ, **env_py},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (out / "metrics.csv").exists() and time.time() < deadline:
        time.sleep(0.1)
    assert (out / "metrics.csv").exists(), "training never got going"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    net, meta = load_model(out / "model.npz")
    assert meta["epochs_completed"] >= 1
    assert (out / "curves.png").exists()
    # a resumable checkpoint of the last finished epoch, and the message says how
    assert f"resume with --resume {out}" in err
    from nn.callbacks import CHECKPOINT, read_checkpoint

    _, ckpt = read_checkpoint(out / CHECKPOINT)
    done = meta["epochs_completed"]
    assert ckpt["status"] == "interrupted" and ckpt["epoch"] == done
    assert len(list(csv.DictReader(open(out / "metrics.csv")))) == done
    res = run_cli("train", "fruit-curved", "--resume", str(out), "--epochs", str(done + 2),
                  "--quiet")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == list(range(1, done + 3))


@pytest.mark.parametrize("name,fragments", [
    ("mnsit", ["no dataset named 'mnsit'", "did you mean 'mnist'?"]),
    ("cars", ["cars are evolved", "neuroevo evolve cars"]),
    ("walkers", ["walkers are evolved", "neuroevo evolve walkers"]),
    ("compare", ["compare is a config of neuroevo compare, not a dataset"]),
    ("gym-CartPole-v1", ["gym-CartPole-v1 is a config of neuroevo evolve, not a dataset"]),
    ("reinforce-cars", ["reinforce-cars is a config of neuroevo reinforce, not a dataset"]),
    ("cars-qd", ["cars-qd is a config of neuroevo evolve"]),
])
def test_unknown_datasets_get_a_suggestion_and_only_datasets_are_listed(cli, name, fragments):
    line = assert_user_error(cli("train", name), *fragments)
    if name in ("cars", "walkers"):
        return
    known = line.split("known: " if "known: " in line else "datasets: ")[1].rstrip(")")
    known = set(known.split(", "))
    assert {"mnist", "fruit", "cifar10-cnn"} <= known
    assert not {n for n in known if n.startswith(("gym", "reinforce", "cars", "walkers",
                                                  "compare"))}, known


def test_epochs_0_is_refused_instead_of_saving_an_untrained_model(tmp_path, cli):
    assert_user_error(cli("train", "fruit", "--epochs", "0", "--out", str(tmp_path / "a")),
                      "with --epochs 0: train.epochs: must be >= 1 (got 0)")
    assert_user_error(cli("train", "fruit", "--set", "train.epochs=0", "--out",
                          str(tmp_path / "b")), "train.epochs: must be >= 1")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_evaluate_of_a_policy_says_to_replay_it(tmp_path, cli):
    from evo.policy_file import save_policy
    from evo.rollout import PolicyConfig, make_policy
    from evo.tasks import CarsConfig

    net = make_policy(7, 2, PolicyConfig())
    save_policy(tmp_path / "best.npz", net, task="cars", task_config=CarsConfig(),
                policy=PolicyConfig(), fitness=1.0, generation=3)
    line = assert_user_error(cli("evaluate", str(tmp_path / "best.npz")),
                             "a policy of cars", "not an image model",
                             f"neuroevo replay {tmp_path / 'best.npz'}")
    assert "--dataset" not in line
