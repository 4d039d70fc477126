"""``neuroevo train`` checkpoints every epoch: a run killed at any moment continues with
``--resume DIR`` to the same metrics.csv and model.npz as an uninterrupted run; a new run
never overwrites an old one without ``--force``; damaged checkpoints are one line, exit 2."""

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nn.callbacks import CHECKPOINT, read_checkpoint
from tests.conftest import REPO, assert_user_error

_ENV = os.environ.get("NEUROEVO_DATA", "")
SHARED = Path(_ENV.split(os.pathsep)[0]) if _ENV else REPO.parent / "shared" / "datasets"

# Small, quick runs (a few ms an epoch) that use everything a resumed run must restore:
# the trainer's generator (shuffles, dropout masks, augmentations), the optimizer's buffers
# and counters, the learning-rate decay, the input standardisation and the seeded split.
# name: (arguments, epochs)
CASES = {
    "adam-dropout": (["fruit-curved", "--seed", "4", "--set", "train.dropout=0.2",
                      "--set", "train.decay=0.05", "--set", "data.options.n_train=1500"], 80),
    "sgd-decay-standardize": (["fruit", "--set", "train.dropout=0.2", "--set", "train.l2=0.1",
                               "--set", "model.input_norm=standardize", "--set",
                               "model.hidden=[6]", "--set", "data.options.n_train=1500"], 80),
    # images: augmentation draws from the trainer's generator too (real data: skipped
    # where they are missing, which fails the test in CI)
    "mnist-augment": (["mnist", "--data-dir", str(SHARED), "--set", "data.options.n_train=2000",
                       "--set", "data.augment.enabled=true", "--set", "model.hidden=[32]",
                       "--set", "model.input_norm=standardize"], 16),
}


def cli_env():
    return {**os.environ, "PYTHONPATH": str(REPO)}


def rows(path):
    return list(csv.DictReader(open(path))) if path.exists() else []


def model_arrays(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def assert_same_model(a, b):
    ma, mb = model_arrays(a), model_arrays(b)
    assert set(ma) == set(mb)
    for k in ma:
        assert ma[k].dtype == mb[k].dtype and np.array_equal(ma[k], mb[k]), k
    assert json.loads(str(ma["meta"])) == json.loads(str(mb["meta"]))


@pytest.mark.parametrize("case,kill_after", [("adam-dropout", 2), ("sgd-decay-standardize", 11),
                                             ("mnist-augment", 3)])
def test_sigkill_then_resume_gives_identical_metrics_and_model(tmp_path, cli, case,
                                                               kill_after):
    args, epochs = CASES[case]
    if args[0] == "mnist" and not (SHARED / "mnist").exists():
        pytest.skip(f"real data not found: {SHARED / 'mnist'}")
    args = [*args, "--epochs", str(epochs)]
    ref = cli("train", *args, "--out", str(tmp_path / "ref"), "--quiet")
    assert ref.returncode == 0, ref.stderr
    assert len(rows(tmp_path / "ref" / "metrics.csv")) == epochs

    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "neuroevo", "train", *args, "--out",
                             str(out), "--quiet"], cwd=REPO, env=cli_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if (out / CHECKPOINT).exists() and len(rows(out / "metrics.csv")) >= kill_after:
            break
        time.sleep(0.005)
    time.sleep(random.Random(kill_after).uniform(0, 0.02))  # anywhere in the next epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    # the kill landed mid-run: the process died of it, with epochs still to go
    assert proc.returncode == -signal.SIGKILL
    written = len(rows(out / "metrics.csv"))
    _, meta = read_checkpoint(out / CHECKPOINT)
    assert kill_after <= written < epochs and meta["epoch"] < epochs, (written, meta["epoch"])
    assert meta["status"] == "running" and meta["epoch"] in (written - 1, written)
    assert not (out / "model.npz").exists()  # only a finished run has one

    data_dir = args[args.index("--data-dir"):][:2] if "--data-dir" in args else []
    res = cli("train", args[0], "--resume", str(out), *data_dir, "--quiet")
    assert res.returncode == 0, res.stderr
    assert f"resuming at epoch {meta['epoch'] + 1}/{epochs}" in res.stderr
    assert (out / "metrics.csv").read_bytes() == (tmp_path / "ref" / "metrics.csv").read_bytes()
    assert_same_model(out / "model.npz", tmp_path / "ref" / "model.npz")
    timing = rows(out / "timing.csv")  # wall time differs, its epochs do not
    assert [int(r["epoch"]) for r in timing] == list(range(1, epochs + 1))
    assert res.stdout.splitlines()[-1] == ref.stdout.splitlines()[-1]  # test accuracy
    _, meta = read_checkpoint(out / CHECKPOINT)
    assert meta["status"] == "completed" and meta["epoch"] == epochs


def test_a_longer_total_continues_a_finished_run_like_a_longer_run(tmp_path, cli):
    base = ["fruit", "--set", "train.dropout=0.2", "--quiet"]
    assert cli("train", *base, "--epochs", "9", "--out", str(tmp_path / "ref")).returncode == 0
    run = tmp_path / "run"
    assert cli("train", *base, "--epochs", "4", "--out", str(run)).returncode == 0
    res = cli("train", "fruit", "--resume", str(run), "--epochs", "9", "--quiet")
    assert res.returncode == 0, res.stderr
    assert (run / "metrics.csv").read_bytes() == (tmp_path / "ref" / "metrics.csv").read_bytes()
    assert_same_model(run / "model.npz", tmp_path / "ref" / "model.npz")
    assert "epochs: 9" in (run / "config.yaml").read_text()


def test_resuming_a_finished_run_says_so_and_rewrites_only_model_and_pictures(tmp_path, cli):
    run = tmp_path / "run"
    first = cli("train", "fruit", "--epochs", "3", "--out", str(run), "--quiet")
    assert first.returncode == 0, first.stderr
    keep = {name: ((run / name).read_bytes(), (run / name).stat().st_mtime_ns)
            for name in ("metrics.csv", "timing.csv", CHECKPOINT, "config.yaml")}
    model = model_arrays(run / "model.npz")
    for name in ("model.npz", "curves.png", "boundary.png", "report.md"):
        (run / name).unlink()
    res = cli("train", "fruit", "--resume", str(run), "--quiet")
    assert res.returncode == 0, res.stderr
    assert "already finished its 3 epochs" in res.stderr
    assert res.stdout.splitlines()[-1] == first.stdout.splitlines()[-1]  # test accuracy
    for name in ("model.npz", "curves.png", "boundary.png", "report.md"):
        assert (run / name).stat().st_size > 0, name
    for name, (data, mtime) in keep.items():
        assert (run / name).read_bytes() == data and (run / name).stat().st_mtime_ns == mtime
    again = model_arrays(run / "model.npz")
    assert all(np.array_equal(model[k], again[k]) for k in model) and set(model) == set(again)


def test_resume_refuses_other_options_datasets_and_totals(tmp_path, cli):
    run = tmp_path / "run"
    assert cli("train", "fruit", "--epochs", "3", "--out", str(run), "--quiet").returncode == 0
    before = (run / CHECKPOINT).read_bytes()
    for extra, frag in ((["--set", "train.lr=0.1"], "--set"), (["--seed", "2"], "--seed"),
                        (["--out", str(tmp_path / "x")], "--out"), (["--force"], "--force"),
                        (["--config", "configs/fruit.yaml"], "--config")):
        assert_user_error(cli("train", "fruit", "--resume", str(run), *extra), frag,
                          "only --epochs")
    assert_user_error(cli("train", "fruit-curved", "--resume", str(run)),
                      "trains on fruit, not fruit-curved")
    assert_user_error(cli("train", "fruit", "--resume", str(run), "--epochs", "2"),
                      "already finished 3 epochs")
    assert_user_error(cli("train", "fruit", "--resume", str(tmp_path / "nothing")),
                      "no training run to resume")
    assert (run / CHECKPOINT).read_bytes() == before
    assert not (tmp_path / "x").exists()


def _rewrite(path, **changes):
    """The checkpoint at ``path`` with its metadata changed."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    meta.update(changes)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def test_bad_checkpoints_are_one_line_exit_2(tmp_path, cli):
    good = tmp_path / "good"
    assert cli("train", "fruit", "--epochs", "2", "--out", str(good), "--quiet").returncode == 0
    content = (good / CHECKPOINT).read_bytes()

    def broken(name, data=None):
        d = tmp_path / name
        d.mkdir()
        (d / CHECKPOINT).write_bytes(content if data is None else data)
        return d

    cases = [(broken("junk", b"not a checkpoint at all"), "not a training checkpoint"),
             (broken("truncated", content[: len(content) // 2]), "unreadable training checkpoint"),
             (broken("empty", b""), "not a training checkpoint")]
    d = broken("version")
    _rewrite(d / CHECKPOINT, version=99)
    cases.append((d, "version 99 is not supported"))
    d = broken("foreign")
    _rewrite(d / CHECKPOINT, format="something-else")
    cases.append((d, "not a training checkpoint"))
    d = broken("pickled")
    np.savez(d / CHECKPOINT, meta=np.array([{"a": 1}], dtype=object))
    cases.append((d, "never loaded"))
    d = broken("mismatch")
    with np.load(d / CHECKPOINT, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["theta"] = arrays["theta"][:-1]
    np.savez(d / CHECKPOINT, **arrays)
    cases.append((d, "does not fit its run"))
    d = broken("bad-config")
    _rewrite(d / CHECKPOINT, config="train: {lr: -1}")
    cases.append((d, "config is not valid"))
    d = broken("other-data")
    _rewrite(d / CHECKPOINT, data={"n_train": 1, "n_val": 0, "crc32": 0})
    cases.append((d, "training data differ"))
    for folder, frag in cases:
        assert_user_error(cli("train", "fruit", "--resume", str(folder), "--quiet"),
                          frag, str(folder))


def test_out_holding_a_run_is_refused_and_force_replaces_it(tmp_path, cli):
    run = tmp_path / "run"
    assert cli("train", "fruit", "--epochs", "3", "--out", str(run), "--quiet").returncode == 0
    metrics = (run / "metrics.csv").read_bytes()
    line = assert_user_error(cli("train", "fruit", "--epochs", "2", "--out", str(run)),
                             "already holds a run", f"--resume {run}", "--force")
    assert str(run) in line
    assert (run / "metrics.csv").read_bytes() == metrics  # untouched
    res = cli("train", "fruit", "--epochs", "2", "--out", str(run), "--force", "--quiet")
    assert res.returncode == 0, res.stderr
    assert len(rows(run / "metrics.csv")) == 2
    _, meta = read_checkpoint(run / CHECKPOINT)
    assert meta["epoch"] == 2 and meta["status"] == "completed"


def test_a_diverged_run_records_it_and_is_not_resumed(tmp_path, cli):
    out = tmp_path / "run"
    proc = cli("train", "fruit", "--set", "model.output_activation=identity", "--set",
               "model.loss=mse", "--set", "train.lr=1000", "--out", str(out), "--quiet")
    assert_user_error(proc, "diverged")
    _, meta = read_checkpoint(out / CHECKPOINT)
    assert meta["status"] == "diverged" and "learning rate" in meta["message"]
    assert_user_error(cli("train", "fruit", "--resume", str(out)), "diverged")


def test_every_train_option_has_a_help_text(cli):
    from neuroevo.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    train = sub.choices["train"]
    for action in train._actions:
        assert action.help, action.option_strings or action.dest
    text = cli("train", "--help").stdout
    assert "--resume DIR" in text and "--force" in text
