"""``neuroevo reinforce TASK``: a quick run writes its files, a folder holding a run is
never overwritten without --force, --resume continues (and Ctrl-C leaves a run to resume),
and bad input is one line on stderr with exit status 2."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest

from common.files import read_npz
from nn.io import load_model
from tests.conftest import REPO, assert_user_error

# a tiny cars run: one procedural track, 2 s episodes, two cars (240 agent-steps a round)
CARS = ["--quiet", "--set", "total_steps=400", "--set", "pg.steps=200", "--set",
        "pg.agents=2", "--set", "cars.tracks=[]", "--set", "cars.track=procedural:3:0.5",
        "--set", "cars.world.max_time=2", "--set", "pg.value_hidden=[8]",
        "--set", "pg.minibatch=128"]
WALKERS = ["--quiet", "--set", "total_steps=300", "--set", "pg.steps=200", "--set",
           "pg.agents=2", "--set", "walkers.world.max_time=1", "--set",
           "pg.value_hidden=[8]", "--set", "pg.minibatch=128"]
FILES = ("returns.csv", "returns.png", "best.npz", "config.yaml", "reinforce-checkpoint.npz")


def cli(capsys, *args):
    """``neuroevo ARGS`` in this process (what run_cli gives, without a Python start)."""
    from neuroevo.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)


def rows(out):
    with open(out / "returns.csv", newline="") as f:
        return list(csv.DictReader(f))


def without_seconds(table):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in table]


@pytest.fixture(scope="module")
def cars_run(tmp_path_factory):
    """One quick cars run (made in-process, once for the module)."""
    from neuroevo.cli import main

    out = tmp_path_factory.mktemp("cli") / "cars"
    assert main(["reinforce", "cars", "--out", str(out), "--seed", "3", *CARS]) == 0
    return out


def test_a_quick_run_writes_its_files(cars_run, capsys):
    out = cars_run
    for name in FILES:
        assert (out / name).is_file(), name
    table = rows(out)
    assert len(table) == 2 and int(table[-1]["env_steps"]) == 480  # two rounds of 240
    assert {"laps_mean", "return_mean", "approx_kl", "explained_variance"} <= set(table[0])
    from common.config import read_yaml

    cfg = read_yaml(out / "config.yaml")
    assert cfg["task"] == "cars" and cfg["seed"] == 3 and cfg["total_steps"] == 400
    assert cfg["cars"]["tracks"] == [] and cfg["pg"]["agents"] == 2
    assert cfg["policy"]["hidden"] == [8]  # configs/reinforce-cars.yaml's network
    _, meta = load_model(out / "best.npz")
    assert meta["kind"] == "policy" and meta["task"] == "cars" and meta["trained_by"] == "ppo"
    rep = cli(capsys, "replay", out / "best.npz", "--json", "--headless")
    assert rep.returncode == 0, rep.stderr
    assert 0 < json.loads(rep.stdout)["time"] <= 2.0


def test_the_summary_lines(tmp_path, capsys):
    out = tmp_path / "w"
    proc = cli(capsys, "reinforce", "walkers", "--out", out, "--algorithm", "reinforce",
               *WALKERS)
    assert proc.returncode == 0, proc.stderr
    assert "learning walkers with reinforce: 2 agents" in proc.stderr
    last = rows(out)[-1]
    m = re.search(r"iterations: (\d+)  steps: ([\d,]+)  mean return: (\S+)", proc.stdout)
    assert m and int(m.group(1)) == int(last["iteration"])
    assert int(m.group(2).replace(",", "")) == int(last["env_steps"])
    assert float(m.group(3)) == pytest.approx(float(last["return_mean"]), abs=5e-4)
    assert f"best: {out / 'best.npz'}" in proc.stdout
    assert load_model(out / "best.npz")[1]["trained_by"] == "reinforce"
    assert all(float(r["clip_frac"]) == 0.0 for r in rows(out))  # no ratio clipping there


def test_a_folder_holding_a_run_is_refused_unless_force(cars_run, tmp_path, capsys):
    out = tmp_path / "run"
    first = cli(capsys, "reinforce", "cars", "--out", out, *CARS)
    assert first.returncode == 0, first.stderr
    before = (out / "returns.csv").read_bytes()
    again = cli(capsys, "reinforce", "cars", "--out", out, *CARS)
    assert_user_error(again, "already holds a run", "--resume", "--force")
    assert (out / "returns.csv").read_bytes() == before  # untouched
    # another seed with --force replaces it (the same files, new numbers)
    forced = cli(capsys, "reinforce", "cars", "--out", out, "--force", "--seed", "3", *CARS)
    assert forced.returncode == 0, forced.stderr
    assert without_seconds(rows(out)) == without_seconds(rows(cars_run))
    assert without_seconds(rows(out)) != without_seconds(
        list(csv.DictReader(before.decode().splitlines())))


def test_resume_continues_to_a_bigger_total(cars_run, tmp_path, capsys):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(cars_run, out)
    done = rows(out)
    res = cli(capsys, "reinforce", "cars", "--resume", out, "--steps", "700", "--quiet")
    assert res.returncode == 0, res.stderr
    now = rows(out)
    assert len(now) == 3 and int(now[-1]["env_steps"]) == 720
    assert now[:2] == done  # the finished iterations stay as they were, seconds and all
    arrays, meta = read_npz(out / "reinforce-checkpoint.npz", "checkpoint", "", ValueError)
    assert meta["iteration"] == 3 and meta["env_steps"] == 720 and len(arrays["rows"]) == 3
    # the same three iterations as a run to 700 steps from the start?  Not with the
    # learning rate annealed over total_steps; but the first two rows' episodes were
    # collected by the same policies, so their returns agree
    ref = cli(capsys, "reinforce", "cars", "--out", tmp_path / "ref", "--seed", "3",
              *CARS, "--set", "total_steps=700")
    assert ref.returncode == 0, ref.stderr
    assert rows(tmp_path / "ref")[0]["return_mean"] == now[0]["return_mean"]
    # a total already reached: nothing more runs, and it says so
    res = cli(capsys, "reinforce", "cars", "--resume", out, "--steps", "500", "--quiet")
    assert res.returncode == 0, res.stderr
    assert "already has its 720 steps" in res.stderr and rows(out) == now


@pytest.mark.parametrize("flag", [["--seed", "4"], ["--set", "pg.lr=0.01"], ["--force"],
                                  ["--algorithm", "reinforce"], ["--out", "elsewhere"]])
def test_resume_refuses_what_would_change_the_run(cars_run, flag, capsys):
    before = (cars_run / "returns.csv").read_bytes()
    proc = cli(capsys, "reinforce", "cars", "--resume", cars_run, *flag)
    assert_user_error(proc, flag[0], "only --steps and --time-limit may change")
    assert (cars_run / "returns.csv").read_bytes() == before


def test_resume_of_something_else_is_refused(cars_run, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_user_error(cli(capsys, "reinforce", "cars", "--resume", empty),
                      "no run of neuroevo reinforce to resume", str(empty))
    assert_user_error(cli(capsys, "reinforce", "cars", "--resume", tmp_path / "missing"),
                      "no run of neuroevo reinforce to resume")
    # an evolution run's folder (checkpoint.npz, best.npz, fitness.csv, ...)
    evo = tmp_path / "evolved"
    proc = cli(capsys, "evolve", "walkers", "--generations", "1", "--population", "4",
               "--set", "walkers.world.max_time=0.5", "--out", evo, "--headless", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert (evo / "checkpoint.npz").is_file()
    assert_user_error(cli(capsys, "reinforce", "walkers", "--resume", evo),
                      "no run of neuroevo reinforce to resume")
    # a reinforce run of another task
    assert_user_error(cli(capsys, "reinforce", "walkers", "--resume", cars_run),
                      "learns cars, not walkers")
    # a damaged checkpoint
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "reinforce-checkpoint.npz").write_bytes(b"not a zip archive")
    assert_user_error(cli(capsys, "reinforce", "cars", "--resume", bad), str(bad))


@pytest.mark.parametrize("args,fragments", [
    (["--set", "pg.learning_rate=0.1"], ["pg.learning_rate", "unknown key"]),
    (["--set", "pg.agents=0"], ["agents", "must be >= 1"]),
    (["--set", "pg.lr=-0.001"], ["lr", "must be > 0"]),
    (["--set", "pg.algorithm=a2c"], ["algorithm", "ppo, reinforce"]),
    (["--set", "pg.gamma=1.5"], ["gamma"]),
    (["--set", "pg.clip=0"], ["clip"]),
    (["--steps", "0"], ["--steps must be >= 1"]),
    (["--steps", "-5"], ["--steps must be >= 1"]),
    (["--set", "total_steps=0"], ["total_steps", "must be >= 1"]),
    (["--set", "cars.track=procedural:x"], ["procedural:x"]),
    (["--set", "gym.stall_steps=100"], ["gym.stall_steps", "evolution only"]),
    (["--set", "gym.reward_min=-1"], ["gym.reward_min", "evolution only"]),
    (["--algorithm", "a2c"], ["--algorithm", "'a2c'"]),
    (["--steps", "many"], ["--steps", "'many'"]),
])
def test_bad_input_is_one_line_and_exit_2(args, fragments, tmp_path, capsys):
    out = tmp_path / "run"
    proc = cli(capsys, "reinforce", "cars", "--out", out, "--quiet", *args)
    assert_user_error(proc, *fragments)
    assert not out.exists()  # nothing written for a run that never started


@pytest.mark.parametrize("task,fragments", [
    ("car", ["invalid choice: 'car'", "did you mean 'cars'?"]),
    ("cartpole", ["invalid choice: 'cartpole'"]),
])
def test_unknown_tasks(task, fragments, capsys):
    assert_user_error(cli(capsys, "reinforce", task), *fragments)


def test_unknown_gym_environment(tmp_path, capsys):
    pytest.importorskip("gymnasium", reason="the gym extra: pip install -e '.[gym]'")
    proc = cli(capsys, "reinforce", "gym:NoSuchEnv-v9", "--out", tmp_path / "x", "--quiet")
    assert_user_error(proc, "NoSuchEnv-v9")
    assert not (tmp_path / "x").exists()


def test_a_config_of_another_task_is_refused(tmp_path, capsys):
    proc = cli(capsys, "reinforce", "cars", "--config", REPO / "configs" /
               "reinforce-walkers.yaml", "--out", tmp_path / "x")
    assert_user_error(proc, "task is 'walkers'", "'cars'")


@pytest.mark.parametrize("env_id,hidden,discrete", [("CartPole-v1", [8], True),
                                                    ("Pendulum-v1", [64, 64], False)])
def test_gym_runs_pick_their_config_and_replay(env_id, hidden, discrete, tmp_path, capsys):
    # CartPole-v1 has configs/reinforce-CartPole-v1.yaml; Pendulum-v1 (Box actions: a
    # Gaussian policy) gets configs/reinforce-gym.yaml with the task set
    pytest.importorskip("gymnasium", reason="the gym extra: pip install -e '.[gym]'")
    out = tmp_path / "run"
    proc = cli(capsys, "reinforce", f"gym:{env_id}", "--out", out, "--quiet", "--set",
               "total_steps=300", "--set", "pg.steps=300", "--set", "pg.agents=2",
               "--set", "pg.value_hidden=[8]", "--set", "pg.epochs=2")
    assert proc.returncode == 0, proc.stderr
    for name in FILES:
        assert (out / name).is_file(), name
    from common.config import read_yaml

    cfg = read_yaml(out / "config.yaml")
    assert cfg["task"] == f"gym:{env_id}" and cfg["policy"]["hidden"] == hidden
    net, meta = load_model(out / "best.npz")
    assert meta["task"] == f"gym:{env_id}" and len(meta["obs_mean"]) == net.n_inputs
    assert meta["policy"]["output"] == ("identity" if discrete else "tanh")
    rep = cli(capsys, "replay", out / "best.npz", "--json", "--headless", "--episodes", "2")
    assert rep.returncode == 0, rep.stderr
    got = json.loads(rep.stdout)
    assert got["env"] == env_id and got["episodes"] == 2 and len(got["returns"]) == 2
    assert np.isfinite(got["mean_return"])


def test_help_names_the_algorithms(capsys):
    from neuroevo.cli import main

    with pytest.raises(SystemExit) as e:
        main(["reinforce", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "PPO" in text and "REINFORCE" in text and "--resume" in text


def test_ctrl_c_checkpoints_exits_130_and_resumes(tmp_path, capsys):
    """A run stopped by Ctrl-C after some iterations, resumed to a total: the numbers of
    an uninterrupted run to that total (no learning-rate schedule, which depends on it)."""
    out = tmp_path / "run"
    args = ["--set", "walkers.world.max_time=1", "--set", "pg.agents=4", "--set",
            "pg.steps=200", "--set", "pg.value_hidden=[8]", "--set", "pg.minibatch=128",
            "--set", "pg.anneal_lr=false", "--seed", "2", "--quiet"]
    proc = subprocess.Popen([sys.executable, "-m", "neuroevo", "reinforce", "walkers",
                             "--steps", "10000000", "--out", str(out), *args], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    table = out / "returns.csv"
    deadline = time.time() + 120
    while not (table.exists() and len(table.read_text().splitlines()) >= 2) and \
            time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    m = re.search(r"interrupted after iteration (\d+); resume with --resume (\S+)", err)
    assert m and m.group(2) == str(out), err
    done = rows(out)
    assert int(m.group(1)) == len(done) >= 1
    _, meta = read_npz(out / "reinforce-checkpoint.npz", "checkpoint", "", ValueError)
    assert meta["iteration"] == len(done)
    total = int(done[-1]["env_steps"]) + 1  # one more iteration
    res = cli(capsys, "reinforce", "walkers", "--resume", out, "--steps", total, "--quiet")
    assert res.returncode == 0, res.stderr
    assert len(rows(out)) == len(done) + 1
    ref = cli(capsys, "reinforce", "walkers", "--out", tmp_path / "ref", "--steps", total,
              *args)
    assert ref.returncode == 0, ref.stderr
    assert without_seconds(rows(out)) == without_seconds(rows(tmp_path / "ref"))
    assert load_model(out / "best.npz")[0].theta.tobytes() == \
        load_model(tmp_path / "ref" / "best.npz")[0].theta.tobytes()
