"""``--time-limit`` and the run folder's lock, for ``evolve``, ``reinforce`` and ``train``.

A run stopped by its time limit ends after the generation (iteration, epoch) in progress,
checkpointed, exit 0 with a line naming ``--resume``; resumed, it gives what an
uninterrupted run gives.  The library tests drive the limit with an injected clock that a
reporter advances by a fixed "duration" per generation, so where the run stops is known
exactly; the command-line tests use ``--time-limit 0`` (stop after the first).  A folder a
live process writes is refused to a second one (one line, exit 2)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import numpy as np

from common.interrupt import TimeLimit
from common.lock import LOCK_FILE, RunLock
from evo.run import EvolutionRun, Reporter
from nn.callbacks import CHECKPOINT as TRAIN_CHECKPOINT
from nn.callbacks import read_checkpoint
from rl.run import ReinforceRun
from rl.run import Reporter as RLReporter
from tests.conftest import REPO, assert_user_error
from tests.evo.test_evolve import small_args, small_cfg
from tests.rl.test_run import small_cfg as rl_cfg
from tests.rl.test_run import table as rl_table


class Clock:
    """Seconds that pass only when a reporter says a generation took ``step`` of them."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        return self.now


class Ticking(Reporter, RLReporter):
    def __init__(self, clock: Clock):
        self.clock = clock

    def post_evaluate(self, run, row, result):
        self.clock.now += self.clock.step

    def post_iteration(self, run, row):
        self.clock.now += self.clock.step


def test_an_evolution_stopped_by_its_time_limit_resumes_to_the_uninterrupted_numbers(
        tmp_path):
    full = EvolutionRun(small_cfg(generations=5), tmp_path / "full")
    assert full.run() == "completed"
    clock = Clock(10.0)  # every generation "takes" 10 s
    part = EvolutionRun(small_cfg(generations=5), tmp_path / "part", [Ticking(clock)])
    part.time_limit = TimeLimit(25, clock=clock)
    assert part.run() == "time"
    assert part.generation == 3  # 30 s >= 25 s after the third
    assert EvolutionRun.resume(tmp_path / "part").generation == 3  # checkpointed
    resumed = EvolutionRun.resume(tmp_path / "part")
    assert resumed.run() == "completed" and resumed.generation == 5
    assert (tmp_path / "full" / "fitness.csv").read_bytes() == \
        (tmp_path / "part" / "fitness.csv").read_bytes()
    np.testing.assert_array_equal(full.strategy.best_params, resumed.strategy.best_params)


def test_a_time_limit_reached_in_the_last_generation_is_a_completed_run(tmp_path):
    clock = Clock(10.0)
    run = EvolutionRun(small_cfg(generations=2), tmp_path / "r", [Ticking(clock)])
    run.time_limit = TimeLimit(5, clock=clock)
    assert run.run() == "time" and run.generation == 1
    again = EvolutionRun.resume(tmp_path / "r", reporters=[Ticking(clock)])
    again.time_limit = TimeLimit(5, clock=clock)
    assert again.run() == "completed" and again.generation == 2


def test_reinforce_stopped_by_its_time_limit_resumes_to_the_uninterrupted_numbers(tmp_path):
    full = ReinforceRun(rl_cfg("walkers"), tmp_path / "full")
    assert full.run() == "completed"
    assert len(rl_table(tmp_path / "full")) >= 3
    clock = Clock(10.0)
    part = ReinforceRun(rl_cfg("walkers"), tmp_path / "part", [Ticking(clock)])
    part.time_limit = TimeLimit(15, clock=clock)
    assert part.run() == "time" and part.iteration == 2
    resumed = ReinforceRun.resume(tmp_path / "part")
    assert resumed.iteration == 2 and resumed.run() == "completed"
    assert rl_table(tmp_path / "part") == rl_table(tmp_path / "full")


def test_train_stopped_by_its_time_limit_is_resumable():
    from nn.data import load_dataset
    from nn.network import Network
    from nn.train import TrainConfig, Trainer

    data = load_dataset("fruit", seed=1)
    cfg = TrainConfig(epochs=6, batch_size=16, lr=0.3, dropout=0.2)

    def net():
        return Network([2, 8, 2], ["tanh", "softmax"], rng=np.random.default_rng(0))

    full = Trainer(net(), cfg, progress=False)
    full.fit(data.x_train, data.y_train)
    clock = Clock(10.0)

    class Tick:
        def on_train_begin(self, trainer): ...

        def on_epoch_end(self, trainer, record):
            clock.now += clock.step

        def on_train_end(self, trainer, result): ...

    part = Trainer(net(), cfg, callbacks=[Tick()], progress=False)
    part.time_limit = TimeLimit(25, clock=clock)
    result = part.fit(data.x_train, data.y_train)
    assert result.status == "time" and part.epoch == 3
    assert result.message == "the time limit of 25 s reached after epoch 3 of 6"
    rest = Trainer(net(), cfg, progress=False)
    rest.load_state_dict(part.state_dict())
    assert rest.fit(data.x_train, data.y_train).status == "completed"
    np.testing.assert_array_equal(rest.net.theta, full.net.theta)


def generations(path):
    return [int(r["generation"]) for r in csv.DictReader(open(path))]


def test_evolve_time_limit_stops_cleanly_and_resumes(tmp_path, cli):
    ref = cli("evolve", "cars", *small_args(tmp_path, "--generations", "3", "--out",
                                            str(tmp_path / "ref")))
    assert ref.returncode == 0, ref.stderr
    out = tmp_path / "run"
    res = cli("evolve", "cars", *small_args(tmp_path, "--generations", "3", "--time-limit",
                                            "0", "--out", str(out)))
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert (f"neuroevo: the time limit of 0 s reached after generation 1 of 3; resume with "
            f"--resume {out}") in res.stderr
    assert generations(out / "fitness.csv") == [1]
    assert not (out / LOCK_FILE).exists()  # released
    again = cli("evolve", "cars", "--resume", str(out), "--headless", "--quiet",
                "--time-limit", "3600")
    assert again.returncode == 0, again.stderr
    assert (out / "fitness.csv").read_bytes() == (tmp_path / "ref" / "fitness.csv").read_bytes()
    assert_user_error(cli("evolve", "cars", "--resume", str(out), "--time-limit", "-1"),
                      "--time-limit", ">= 0")


def test_reinforce_time_limit_stops_cleanly(tmp_path, cli):
    out = tmp_path / "run"
    res = cli("reinforce", "walkers", "--steps", "1500", "--set", "pg.steps=500",
              "--set", "pg.agents=4", "--set", "walkers.world.max_time=2.0", "--headless",
              "--quiet", "--time-limit", "0", "--out", str(out))
    assert res.returncode == 0, res.stderr
    first = list(csv.DictReader(open(out / "returns.csv")))
    assert len(first) == 1
    steps = int(first[0]["env_steps"])
    assert (f"neuroevo: the time limit of 0 s reached after iteration 1 ({steps:,} of 1,500 "
            f"steps); resume with --resume {out}") in res.stderr, res.stderr
    rest = cli("reinforce", "walkers", "--resume", str(out), "--headless", "--quiet")
    assert rest.returncode == 0, rest.stderr
    rows = list(csv.DictReader(open(out / "returns.csv")))
    assert len(rows) > 1 and int(rows[-1]["env_steps"]) >= 1500


def test_train_time_limit_stops_cleanly_and_resumes(tmp_path, cli):
    base = ["fruit", "--epochs", "4", "--quiet"]
    assert cli("train", *base, "--out", str(tmp_path / "ref")).returncode == 0
    out = tmp_path / "run"
    res = cli("train", *base, "--time-limit", "0", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "time limit of 0 s reached after epoch 1 of 4" in res.stderr
    assert f"resume with --resume {out}" in res.stderr
    assert read_checkpoint(out / TRAIN_CHECKPOINT)[1]["epoch"] == 1
    rest = cli("train", "fruit", "--resume", str(out), "--quiet")
    assert rest.returncode == 0, rest.stderr
    assert (out / "metrics.csv").read_bytes() == (tmp_path / "ref" / "metrics.csv").read_bytes()


HOLD = ("import sys; from common.lock import RunLock; lock = RunLock(sys.argv[1]).acquire(); "
        "print('locked', flush=True); sys.stdin.read()")


def test_a_run_folder_written_by_a_live_process_is_refused(tmp_path, cli):
    out = tmp_path / "run"
    done = cli("evolve", "cars", *small_args(tmp_path, "--generations", "1", "--out",
                                             str(out)))
    assert done.returncode == 0, done.stderr
    train = tmp_path / "train"
    assert cli("train", "fruit", "--epochs", "1", "--quiet", "--out",
               str(train)).returncode == 0
    holders = []
    try:
        for folder in (out, train, tmp_path / "new"):
            proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], cwd=REPO,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                    env={**os.environ, "PYTHONPATH": str(REPO)})
            assert proc.stdout.readline().strip() == "locked"
            holders.append(proc)
        pid = holders[0].pid
        assert_user_error(cli("evolve", "cars", "--resume", str(out), "--generations", "2",
                              "--headless", "--quiet"), str(out), f"process {pid}")
        assert_user_error(cli("evolve", "cars", *small_args(tmp_path, "--out", str(out),
                                                            "--force")), f"process {pid}")
        assert_user_error(cli("train", "fruit", "--resume", str(train), "--epochs", "2"),
                          f"process {holders[1].pid}")
        assert_user_error(cli("reinforce", "walkers", "--headless", "--quiet", "--out",
                              str(tmp_path / "new")), f"process {holders[2].pid}")
        assert generations(out / "fitness.csv") == [1]  # untouched
    finally:
        for proc in holders:
            proc.communicate("")
    # the holders gone (their lock files left behind, stale), the run goes on
    with RunLock(out):
        pass
    res = cli("evolve", "cars", "--resume", str(out), "--generations", "2", "--headless",
              "--quiet")
    assert res.returncode == 0, res.stderr
    assert generations(out / "fitness.csv") == [1, 2]
