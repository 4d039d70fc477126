"""The trainer: learning, determinism, divergence, files."""

import csv
import json
import math

import numpy as np
import pytest

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


def _split_fit(cfg: dict, first: int):
    """Train ``first`` epochs, checkpoint through a .npz, train the rest in a new trainer
    (on a differently initialised network): ``(net, history)``."""
    import io

    data = load_dataset("fruit-curved", seed=1)
    full = TrainConfig(**cfg)
    net = Network([2, 12, 12, 2], ["relu", "relu", "softmax"], rng=np.random.default_rng(0))
    part = Trainer(net, TrainConfig(**{**cfg, "epochs": first}), progress=False)
    part.fit(data.x_train, data.y_train, data.x_test, data.y_test)
    buf = io.BytesIO()
    np.savez(buf, **part.state_dict())
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        state = {k: z[k] for k in z.files}
    net2 = Network([2, 12, 12, 2], ["relu", "relu", "softmax"], rng=np.random.default_rng(9))
    rest = Trainer(net2, full, progress=False)
    rest.load_state_dict(state)
    assert rest.epoch == first and len(rest.history) == first
    result = rest.fit(data.x_train, data.y_train, data.x_test, data.y_test)
    assert result.status == "completed"
    return net2, result.history


def _deterministic(history):
    return [{k: v for k, v in h.items() if k not in ("seconds", "samples_per_second")}
            for h in history]


@pytest.mark.parametrize("cfg", [
    dict(optimizer="adam", lr=0.01, dropout=0.2, l2=0.1, decay=0.2),
    dict(optimizer="sgd", lr=0.1, momentum=0.9, dropout=0.3, l2=0.2, decay=0.3),
], ids=["adam", "sgd"])
def test_state_dict_continues_a_run_bit_for_bit(cfg):
    cfg = dict(cfg, epochs=7, batch_size=16, seed=5)
    data = load_dataset("fruit-curved", seed=1)
    net = Network([2, 12, 12, 2], ["relu", "relu", "softmax"], rng=np.random.default_rng(0))
    ref = Trainer(net, TrainConfig(**cfg), progress=False).fit(
        data.x_train, data.y_train, data.x_test, data.y_test)
    for first in (0, 3):
        net2, history = _split_fit(cfg, first)
        np.testing.assert_array_equal(net2.theta, net.theta)
        assert _deterministic(history) == _deterministic(ref.history)
        assert [h["epoch"] for h in history] == list(range(1, 8))


def test_state_dict_holds_the_input_norm_and_refuses_another_run():
    net = Network([2, 4, 2], ["tanh", "softmax"], rng=np.random.default_rng(0))
    net.set_input_norm([1.0, 2.0], [0.5, 0.25])
    trainer = Trainer(net, TrainConfig(epochs=1, optimizer="adam", lr=0.01), progress=False)
    state = trainer.state_dict()
    other = Network([2, 4, 2], ["tanh", "softmax"], rng=np.random.default_rng(1))
    t2 = Trainer(other, TrainConfig(epochs=1, optimizer="adam", lr=0.01), progress=False)
    t2.load_state_dict(state)
    np.testing.assert_array_equal(other.in_shift, [1.0, 2.0])
    np.testing.assert_array_equal(other.theta, net.theta)
    with pytest.raises(ValueError, match="optimizer"):
        Trainer(other, TrainConfig(optimizer="sgd"), progress=False).load_state_dict(state)
    small = Network([2, 3, 2], ["tanh", "softmax"])
    with pytest.raises(ValueError, match="parameters"):
        Trainer(small, TrainConfig(optimizer="adam"), progress=False).load_state_dict(state)
    broken = dict(state, trainer=np.array("{not json"))
    with pytest.raises(ValueError, match="not a trainer state"):
        t2.load_state_dict(broken)
    meta = json.loads(str(state["trainer"]))
    meta["rng"]["state"]["state"] = -1
    with pytest.raises(ValueError, match="random generator"):
        t2.load_state_dict(dict(state, trainer=np.array(json.dumps(meta))))
    # the PCG64 state's integers exceed 64 bits and survive the JSON exactly
    assert json.loads(str(state["trainer"]))["rng"] == trainer.rng.bit_generator.state


def test_checkpoint_callback_keeps_the_last_finished_epoch_on_interrupt(tmp_path):
    from nn.callbacks import MetricsCSV, TrainCheckpoint, read_checkpoint

    class StopAfter2(MetricsCSV):
        def on_epoch_end(self, trainer, record):
            super().on_epoch_end(trainer, record)
            if record["epoch"] == 2:
                trainer.stop.request()  # as a first Ctrl-C would
                self.theta_after_2 = trainer.net.get_params()

    data = load_dataset("fruit", seed=1)
    net = Network([2, 8, 2], ["tanh", "softmax"], rng=np.random.default_rng(0))
    stopper = StopAfter2(tmp_path)
    ckpt = TrainCheckpoint(tmp_path / "train-checkpoint.npz", {"config": "x: 1"})
    trainer = Trainer(net, TrainConfig(epochs=6, lr=0.3, dropout=0.2),
                      callbacks=[stopper, ckpt], progress=False)
    result = trainer.fit(data.x_train, data.y_train)
    assert result.status == "interrupted" and len(result.history) == 2
    arrays, meta = read_checkpoint(tmp_path / "train-checkpoint.npz")
    assert meta["status"] == "interrupted" and meta["epoch"] == 2
    assert meta["message"] == "interrupted during epoch 3" and meta["config"] == "x: 1"
    # the state of epoch 2's end, not the half-trained third epoch the network holds now
    np.testing.assert_array_equal(arrays["theta"], stopper.theta_after_2)
    assert not np.array_equal(net.theta, stopper.theta_after_2)
    assert arrays["history"].shape == (2, 8)
