"""The trainer: learning, determinism, divergence, files."""

import csv
import math

import numpy as np

from nn.callbacks import MetricsCSV
from nn.data import load_dataset
from nn.network import Network
from nn.train import TrainConfig, Trainer, loss_and_accuracy, one_hot, split_validation


def fruit_run(tmp_path=None, **cfg):
    data = load_dataset("fruit", seed=1)
    net = Network([2, 8, 2], ["tanh", "softmax"], rng=np.random.default_rng(0))
    base = dict(epochs=15, batch_size=16, lr=0.3, l2=0.0, decay=0.0)
    base.update(cfg)
    callbacks = [MetricsCSV(tmp_path)] if tmp_path is not None else []
    trainer = Trainer(net, TrainConfig(**base), callbacks=callbacks, progress=False)
    result = trainer.fit(data.x_train, data.y_train, data.x_test, data.y_test)
    return net, result, data


def test_learns_the_linear_fruit_set():
    net, result, data = fruit_run()
    assert result.status == "completed" and len(result.history) == 15
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"] / 2
    _, acc = loss_and_accuracy(net, data.x_test, data.y_test)
    assert acc >= 0.95


def test_adam_learns_too():
    net, result, data = fruit_run(optimizer="adam", lr=0.02)
    assert loss_and_accuracy(net, data.x_test, data.y_test)[1] >= 0.95


def test_same_seed_identical_metrics(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, r1, _ = fruit_run(tmp_path / "a")
    net2, r2, _ = fruit_run(tmp_path / "b")
    a, b = (tmp_path / d / "metrics.csv" for d in "ab")
    assert a.read_bytes() == b.read_bytes()
    rows = list(csv.DictReader(open(tmp_path / "a" / "metrics.csv")))
    assert len(rows) == 15 and "seconds" not in rows[0]  # timings live in timing.csv
    timing = list(csv.DictReader(open(tmp_path / "a" / "timing.csv")))
    assert len(timing) == 15 and float(timing[0]["seconds"]) > 0
    # epochs count from 1, as people count them (and as generations do in fitness.csv)
    assert [int(r["epoch"]) for r in rows] == [int(r["epoch"]) for r in timing] == \
        list(range(1, 16)) == [h["epoch"] for h in r1.history]
    _, r3, _ = fruit_run(seed=1)
    assert [h["train_loss"] for h in r3.history] != [h["train_loss"] for h in r1.history]


def test_dropout_runs_are_seeded_and_still_learn():
    net1, r1, data = fruit_run(dropout=0.3, epochs=25)
    net2, r2, _ = fruit_run(dropout=0.3, epochs=25)
    assert np.array_equal(net1.theta, net2.theta)
    _, plain, _ = fruit_run(epochs=25)
    assert [h["train_loss"] for h in r1.history] != [h["train_loss"] for h in plain.history]
    assert loss_and_accuracy(net1, data.x_test, data.y_test)[1] >= 0.9


def test_divergence_stops_and_keeps_last_good_model():
    data = load_dataset("fruit", seed=1)
    net = Network([2, 8, 2], ["tanh", "identity"], loss="mse", rng=np.random.default_rng(0))
    net2 = net.clone()
    # One calm epoch to get a good model, then a learning rate that explodes.
    Trainer(net2, TrainConfig(epochs=1, lr=0.1, l2=0, decay=0), progress=False).fit(
        data.x_train, data.y_train)
    good = net2.get_params()
    trainer = Trainer(net2, TrainConfig(epochs=5, lr=50.0, momentum=0.9, l2=0, decay=0),
                      progress=False)
    result = trainer.fit(data.x_train, data.y_train)
    assert result.status == "diverged"
    assert "learning rate" in result.message and "\n" not in result.message
    np.testing.assert_array_equal(net2.theta, good)


def test_validation_split_is_seeded_and_disjoint():
    x = np.arange(100, dtype=np.float32)[:, None]
    y = np.arange(100)
    a = split_validation(x, y, 0.2, np.random.default_rng(3))
    b = split_validation(x, y, 0.2, np.random.default_rng(3))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert len(a[2]) == 20 and len(a[0]) == 80
    assert set(a[1]).isdisjoint(set(a[3]))
    assert len(split_validation(x, y, 0.0, np.random.default_rng(0))[2]) == 0


def test_one_hot_and_evaluate_known_answer():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    net = Network([2, 2], ["softmax"], rng=np.random.default_rng(0))
    net.layers[0].W[...] = [[1, 0], [0, 1]]  # predicts the larger feature
    x = np.array([[1, 0], [0, 1], [1, 0], [0.2, 0.1]], np.float32)
    y = np.array([0, 1, 1, 0])
    loss, acc = loss_and_accuracy(net, x, y)
    assert acc == 0.75
    p = net.predict_proba(x)
    assert math.isclose(loss, -np.mean(np.log(p[np.arange(4), y])), rel_tol=1e-5)
